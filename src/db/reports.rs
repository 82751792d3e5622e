//! The evidence report's figures, aggregated in the database: each query returns a handful of
//! numbers (or one row per piece of work or session for the classification), never the rows
//! of attendance, claims or feedback themselves.
//!
//! The SQL is written once with named parameters (`:provider`, `:from`...) and given each
//! backend's placeholders when run; the few functions that differ (whole days between two
//! times) are spelt per backend.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Double, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;

use super::opportunities::OpportunityRow;
use super::schema::opportunities;
use super::{parse_id, to_db_time, Backend, DbConnection};
use crate::domain::id::{ContractId, OpportunityId, OrganisationId, SessionId};
use crate::domain::opportunity::Opportunity;
use crate::error::AppError;

/// What a report covers: a provider's work, or the work under one contract, in a period
/// (`from` inclusive, `to` exclusive), judged at `at`.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub provider: OrganisationId,
    pub contract: Option<ContractId>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The evidence is judged at this moment (the period's end, or now if sooner).
    pub at: DateTime<Utc>,
    /// Now, for "overdue now" and "open now".
    pub now: DateTime<Utc>,
}

/// A bound value.
#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Date(NaiveDate),
    Time(NaiveDateTime),
}

impl Scope {
    fn value(&self, name: &str) -> Option<Value> {
        let start = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN);
        Some(match name {
            "provider" => Value::Text(self.provider.to_string()),
            "contract" => Value::Text(self.contract?.to_string()),
            "from" => Value::Date(self.from),
            "to" => Value::Date(self.to),
            "from_ts" => Value::Time(start(self.from)),
            "to_ts" => Value::Time(start(self.to)),
            "at" => Value::Time(to_db_time(self.at)),
            "today" => Value::Date(self.now.date_naive()),
            _ => return None,
        })
    }

    /// The work in the report: not a draft, with dates overlapping the period.
    fn work_cte(&self) -> String {
        format!(
            "work AS (SELECT id FROM opportunities WHERE organisation_id = :provider{} \
             AND status <> 'draft' AND (starts_on IS NULL OR starts_on < :to) \
             AND (ends_on IS NULL OR ends_on >= :from))",
            if self.contract.is_some() {
                " AND contract_id = :contract"
            } else {
                ""
            }
        )
    }

    /// Claims on the provider's work (under the contract, for a contract's report).
    fn claims_filter(&self) -> &'static str {
        if self.contract.is_some() {
            "c.organisation_id = :provider AND c.opportunity_id IN \
             (SELECT id FROM opportunities WHERE contract_id = :contract)"
        } else {
            "c.organisation_id = :provider"
        }
    }

    /// Feedback and evaluations about the provider: for a contract's report, those about
    /// work under it or about the provider as a whole (no piece of work named).
    fn about_provider(&self, alias: &str) -> String {
        if self.contract.is_some() {
            format!(
                "{alias}.organisation_id = :provider AND ({alias}.opportunity_id IS NULL OR \
                 {alias}.opportunity_id IN (SELECT id FROM opportunities WHERE contract_id = :contract))"
            )
        } else {
            format!("{alias}.organisation_id = :provider")
        }
    }
}

/// Whole days from `a` to `b` (never below 0), in the backend's SQL.
fn days_between(backend: Backend, a: &str, b: &str) -> String {
    match backend {
        Backend::Postgres => format!(
            "GREATEST(0, CAST(FLOOR(EXTRACT(EPOCH FROM ({b} - {a})) / 86400) AS BIGINT))"
        ),
        Backend::Sqlite => format!(
            "MAX(0, (CAST(strftime('%s', {b}) AS INTEGER) - CAST(strftime('%s', {a}) AS INTEGER)) / 86400)"
        ),
    }
}

/// The median of a CTE `d (v)`, in SQL both backends run.
const MEDIAN: &str = "SELECT CAST(AVG(v) AS DOUBLE PRECISION) AS median FROM \
    (SELECT v FROM d ORDER BY v LIMIT 2 - (SELECT COUNT(*) FROM d) % 2 \
     OFFSET (SELECT (COUNT(*) - 1) / 2 FROM d)) m";

fn backend_of(conn: &DbConnection) -> Backend {
    match conn {
        DbConnection::Postgresql(_) => Backend::Postgres,
        DbConnection::Sqlite(_) => Backend::Sqlite,
    }
}

/// Replaces each `:name` with the backend's next placeholder, collecting the values.
fn bind_names(
    backend: Backend,
    sql: &str,
    scope: &Scope,
) -> Result<(String, Vec<Value>), AppError> {
    let mut out = String::with_capacity(sql.len());
    let mut values = Vec::new();
    let mut rest = sql;
    while let Some(i) = rest.find(':') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..len];
        let value = scope
            .value(name)
            .ok_or_else(|| AppError::internal(format!("report query names no value `{name}`")))?;
        values.push(value);
        match backend {
            Backend::Postgres => out.push_str(&format!("${}", values.len())),
            Backend::Sqlite => out.push('?'),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    Ok((out, values))
}

macro_rules! bind_all {
    ($query:expr, $values:expr) => {{
        let mut q = $query;
        for v in $values {
            q = match v {
                Value::Text(s) => q.bind::<Text, _>(s),
                Value::Date(d) => q.bind::<Date, _>(d),
                Value::Time(t) => q.bind::<Timestamp, _>(t),
            };
        }
        q
    }};
}

/// Runs a report query on either backend.
fn load<T>(conn: &mut DbConnection, sql: &str, scope: &Scope) -> Result<Vec<T>, AppError>
where
    T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
{
    let backend = backend_of(conn);
    let (sql, values) = bind_names(backend, sql, scope)?;
    Ok(match conn {
        DbConnection::Postgresql(c) => {
            bind_all!(diesel::sql_query(sql).into_boxed::<Pg>(), values).load(c)?
        }
        DbConnection::Sqlite(c) => {
            bind_all!(diesel::sql_query(sql).into_boxed::<Sqlite>(), values).load(c)?
        }
    })
}

fn one<T>(conn: &mut DbConnection, sql: &str, scope: &Scope) -> Result<T, AppError>
where
    T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
{
    load(conn, sql, scope)?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::internal("a report aggregate returned no row"))
}

#[derive(QueryableByName)]
struct Median {
    #[diesel(sql_type = Nullable<Double>)]
    median: Option<f64>,
}

/// The work in the report, whole (there is one row per piece of work in any case).
pub fn work(conn: &mut DbConnection, scope: &Scope) -> Result<Vec<Opportunity>, AppError> {
    use opportunities::dsl as o;
    let mut query = o::opportunities
        .select(OpportunityRow::as_select())
        .filter(o::organisation_id.eq(scope.provider.to_string()))
        .filter(o::status.ne("draft"))
        .filter(o::starts_on.is_null().or(o::starts_on.lt(scope.to)))
        .filter(o::ends_on.is_null().or(o::ends_on.ge(scope.from)))
        .order(o::id.asc())
        .into_boxed();
    if let Some(c) = scope.contract {
        query = query.filter(o::contract_id.eq(c.to_string()));
    }
    query
        .load(conn)?
        .into_iter()
        .map(OpportunityRow::into_domain)
        .collect()
}

/// One held session of the work, with its lived-experience and carer attendance counted.
#[derive(QueryableByName, Debug)]
pub struct SessionCounts {
    #[diesel(sql_type = Text)]
    session_id: String,
    #[diesel(sql_type = Text)]
    opportunity_id: String,
    #[diesel(sql_type = Timestamp)]
    pub starts_at: NaiveDateTime,
    #[diesel(sql_type = BigInt)]
    pub present: i64,
    #[diesel(sql_type = BigInt)]
    pub participated: i64,
}

impl SessionCounts {
    pub fn ids(&self) -> Result<(SessionId, OpportunityId), AppError> {
        Ok((parse_id(&self.session_id)?, parse_id(&self.opportunity_id)?))
    }
}

/// Every session of the work held by `at` (all of them, not only the period's: "from the
/// start" needs the first), counted per session in SQL. A person is on a session's attendance
/// once (UNIQUE (session_id, participant_id)), so counting rows counts people.
pub fn held_sessions(
    conn: &mut DbConnection,
    scope: &Scope,
) -> Result<Vec<SessionCounts>, AppError> {
    let sql = format!(
        "WITH {}, counted AS (SELECT a.session_id, COUNT(*) AS present, \
             SUM(CASE WHEN a.participation = 'participated' THEN 1 ELSE 0 END) AS participated \
             FROM attendance a JOIN memberships m ON m.id = a.membership_id \
             JOIN work w ON w.id = m.opportunity_id \
             WHERE m.experience <> 'none' GROUP BY a.session_id) \
         SELECT s.id AS session_id, s.opportunity_id, s.starts_at, \
         CAST(COALESCE(c.present, 0) AS BIGINT) AS present, \
         CAST(COALESCE(c.participated, 0) AS BIGINT) AS participated \
         FROM sessions s JOIN work w ON w.id = s.opportunity_id \
         LEFT JOIN counted c ON c.session_id = s.id \
         WHERE s.starts_at <= :at",
        scope.work_cte()
    );
    load(conn, &sql, scope)
}

/// A member of the work who took a place.
#[derive(QueryableByName, Debug)]
pub struct MemberRow {
    #[diesel(sql_type = Text)]
    opportunity_id: String,
    #[diesel(sql_type = Timestamp)]
    pub joined_at: NaiveDateTime,
    #[diesel(sql_type = Text)]
    pub experience: String,
}

impl MemberRow {
    pub fn opportunity(&self) -> Result<OpportunityId, AppError> {
        parse_id(&self.opportunity_id)
    }
}

pub fn members(conn: &mut DbConnection, scope: &Scope) -> Result<Vec<MemberRow>, AppError> {
    let sql = format!(
        "WITH {} SELECT m.opportunity_id, m.joined_at, m.experience FROM memberships m \
         JOIN work w ON w.id = m.opportunity_id WHERE m.joined_at IS NOT NULL",
        scope.work_cte()
    );
    load(conn, &sql, scope)
}

/// A decision made at a held session of the work.
#[derive(QueryableByName, Debug)]
pub struct DecisionRow {
    #[diesel(sql_type = Text)]
    session_id: String,
    #[diesel(sql_type = Bool)]
    pub shared: bool,
}

impl DecisionRow {
    pub fn session(&self) -> Result<SessionId, AppError> {
        parse_id(&self.session_id)
    }
}

pub fn decisions(conn: &mut DbConnection, scope: &Scope) -> Result<Vec<DecisionRow>, AppError> {
    let sql = format!(
        "WITH {} SELECT d.session_id, d.shared_with_lived_experience AS shared FROM decisions d \
         JOIN sessions s ON s.id = d.session_id JOIN work w ON w.id = s.opportunity_id \
         WHERE s.starts_at <= :at",
        scope.work_cte()
    );
    load(conn, &sql, scope)
}

#[derive(QueryableByName, Debug)]
pub struct LatestFeedback {
    #[diesel(sql_type = Text)]
    opportunity_id: String,
    #[diesel(sql_type = Timestamp)]
    pub latest: NaiveDateTime,
}

impl LatestFeedback {
    pub fn opportunity(&self) -> Result<OpportunityId, AppError> {
        parse_id(&self.opportunity_id)
    }
}

/// The latest feedback item about each piece of work, received by `at`.
pub fn latest_feedback(
    conn: &mut DbConnection,
    scope: &Scope,
) -> Result<Vec<LatestFeedback>, AppError> {
    let sql = format!(
        "WITH {} SELECT f.opportunity_id, MAX(f.received_at) AS latest FROM feedback_items f \
         JOIN work w ON w.id = f.opportunity_id WHERE f.received_at <= :at \
         GROUP BY f.opportunity_id",
        scope.work_cte()
    );
    load(conn, &sql, scope)
}

/// People and hours in the period's sessions.
#[derive(QueryableByName, Debug, Default, Clone, Copy)]
pub struct PeopleAndHours {
    /// Distinct people with lived experience (including those with both).
    #[diesel(sql_type = BigInt)]
    pub lived_experience: i64,
    /// Distinct carers (including those with both).
    #[diesel(sql_type = BigInt)]
    pub carers: i64,
    /// Distinct lived-experience or carer participants.
    #[diesel(sql_type = BigInt)]
    pub people: i64,
    #[diesel(sql_type = BigInt)]
    pub participating_minutes: i64,
    #[diesel(sql_type = BigInt)]
    pub attending_minutes: i64,
    /// Of those minutes, the ones on a paid claim for the session or recognised otherwise.
    #[diesel(sql_type = BigInt)]
    pub recognised_minutes: i64,
    #[diesel(sql_type = BigInt)]
    pub sessions: i64,
    #[diesel(sql_type = BigInt)]
    pub sessions_with_slot: i64,
}

/// The sessions of the work held in the period (and by `at`).
fn held_in_period(scope: &Scope) -> String {
    format!(
        "{}, held AS (SELECT s.id, s.opportunity_id, s.lived_experience_agenda_slot AS slot \
         FROM sessions s JOIN work w ON w.id = s.opportunity_id \
         WHERE s.starts_at >= :from_ts AND s.starts_at < :to_ts AND s.starts_at <= :at)",
        scope.work_cte()
    )
}

pub fn people_and_hours(
    conn: &mut DbConnection,
    scope: &Scope,
) -> Result<PeopleAndHours, AppError> {
    // One pass over the period's attendance: first per person (their experience, their minutes
    // by kind, and those on a paid claim line for the session or recognised otherwise), then
    // over people. The paid (session, person) pairs and the recognitions are joined, not
    // looked up row by row.
    let sql = format!(
        "WITH {}, \
         paid AS (SELECT DISTINCT l.session_id, c.participant_id FROM claim_lines l \
             JOIN claims c ON c.id = l.claim_id \
             WHERE c.organisation_id = :provider AND c.status = 'paid' AND l.session_id IS NOT NULL), \
         recognised AS (SELECT DISTINCT r.opportunity_id, r.participant_id FROM recognitions r \
             JOIN work w ON w.id = r.opportunity_id), \
         per_person AS (SELECT a.participant_id, \
             MAX(CASE WHEN m.experience IN ('lived_experience', 'both') THEN 1 ELSE 0 END) AS lived, \
             MAX(CASE WHEN m.experience IN ('carer', 'both') THEN 1 ELSE 0 END) AS carer, \
             SUM(CASE WHEN a.participation = 'participated' THEN a.minutes ELSE 0 END) AS participating, \
             SUM(CASE WHEN a.participation = 'attended' THEN a.minutes ELSE 0 END) AS attending, \
             SUM(CASE WHEN p.session_id IS NOT NULL OR r.participant_id IS NOT NULL \
                 THEN a.minutes ELSE 0 END) AS recognised \
             FROM held h JOIN attendance a ON a.session_id = h.id \
             JOIN memberships m ON m.id = a.membership_id \
             LEFT JOIN paid p ON p.session_id = a.session_id AND p.participant_id = a.participant_id \
             LEFT JOIN recognised r ON r.opportunity_id = h.opportunity_id \
                 AND r.participant_id = a.participant_id \
             WHERE m.experience <> 'none' GROUP BY a.participant_id) \
         SELECT \
         CAST(COALESCE(SUM(lived), 0) AS BIGINT) AS lived_experience, \
         CAST(COALESCE(SUM(carer), 0) AS BIGINT) AS carers, \
         COUNT(*) AS people, \
         CAST(COALESCE(SUM(participating), 0) AS BIGINT) AS participating_minutes, \
         CAST(COALESCE(SUM(attending), 0) AS BIGINT) AS attending_minutes, \
         CAST(COALESCE(SUM(recognised), 0) AS BIGINT) AS recognised_minutes, \
         (SELECT COUNT(*) FROM held) AS sessions, \
         (SELECT COUNT(*) FROM held WHERE slot) AS sessions_with_slot \
         FROM per_person",
        held_in_period(scope)
    );
    one(conn, &sql, scope)
}

/// Claims: paid in the period, due in the period and paid by then, overdue now.
#[derive(QueryableByName, Debug, Default, Clone, Copy)]
pub struct Payments {
    #[diesel(sql_type = BigInt)]
    pub paid_pence: i64,
    #[diesel(sql_type = BigInt)]
    pub paid: i64,
    #[diesel(sql_type = BigInt)]
    pub due: i64,
    #[diesel(sql_type = BigInt)]
    pub due_paid_on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue_now: i64,
    #[diesel(sql_type = Nullable<Double>)]
    pub median_days_to_pay: Option<f64>,
}

pub fn payments(conn: &mut DbConnection, scope: &Scope) -> Result<Payments, AppError> {
    let filter = scope.claims_filter();
    let paid_in_period = "c.status = 'paid' AND c.paid_at >= :from_ts AND c.paid_at < :to_ts";
    let sql = format!(
        "SELECT \
         CAST(COALESCE(SUM(CASE WHEN {paid_in_period} THEN c.payable_pence END), 0) AS BIGINT) AS paid_pence, \
         COUNT(CASE WHEN {paid_in_period} THEN 1 END) AS paid, \
         COUNT(CASE WHEN c.due_on >= :from AND c.due_on < :to AND c.status <> 'rejected' THEN 1 END) AS due, \
         COUNT(CASE WHEN c.due_on >= :from AND c.due_on < :to AND c.status = 'paid' \
               AND date(c.paid_at) <= c.due_on THEN 1 END) AS due_paid_on_time, \
         COUNT(CASE WHEN c.status IN ('submitted', 'approved') AND c.due_on < :today THEN 1 END) AS overdue_now, \
         CAST(NULL AS DOUBLE PRECISION) AS median_days_to_pay \
         FROM claims c WHERE {filter}"
    );
    let mut p: Payments = one(conn, &sql, scope)?;
    let backend = backend_of(conn);
    let median = format!(
        "WITH d AS (SELECT {} AS v FROM claims c WHERE {filter} AND {paid_in_period}) {MEDIAN}",
        days_between(backend, "c.submitted_at", "c.paid_at")
    );
    p.median_days_to_pay = one::<Median>(conn, &median, scope)?.median;
    Ok(p)
}

/// The feedback loop for items received in the period.
#[derive(QueryableByName, Debug, Default, Clone, Copy)]
pub struct FeedbackLoop {
    #[diesel(sql_type = BigInt)]
    pub received: i64,
    #[diesel(sql_type = BigInt)]
    pub closed: i64,
    #[diesel(sql_type = BigInt)]
    pub closed_within: i64,
    #[diesel(sql_type = BigInt)]
    pub open_now: i64,
    #[diesel(sql_type = Nullable<Double>)]
    pub median_days_to_close: Option<f64>,
}

pub fn feedback(
    conn: &mut DbConnection,
    scope: &Scope,
    within_days: i32,
) -> Result<FeedbackLoop, AppError> {
    let backend = backend_of(conn);
    let about = scope.about_provider("f");
    let in_period = "f.received_at >= :from_ts AND f.received_at < :to_ts";
    let days = days_between(backend, "f.received_at", "f.closed_at");
    let sql = format!(
        "SELECT \
         COUNT(CASE WHEN {in_period} THEN 1 END) AS received, \
         COUNT(CASE WHEN {in_period} AND f.closed_at IS NOT NULL THEN 1 END) AS closed, \
         COUNT(CASE WHEN {in_period} AND f.closed_at IS NOT NULL AND {days} <= {within_days} THEN 1 END) AS closed_within, \
         COUNT(CASE WHEN f.closed_at IS NULL THEN 1 END) AS open_now, \
         CAST(NULL AS DOUBLE PRECISION) AS median_days_to_close \
         FROM feedback_items f WHERE {about}"
    );
    let mut f: FeedbackLoop = one(conn, &sql, scope)?;
    let median = format!(
        "WITH d AS (SELECT {days} AS v FROM feedback_items f WHERE {about} AND {in_period} \
         AND f.closed_at IS NOT NULL) {MEDIAN}"
    );
    f.median_days_to_close = one::<Median>(conn, &median, scope)?.median;
    Ok(f)
}

/// The Five Values averages of evaluations made in the period.
#[derive(QueryableByName, Debug, Default, Clone, Copy)]
pub struct FiveValues {
    #[diesel(sql_type = BigInt)]
    pub evaluations: i64,
    #[diesel(sql_type = Nullable<Double>)]
    pub empathy: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub inclusion: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub honesty: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub working_together: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub personalisation: Option<f64>,
}

pub fn five_values(conn: &mut DbConnection, scope: &Scope) -> Result<FiveValues, AppError> {
    let avg =
        |c: &str| format!("CAST(AVG(CAST(e.{c} AS DOUBLE PRECISION)) AS DOUBLE PRECISION) AS {c}");
    let sql = format!(
        "SELECT COUNT(*) AS evaluations, {}, {}, {}, {}, {} FROM evaluations e \
         WHERE {} AND e.evaluated_at >= :from_ts AND e.evaluated_at < :to_ts",
        avg("empathy"),
        avg("inclusion"),
        avg("honesty"),
        avg("working_together"),
        avg("personalisation"),
        scope.about_provider("e"),
    );
    one(conn, &sql, scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_each_backends_placeholders() {
        let scope = Scope {
            provider: "00000000-0000-0000-0000-000000000001".parse().unwrap(),
            contract: None,
            from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            at: Utc::now(),
            now: Utc::now(),
        };
        let sql = "a = :provider AND b < :to AND c >= :from AND d = :provider";
        let (pg, values) = bind_names(Backend::Postgres, sql, &scope).unwrap();
        assert_eq!(pg, "a = $1 AND b < $2 AND c >= $3 AND d = $4");
        assert_eq!(values.len(), 4);
        let (lite, _) = bind_names(Backend::Sqlite, sql, &scope).unwrap();
        assert_eq!(lite, "a = ? AND b < ? AND c >= ? AND d = ?");
        assert!(bind_names(Backend::Sqlite, ":nothing", &scope).is_err());
    }
}
