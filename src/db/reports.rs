//! The evidence report's figures, aggregated in the database: each query returns a handful of
//! numbers (or one row per piece of work or session for the classification), never the rows
//! of attendance, claims or feedback themselves.
//!
//! The SQL is written once with named parameters (`:provider`, `:from`...) and given each
//! backend's placeholders when run; the few functions that differ (whole days between two
//! times) are spelt per backend.

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Double, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;

use super::opportunities::OpportunityRow;
use super::schema::opportunities;
use super::{parse_id, to_db_time, Backend, DbConnection};
use crate::domain::id::{ContractId, OpportunityId, OrganisationId};
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
        let (whole_from, whole_to) = self.whole_months();
        Some(match name {
            "provider" => Value::Text(self.provider.to_string()),
            "contract" => Value::Text(self.contract?.to_string()),
            "from" => Value::Date(self.from),
            "to" => Value::Date(self.to),
            "from_ts" => Value::Time(start(self.from)),
            "to_ts" => Value::Time(start(self.to)),
            "whole_from" => Value::Date(whole_from),
            "whole_to" => Value::Date(whole_to),
            "whole_from_ts" => Value::Time(start(whole_from)),
            "whole_to_ts" => Value::Time(start(whole_to)),
            "at" => Value::Time(to_db_time(self.at)),
            "today" => Value::Date(self.now.date_naive()),
            _ => return None,
        })
    }

    /// The work in the report (`alias` a row of `opportunities`): not a draft, with dates
    /// overlapping the period. Written into each query rather than shared as a CTE, so that
    /// PostgreSQL plans each join with the table's statistics and may run it in parallel.
    fn work_where(&self, alias: &str) -> String {
        format!("{} AND {}", self.owned(alias), Self::in_period(alias))
    }

    /// The provider's work (under the contract, for a contract's report), whatever its dates.
    fn owned(&self, alias: &str) -> String {
        format!(
            "{alias}.organisation_id = :provider{}",
            if self.contract.is_some() {
                format!(" AND {alias}.contract_id = :contract")
            } else {
                String::new()
            }
        )
    }

    /// Work that is not a draft and whose dates overlap the period (never null, so that it can
    /// be negated).
    fn in_period(alias: &str) -> String {
        format!(
            "{alias}.status <> 'draft' \
             AND ({alias}.starts_on IS NULL OR {alias}.starts_on < :to) \
             AND ({alias}.ends_on IS NULL OR {alias}.ends_on >= :from)"
        )
    }

    /// The whole calendar months of the period, as `[first day, first day after)`: from the
    /// first month that starts on or after `from` to the last that ends by the period's end
    /// (or by `at`, if sooner). When no month is whole, both are `from`, so that the part-months
    /// are the whole period.
    fn whole_months(&self) -> (NaiveDate, NaiveDate) {
        let month_start = |d: NaiveDate| d.with_day(1).unwrap_or(d);
        let first = if self.from.day() == 1 {
            self.from
        } else {
            month_start(self.from)
                .checked_add_months(Months::new(1))
                .unwrap_or(self.from)
        };
        let end = to_db_time(self.at).min(self.to.and_time(chrono::NaiveTime::MIN));
        let last = month_start(end.date());
        if first < last {
            (first, last)
        } else {
            (self.from, self.from)
        }
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

/// The median of `value` over the rows where `filter` holds, as a column of a query's single
/// pass: PostgreSQL's ordered-set aggregate; SQLite has none, so there it is `NULL` here and
/// taken by [`MEDIAN`] in a second query.
fn median_in_pass(backend: Backend, value: &str, filter: &str) -> String {
    match backend {
        Backend::Postgres => format!(
            "CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY {value}) FILTER (WHERE {filter}) \
             AS DOUBLE PRECISION)"
        ),
        Backend::Sqlite => "CAST(NULL AS DOUBLE PRECISION)".to_owned(),
    }
}

/// The median of a CTE `d (v)` (the mean of the middle two when there are an even number), in
/// SQL SQLite runs.
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

/// What the classification weighs of one piece of work, counted in SQL.
#[derive(QueryableByName, Debug)]
pub struct WorkCounts {
    #[diesel(sql_type = Text)]
    opportunity_id: String,
    #[diesel(sql_type = BigInt)]
    pub held: i64,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub first_start: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub last_start: Option<NaiveDateTime>,
    #[diesel(sql_type = BigInt)]
    pub last_present: i64,
    #[diesel(sql_type = BigInt)]
    pub without: i64,
    #[diesel(sql_type = BigInt)]
    pub participated: i64,
    #[diesel(sql_type = BigInt)]
    pub counted: i64,
    #[diesel(sql_type = BigInt)]
    pub early: i64,
    #[diesel(sql_type = BigInt)]
    pub decisions: i64,
    #[diesel(sql_type = BigInt)]
    pub shared: i64,
    #[diesel(sql_type = BigInt)]
    pub absent: i64,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub latest_feedback: Option<NaiveDateTime>,
}

impl WorkCounts {
    pub fn opportunity(&self) -> Result<OpportunityId, AppError> {
        parse_id(&self.opportunity_id)
    }
}

/// Each piece of work's evidence, counted in the database: one row per piece of work. Its
/// sessions held by `at` are read as rows of their own, with the counts the database keeps on
/// each as attendance and decisions are recorded (lived-experience and carer attendance, those
/// who participated, decisions made and those marked shared), so that no attendance or decision
/// row is read here; the last session's attendance is looked up by the work's index on sessions.
pub fn work_counts(conn: &mut DbConnection, scope: &Scope) -> Result<Vec<WorkCounts>, AppError> {
    // Ids compared byte by byte, as the service orders them (only among sessions that start at
    // the same moment).
    let bytes = match backend_of(conn) {
        Backend::Postgres => " COLLATE \"C\"",
        Backend::Sqlite => "",
    };
    let sum = |e: &str| format!("CAST(COALESCE(SUM({e}), 0) AS BIGINT)");
    let sql = format!(
        "WITH per_work AS (SELECT s.opportunity_id, COUNT(*) AS held, \
             MIN(s.starts_at) AS first_start, MAX(s.starts_at) AS last_start, \
             {without} AS without, {participated} AS participated, \
             {decisions} AS decisions, {shared} AS shared, {absent} AS absent \
             FROM sessions s JOIN opportunities o ON o.id = s.opportunity_id \
             WHERE {work_s} AND s.starts_at <= :at GROUP BY s.opportunity_id), \
         members AS (SELECT m.opportunity_id, COUNT(*) AS counted, {early} AS early \
             FROM memberships m JOIN opportunities o ON o.id = m.opportunity_id \
             LEFT JOIN per_work p ON p.opportunity_id = m.opportunity_id \
             WHERE {work_m} AND m.joined_at IS NOT NULL AND m.experience <> 'none' \
             GROUP BY m.opportunity_id), \
         heard AS (SELECT f.opportunity_id, MAX(f.received_at) AS latest FROM feedback_items f \
             JOIN opportunities o ON o.id = f.opportunity_id WHERE {work_f} AND f.received_at <= :at \
             GROUP BY f.opportunity_id) \
         SELECT w.id AS opportunity_id, CAST(COALESCE(p.held, 0) AS BIGINT) AS held, \
         p.first_start, p.last_start, \
         CAST(COALESCE((SELECT l.present_with_experience FROM sessions l \
             WHERE l.opportunity_id = w.id AND l.starts_at = p.last_start \
             ORDER BY l.id{bytes} DESC LIMIT 1), 0) AS BIGINT) AS last_present, \
         CAST(COALESCE(p.without, 0) AS BIGINT) AS without, \
         CAST(COALESCE(p.participated, 0) AS BIGINT) AS participated, \
         CAST(COALESCE(m.counted, 0) AS BIGINT) AS counted, \
         CAST(COALESCE(m.early, 0) AS BIGINT) AS early, \
         CAST(COALESCE(p.decisions, 0) AS BIGINT) AS decisions, \
         CAST(COALESCE(p.shared, 0) AS BIGINT) AS shared, \
         CAST(COALESCE(p.absent, 0) AS BIGINT) AS absent, \
         f.latest AS latest_feedback \
         FROM opportunities w LEFT JOIN per_work p ON p.opportunity_id = w.id \
         LEFT JOIN members m ON m.opportunity_id = w.id \
         LEFT JOIN heard f ON f.opportunity_id = w.id WHERE {work_w}",
        work_s = scope.work_where("o"),
        work_m = scope.work_where("o"),
        work_f = scope.work_where("o"),
        work_w = scope.work_where("w"),
        without = sum("CASE WHEN s.present_with_experience = 0 THEN 1 ELSE 0 END"),
        participated = sum("CASE WHEN s.participated_with_experience > 0 THEN 1 ELSE 0 END"),
        decisions = sum("s.decisions_made"),
        shared = sum("CASE WHEN s.present_with_experience > 0 THEN s.decisions_shared ELSE 0 END"),
        absent = sum("CASE WHEN s.present_with_experience = 0 THEN s.decisions_shared ELSE 0 END"),
        early = sum("CASE WHEN m.joined_at <= p.first_start THEN 1 ELSE 0 END"),
    );
    load(conn, &sql, scope)
}

/// Sessions where a decision was marked shared with nobody of lived or caring experience
/// there, to name them in the reasons (few: only what is wrong).
#[derive(QueryableByName, Debug)]
pub struct AbsentAt {
    #[diesel(sql_type = Text)]
    opportunity_id: String,
    #[diesel(sql_type = Timestamp)]
    pub starts_at: NaiveDateTime,
}

impl AbsentAt {
    pub fn opportunity(&self) -> Result<OpportunityId, AppError> {
        parse_id(&self.opportunity_id)
    }
}

pub fn absent_at(conn: &mut DbConnection, scope: &Scope) -> Result<Vec<AbsentAt>, AppError> {
    let sql = format!(
        "SELECT s.opportunity_id, s.starts_at FROM sessions s \
         JOIN opportunities o ON o.id = s.opportunity_id \
         WHERE {} AND s.starts_at <= :at AND s.decisions_shared > 0 \
         AND s.present_with_experience = 0",
        scope.work_where("o")
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

#[derive(QueryableByName)]
struct HeldInPeriod {
    #[diesel(sql_type = BigInt)]
    sessions: i64,
    #[diesel(sql_type = BigInt)]
    with_slot: i64,
}

pub fn people_and_hours(
    conn: &mut DbConnection,
    scope: &Scope,
) -> Result<PeopleAndHours, AppError> {
    // The sessions of the work held in the period (and by `at`).
    let in_period = "s.starts_at >= :from_ts AND s.starts_at < :to_ts AND s.starts_at <= :at";
    let work = scope.work_where("o");
    // Per person: their months kept beside the records (each person's lived-experience and
    // carer attendance per month, provider and contract) over the whole months of the period;
    // less the attendance in those months at the provider's work that the report leaves out
    // (drafts, and work whose dates miss the period: usually none); plus the attendance at the
    // work in the part-months at either end, read from the records. The database keeps on each
    // attendance row its member's experience and whether its time was paid or recognised.
    let attendance = |sign: &str| {
        format!(
            "SELECT a.participant_id, {sign} AS attended, \
             {sign} * CASE WHEN a.experience IN ('lived_experience', 'both') THEN 1 ELSE 0 END AS lived, \
             {sign} * CASE WHEN a.experience IN ('carer', 'both') THEN 1 ELSE 0 END AS carer, \
             {sign} * CASE WHEN a.participation = 'participated' THEN a.minutes ELSE 0 END AS participating, \
             {sign} * CASE WHEN a.participation = 'attended' THEN a.minutes ELSE 0 END AS attending, \
             {sign} * CASE WHEN a.recognised THEN a.minutes ELSE 0 END AS recognised \
             FROM attendance a JOIN sessions s ON s.id = a.session_id \
             JOIN opportunities o ON o.id = s.opportunity_id WHERE a.experience <> 'none' AND "
        )
    };
    let sql = format!(
        "SELECT \
         CAST(COALESCE(SUM(CASE WHEN lived > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS lived_experience, \
         CAST(COALESCE(SUM(CASE WHEN carer > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS carers, \
         COUNT(*) AS people, \
         CAST(COALESCE(SUM(participating), 0) AS BIGINT) AS participating_minutes, \
         CAST(COALESCE(SUM(attending), 0) AS BIGINT) AS attending_minutes, \
         CAST(COALESCE(SUM(recognised), 0) AS BIGINT) AS recognised_minutes, \
         CAST(0 AS BIGINT) AS sessions, CAST(0 AS BIGINT) AS sessions_with_slot \
         FROM (SELECT participant_id, SUM(attended) AS attended, SUM(lived) AS lived, \
             SUM(carer) AS carer, SUM(participating) AS participating, \
             SUM(attending) AS attending, SUM(recognised) AS recognised \
             FROM (SELECT t.participant_id, t.attended, t.lived, t.carer, \
                 t.participating_minutes AS participating, t.attending_minutes AS attending, \
                 t.recognised_minutes AS recognised FROM attendance_months t \
                 WHERE {owned} AND t.month >= :whole_from AND t.month < :whole_to \
               UNION ALL {left_out} {owned_o} AND NOT ({in_period_work}) \
                 AND s.starts_at >= :whole_from_ts AND s.starts_at < :whole_to_ts \
               UNION ALL {ends} {work} AND {in_period} \
                 AND (s.starts_at < :whole_from_ts OR s.starts_at >= :whole_to_ts)) deltas \
             GROUP BY participant_id) per_person WHERE attended > 0",
        owned = scope.owned("t"),
        owned_o = scope.owned("o"),
        in_period_work = Scope::in_period("o"),
        left_out = attendance("-1"),
        ends = attendance("1"),
    );
    let mut figures: PeopleAndHours = one(conn, &sql, scope)?;
    let held = format!(
        "SELECT COUNT(*) AS sessions, \
         COUNT(CASE WHEN s.lived_experience_agenda_slot THEN 1 END) AS with_slot \
         FROM sessions s JOIN opportunities o ON o.id = s.opportunity_id \
         WHERE {work} AND {in_period}"
    );
    let held: HeldInPeriod = one(conn, &held, scope)?;
    figures.sessions = held.sessions;
    figures.sessions_with_slot = held.with_slot;
    Ok(figures)
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
    let backend = backend_of(conn);
    let filter = scope.claims_filter();
    let paid_in_period = "c.status = 'paid' AND c.paid_at >= :from_ts AND c.paid_at < :to_ts";
    let days = days_between(backend, "c.submitted_at", "c.paid_at");
    let sql = format!(
        "SELECT \
         CAST(COALESCE(SUM(CASE WHEN {paid_in_period} THEN c.payable_pence END), 0) AS BIGINT) AS paid_pence, \
         COUNT(CASE WHEN {paid_in_period} THEN 1 END) AS paid, \
         COUNT(CASE WHEN c.due_on >= :from AND c.due_on < :to AND c.status <> 'rejected' THEN 1 END) AS due, \
         COUNT(CASE WHEN c.due_on >= :from AND c.due_on < :to AND c.status = 'paid' \
               AND date(c.paid_at) <= c.due_on THEN 1 END) AS due_paid_on_time, \
         COUNT(CASE WHEN c.status IN ('submitted', 'approved') AND c.due_on < :today THEN 1 END) AS overdue_now, \
         {median} AS median_days_to_pay \
         FROM claims c WHERE {filter}",
        median = median_in_pass(backend, &days, paid_in_period),
    );
    let mut p: Payments = one(conn, &sql, scope)?;
    if backend == Backend::Sqlite {
        let median =
            format!("WITH d AS (SELECT {days} AS v FROM claims c WHERE {filter} AND {paid_in_period}) {MEDIAN}");
        p.median_days_to_pay = one::<Median>(conn, &median, scope)?.median;
    }
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
    let closed_in_period = format!("{in_period} AND f.closed_at IS NOT NULL");
    let days = days_between(backend, "f.received_at", "f.closed_at");
    let sql = format!(
        "SELECT \
         COUNT(CASE WHEN {in_period} THEN 1 END) AS received, \
         COUNT(CASE WHEN {closed_in_period} THEN 1 END) AS closed, \
         COUNT(CASE WHEN {closed_in_period} AND {days} <= {within_days} THEN 1 END) AS closed_within, \
         COUNT(CASE WHEN f.closed_at IS NULL THEN 1 END) AS open_now, \
         {median} AS median_days_to_close \
         FROM feedback_items f WHERE {about}",
        median = median_in_pass(backend, &days, &closed_in_period),
    );
    let mut f: FeedbackLoop = one(conn, &sql, scope)?;
    if backend == Backend::Sqlite {
        let median = format!(
            "WITH d AS (SELECT {days} AS v FROM feedback_items f WHERE {about} AND {closed_in_period}) {MEDIAN}"
        );
        f.median_days_to_close = one::<Median>(conn, &median, scope)?.median;
    }
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

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn whole(from: NaiveDate, to: NaiveDate, at: NaiveDateTime) -> (NaiveDate, NaiveDate) {
        Scope {
            provider: "00000000-0000-0000-0000-000000000001".parse().unwrap(),
            contract: None,
            from,
            to,
            at: at.and_utc(),
            now: at.and_utc(),
        }
        .whole_months()
    }

    #[test]
    fn whole_months_are_those_inside_the_period_and_judged_by_then() {
        let late = day(2030, 1, 1).and_hms_opt(0, 0, 0).unwrap();
        // A year of whole months.
        assert_eq!(
            whole(day(2025, 12, 1), day(2026, 12, 1), late),
            (day(2025, 12, 1), day(2026, 12, 1))
        );
        // Mid-month to mid-month: the months between.
        assert_eq!(
            whole(day(2026, 1, 15), day(2026, 4, 10), late),
            (day(2026, 2, 1), day(2026, 4, 1))
        );
        // Across a year's end.
        assert_eq!(
            whole(day(2025, 12, 2), day(2026, 2, 1), late),
            (day(2026, 1, 1), day(2026, 2, 1))
        );
        // Inside one month, or shorter than one: no whole month, so all is read from the records.
        assert_eq!(
            whole(day(2026, 3, 1), day(2026, 3, 21), late),
            (day(2026, 3, 1), day(2026, 3, 1))
        );
        assert_eq!(
            whole(day(2026, 3, 10), day(2026, 4, 5), late),
            (day(2026, 3, 10), day(2026, 3, 10))
        );
        // Judged part-way through: whole months end at the month `at` falls in, even at its
        // very first moment (sessions starting then are read from the records).
        let at = day(2026, 6, 14).and_hms_opt(9, 30, 0).unwrap();
        assert_eq!(
            whole(day(2026, 1, 1), day(2027, 1, 1), at),
            (day(2026, 1, 1), day(2026, 6, 1))
        );
        let at = day(2026, 6, 1).and_hms_opt(0, 0, 0).unwrap();
        assert_eq!(
            whole(day(2026, 1, 1), day(2027, 1, 1), at),
            (day(2026, 1, 1), day(2026, 6, 1))
        );
        // Judged before the period starts: nothing whole.
        assert_eq!(
            whole(
                day(2026, 1, 1),
                day(2027, 1, 1),
                late.with_year(2025).unwrap()
            ),
            (day(2026, 1, 1), day(2026, 1, 1))
        );
    }
}
