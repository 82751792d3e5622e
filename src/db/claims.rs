//! Rows and queries for claims, their lines, receipts and history, bank details (sealed),
//! recognition and payment runs.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::opportunities::parse_stored;
use super::schema::{
    attendance, bank_details, claim_events, claim_lines, claims, payment_runs, receipts,
    recognitions, sessions,
};
use super::{from_db_time, parse_id, to_db_time, DbConnection};
use crate::domain::claim::{Claim, ClaimEvent, ClaimLine, ClaimStatus, PaymentMethod};
use crate::domain::id::{ClaimId, OrganisationId, ParticipantId, PaymentRunId, SessionId};
use crate::domain::money::Money;
use crate::domain::page::PageRequest;
use crate::domain::payment::{FinanceView, PaymentRun, Receipt, Recognition};
use crate::error::AppError;

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = claims, treat_none_as_null = true)]
struct ClaimRow {
    id: String,
    participant_id: String,
    organisation_id: String,
    opportunity_id: String,
    policy_id: String,
    status: String,
    total_pence: i64,
    choice: String,
    payable_pence: i64,
    currency: String,
    submitted_at: Option<NaiveDateTime>,
    due_on: Option<NaiveDate>,
    activity_week: Option<NaiveDate>,
    approved_at: Option<NaiveDateTime>,
    paid_at: Option<NaiveDateTime>,
    payment_method: Option<String>,
    payment_reference: Option<String>,
    payment_run_id: Option<String>,
    rejection_reason: Option<String>,
    created_by: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i32,
}

impl ClaimRow {
    fn from_domain(c: &Claim, created_by: &str, run: Option<PaymentRunId>) -> Self {
        Self {
            id: c.id.to_string(),
            participant_id: c.participant_id.to_string(),
            organisation_id: c.organisation_id.to_string(),
            opportunity_id: c.opportunity_id.to_string(),
            policy_id: c.policy_id.to_string(),
            status: c.status.as_str().to_owned(),
            total_pence: c.total.amount_pence,
            choice: c.choice.as_str().to_owned(),
            payable_pence: c.payable.amount_pence,
            currency: c.total.currency.clone(),
            submitted_at: c.submitted_at.map(to_db_time),
            due_on: c.due_on,
            activity_week: c
                .lines
                .iter()
                .map(|l| l.activity_on)
                .min()
                .map(crate::domain::claim::week_of),
            approved_at: c.approved_at.map(to_db_time),
            paid_at: c.paid_at.map(to_db_time),
            payment_method: c.payment_method.map(|m| m.as_str().to_owned()),
            payment_reference: c.payment_reference.clone(),
            payment_run_id: run.map(|r| r.to_string()),
            rejection_reason: c.rejection_reason.clone(),
            created_by: created_by.to_owned(),
            created_at: to_db_time(c.created_at),
            updated_at: to_db_time(c.updated_at),
            version: c.version,
        }
    }

    fn into_domain(self, lines: Vec<ClaimLine>) -> Result<Claim, AppError> {
        Ok(Claim {
            id: parse_id(&self.id)?,
            participant_id: parse_id(&self.participant_id)?,
            organisation_id: parse_id(&self.organisation_id)?,
            opportunity_id: parse_id(&self.opportunity_id)?,
            policy_id: parse_id(&self.policy_id)?,
            status: parse_stored(&self.status)?,
            lines,
            total: Money {
                amount_pence: self.total_pence,
                currency: self.currency.clone(),
            },
            choice: parse_stored(&self.choice)?,
            payable: Money {
                amount_pence: self.payable_pence,
                currency: self.currency,
            },
            submitted_at: self.submitted_at.map(from_db_time),
            due_on: self.due_on,
            approved_at: self.approved_at.map(from_db_time),
            paid_at: self.paid_at.map(from_db_time),
            payment_method: self
                .payment_method
                .as_deref()
                .map(parse_stored)
                .transpose()?,
            payment_reference: self.payment_reference,
            rejection_reason: self.rejection_reason,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = claim_lines)]
struct LineRow {
    id: String,
    claim_id: String,
    position: i32,
    kind: String,
    activity_on: NaiveDate,
    session_id: Option<String>,
    minutes: Option<i32>,
    miles_tenths: Option<i32>,
    description: Option<String>,
    receipt_id: Option<String>,
    rate_pence: Option<i64>,
    amount_pence: i64,
}

impl LineRow {
    fn into_domain(self) -> Result<ClaimLine, AppError> {
        Ok(ClaimLine {
            id: parse_id(&self.id)?,
            kind: parse_stored(&self.kind)?,
            activity_on: self.activity_on,
            session_id: self.session_id.as_deref().map(parse_id).transpose()?,
            minutes: self.minutes,
            miles_tenths: self.miles_tenths,
            description: self.description,
            receipt_id: self.receipt_id.as_deref().map(parse_id).transpose()?,
            rate: self.rate_pence.map(Money::gbp),
            amount: Money::gbp(self.amount_pence),
        })
    }
}

/// Writes a claim's lines in place of any it had.
pub fn replace_lines(conn: &mut DbConnection, c: &Claim) -> Result<(), AppError> {
    diesel::delete(claim_lines::table.filter(claim_lines::claim_id.eq(c.id.to_string())))
        .execute(conn)?;
    let rows: Vec<LineRow> = c
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| LineRow {
            id: l.id.to_string(),
            claim_id: c.id.to_string(),
            position: i32::try_from(i).unwrap_or(i32::MAX),
            kind: l.kind.as_str().to_owned(),
            activity_on: l.activity_on,
            session_id: l.session_id.map(|s| s.to_string()),
            minutes: l.minutes,
            miles_tenths: l.miles_tenths,
            description: l.description.clone(),
            receipt_id: l.receipt_id.map(|r| r.to_string()),
            rate_pence: l.rate.as_ref().map(|r| r.amount_pence),
            amount_pence: l.amount.amount_pence,
        })
        .collect();
    // Batch inserts are written per backend: the multi-backend connection cannot build one.
    match conn {
        _ if rows.is_empty() => 0,
        DbConnection::Postgresql(c) => diesel::insert_into(claim_lines::table)
            .values(&rows)
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(claim_lines::table)
            .values(&rows)
            .execute(c)?,
    };
    Ok(())
}

pub fn insert(conn: &mut DbConnection, c: &Claim, created_by: &str) -> Result<(), AppError> {
    diesel::insert_into(claims::table)
        .values(ClaimRow::from_domain(c, created_by, None))
        .execute(conn)?;
    replace_lines(conn, c)
}

fn lines_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<std::collections::HashMap<String, Vec<ClaimLine>>, AppError> {
    let rows: Vec<LineRow> = claim_lines::table
        .filter(claim_lines::claim_id.eq_any(ids))
        .order((claim_lines::claim_id.asc(), claim_lines::position.asc()))
        .select(LineRow::as_select())
        .load(conn)?;
    let mut out: std::collections::HashMap<String, Vec<ClaimLine>> = Default::default();
    for row in rows {
        let claim = row.claim_id.clone();
        out.entry(claim).or_default().push(row.into_domain()?);
    }
    Ok(out)
}

fn with_lines(conn: &mut DbConnection, rows: Vec<ClaimRow>) -> Result<Vec<Claim>, AppError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut lines = lines_of(conn, &ids)?;
    rows.into_iter()
        .map(|r| {
            let l = lines.remove(&r.id).unwrap_or_default();
            r.into_domain(l)
        })
        .collect()
}

pub fn find(conn: &mut DbConnection, id: ClaimId) -> Result<Option<Claim>, AppError> {
    let row = claims::table
        .find(id.to_string())
        .select(ClaimRow::as_select())
        .first(conn)
        .optional()?;
    match row {
        Some(r) => Ok(with_lines(conn, vec![r])?.pop()),
        None => Ok(None),
    }
}

/// Writes the claim's new state (not its lines) if the stored version is still `expected`.
pub fn update_if_version(
    conn: &mut DbConnection,
    c: &Claim,
    expected: i32,
    created_by: &str,
) -> Result<bool, AppError> {
    let mut row = ClaimRow::from_domain(c, created_by, None);
    // The run a claim was paid in is written only by the run itself.
    let run: Option<Option<String>> = claims::table
        .find(&row.id)
        .select(claims::payment_run_id)
        .first(conn)
        .optional()?;
    row.payment_run_id = run.flatten();
    let changed = diesel::update(
        claims::table
            .filter(claims::id.eq(&row.id))
            .filter(claims::version.eq(expected)),
    )
    .set(&row)
    .execute(conn)?;
    Ok(changed == 1)
}

/// Who created a claim (kept as written at creation).
pub fn created_by(conn: &mut DbConnection, id: ClaimId) -> Result<String, AppError> {
    Ok(claims::table
        .find(id.to_string())
        .select(claims::created_by)
        .first(conn)?)
}

/// Marks an approved claim paid, once: the update matches only while it is still approved, so
/// two staff pressing pay together, a retry, or two instances get one payment and one refusal.
pub fn pay_if_approved(
    conn: &mut DbConnection,
    id: ClaimId,
    method: PaymentMethod,
    reference: Option<&str>,
    at: chrono::DateTime<chrono::Utc>,
    run: Option<PaymentRunId>,
) -> Result<bool, AppError> {
    let changed = diesel::update(
        claims::table
            .filter(claims::id.eq(id.to_string()))
            .filter(claims::status.eq(ClaimStatus::Approved.as_str())),
    )
    .set((
        claims::status.eq(ClaimStatus::Paid.as_str()),
        claims::paid_at.eq(Some(to_db_time(at))),
        claims::payment_method.eq(Some(method.as_str())),
        claims::payment_reference.eq(reference),
        claims::payment_run_id.eq(run.map(|r| r.to_string())),
        claims::updated_at.eq(to_db_time(at)),
        claims::version.eq(claims::version + 1),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Every claim of one person, oldest first (their export).
pub fn of_participant(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
) -> Result<Vec<Claim>, AppError> {
    let rows = claims::table
        .filter(claims::participant_id.eq(participant_id.to_string()))
        .order(claims::id.asc())
        .select(ClaimRow::as_select())
        .load(conn)?;
    with_lines(conn, rows)
}

/// Which claims a list shows.
#[derive(Debug, Clone, Copy)]
pub enum ClaimScope {
    Participant(ParticipantId),
    Organisation(OrganisationId),
    All,
}

/// One page of claims in id order, optionally in one state.
pub fn list(
    conn: &mut DbConnection,
    scope: ClaimScope,
    status: Option<ClaimStatus>,
    page: PageRequest,
) -> Result<Vec<Claim>, AppError> {
    let mut query = keyset_page!(
        claims::table.select(ClaimRow::as_select()),
        claims::id,
        page
    );
    match scope {
        ClaimScope::Participant(p) => {
            query = query.filter(claims::participant_id.eq(p.to_string()))
        }
        ClaimScope::Organisation(o) => {
            query = query.filter(claims::organisation_id.eq(o.to_string()))
        }
        ClaimScope::All => {}
    }
    if let Some(s) = status {
        query = query.filter(claims::status.eq(s.as_str()));
    }
    let rows = query.load(conn)?;
    with_lines(conn, rows)
}

/// The finance lists of one paying organisation (or all): the first `limit` claims in due-date
/// (or paid-day) order, then id. There is no cursor: a list shows its earliest claims only.
pub fn finance(
    conn: &mut DbConnection,
    organisation_id: Option<OrganisationId>,
    view: FinanceView,
    limit: u32,
) -> Result<Vec<Claim>, AppError> {
    // Written out, not bound, so the planner can match the partial indexes on every plan
    // (a bound list would leave a generic plan unable to prove the index's condition).
    let unpaid = diesel::dsl::sql::<diesel::sql_types::Bool>(
        "\"claims\".\"status\" IN ('submitted', 'approved')",
    );
    let paid = diesel::dsl::sql::<diesel::sql_types::Bool>("\"claims\".\"status\" = 'paid'");
    let mut query = claims::table
        .select(ClaimRow::as_select())
        .limit(i64::from(limit))
        .into_boxed();
    if let Some(org) = organisation_id {
        query = query.filter(claims::organisation_id.eq(org.to_string()));
    }
    match view {
        FinanceView::Overdue { today } => {
            query = query
                .filter(unpaid)
                .filter(claims::due_on.lt(today))
                .order((claims::due_on.asc(), claims::id.asc()));
        }
        FinanceView::DueSoon { today, until } => {
            query = query
                .filter(unpaid)
                .filter(claims::due_on.ge(today))
                .filter(claims::due_on.le(until))
                .order((claims::due_on.asc(), claims::id.asc()));
        }
        FinanceView::Paid { from, to } => {
            query = query
                .filter(paid)
                .filter(claims::paid_at.ge(from.and_hms_opt(0, 0, 0).unwrap_or_default()))
                .filter(
                    claims::paid_at.lt((to + chrono::Duration::days(1))
                        .and_hms_opt(0, 0, 0)
                        .unwrap_or_default()),
                )
                .order((claims::paid_at.asc(), claims::id.asc()));
        }
        FinanceView::Run(run) => {
            query = query
                .filter(claims::payment_run_id.eq(run.to_string()))
                .order(claims::id.asc());
        }
    }
    let rows = query.load(conn)?;
    with_lines(conn, rows)
}

/// Ids of the approved claims of an organisation due by a day, for a payment run.
pub fn approved_due_by(
    conn: &mut DbConnection,
    organisation_id: OrganisationId,
    due_by: NaiveDate,
) -> Result<Vec<ClaimId>, AppError> {
    claims::table
        .filter(claims::organisation_id.eq(organisation_id.to_string()))
        .filter(claims::status.eq(ClaimStatus::Approved.as_str()))
        .filter(claims::due_on.le(due_by))
        .order(claims::id.asc())
        .select(claims::id)
        .load::<String>(conn)?
        .iter()
        .map(|id| parse_id(id))
        .collect()
}

/// What a person's other claims for work in one week come to (submitted, approved or paid).
pub fn week_total(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
    week: NaiveDate,
    except: ClaimId,
) -> Result<i64, AppError> {
    let amounts: Vec<i64> = claims::table
        .filter(claims::participant_id.eq(participant_id.to_string()))
        .filter(claims::activity_week.eq(week))
        .filter(claims::id.ne(except.to_string()))
        .filter(claims::status.eq_any([
            ClaimStatus::Submitted.as_str(),
            ClaimStatus::Approved.as_str(),
            ClaimStatus::Paid.as_str(),
        ]))
        .select(claims::payable_pence)
        .load(conn)?;
    Ok(amounts.iter().sum())
}

/// True when the person has made a claim on work this organisation pays for.
pub fn has_claim_with(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
    organisation_id: OrganisationId,
) -> Result<bool, AppError> {
    let n: i64 = claims::table
        .filter(claims::participant_id.eq(participant_id.to_string()))
        .filter(claims::organisation_id.eq(organisation_id.to_string()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// True when the person has a claim submitted or approved but not yet paid.
pub fn has_unpaid(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
) -> Result<bool, AppError> {
    let n: i64 = claims::table
        .filter(claims::participant_id.eq(participant_id.to_string()))
        .filter(claims::status.eq_any([
            ClaimStatus::Submitted.as_str(),
            ClaimStatus::Approved.as_str(),
        ]))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The session's start and the minutes the person was recorded as attending it.
pub fn session_fact(
    conn: &mut DbConnection,
    session_id: SessionId,
    participant_id: ParticipantId,
) -> Result<Option<(String, NaiveDateTime, Option<i32>)>, AppError> {
    let session: Option<(String, NaiveDateTime)> = sessions::table
        .find(session_id.to_string())
        .select((sessions::opportunity_id, sessions::starts_at))
        .first(conn)
        .optional()?;
    let Some((opportunity, starts_at)) = session else {
        return Ok(None);
    };
    let minutes: Option<i32> = attendance::table
        .filter(attendance::session_id.eq(session_id.to_string()))
        .filter(attendance::participant_id.eq(participant_id.to_string()))
        .select(attendance::minutes)
        .first(conn)
        .optional()?;
    Ok(Some((opportunity, starts_at, minutes)))
}

// --- History --------------------------------------------------------------------------------

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = claim_events)]
struct EventRow {
    id: String,
    claim_id: String,
    action: String,
    actor: String,
    detail: Option<String>,
    at: NaiveDateTime,
}

pub fn insert_event(conn: &mut DbConnection, e: &ClaimEvent) -> Result<(), AppError> {
    diesel::insert_into(claim_events::table)
        .values(EventRow {
            id: e.id.to_string(),
            claim_id: e.claim_id.to_string(),
            action: e.action.clone(),
            actor: e.actor.clone(),
            detail: e.detail.clone(),
            at: to_db_time(e.at),
        })
        .execute(conn)?;
    Ok(())
}

pub fn events_of(conn: &mut DbConnection, id: ClaimId) -> Result<Vec<ClaimEvent>, AppError> {
    claim_events::table
        .filter(claim_events::claim_id.eq(id.to_string()))
        .order(claim_events::id.asc())
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| {
            Ok(ClaimEvent {
                id: parse_id(&r.id)?,
                claim_id: parse_id(&r.claim_id)?,
                action: r.action,
                actor: r.actor,
                detail: r.detail,
                at: from_db_time(r.at),
            })
        })
        .collect()
}

// --- Receipts -------------------------------------------------------------------------------

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = receipts)]
struct ReceiptRow {
    id: String,
    claim_id: String,
    content_type: String,
    size_bytes: i32,
    sha256: String,
    content: Vec<u8>,
    uploaded_by: String,
    uploaded_at: NaiveDateTime,
}

pub fn insert_receipt(
    conn: &mut DbConnection,
    r: &Receipt,
    content: &[u8],
) -> Result<(), AppError> {
    diesel::insert_into(receipts::table)
        .values(ReceiptRow {
            id: r.id.to_string(),
            claim_id: r.claim_id.to_string(),
            content_type: r.content_type.clone(),
            size_bytes: r.size_bytes,
            sha256: r.sha256.clone(),
            content: content.to_vec(),
            uploaded_by: r.uploaded_by.clone(),
            uploaded_at: to_db_time(r.uploaded_at),
        })
        .execute(conn)?;
    Ok(())
}

type ReceiptMeta = (String, String, String, i32, String, String, NaiveDateTime);

fn receipt_of(row: ReceiptMeta) -> Result<Receipt, AppError> {
    Ok(Receipt {
        id: parse_id(&row.0)?,
        claim_id: parse_id(&row.1)?,
        content_type: row.2,
        size_bytes: row.3,
        sha256: row.4,
        uploaded_by: row.5,
        uploaded_at: from_db_time(row.6),
    })
}

/// The receipts of a claim, without their content.
pub fn receipts_of(conn: &mut DbConnection, id: ClaimId) -> Result<Vec<Receipt>, AppError> {
    receipts::table
        .filter(receipts::claim_id.eq(id.to_string()))
        .order(receipts::id.asc())
        .select((
            receipts::id,
            receipts::claim_id,
            receipts::content_type,
            receipts::size_bytes,
            receipts::sha256,
            receipts::uploaded_by,
            receipts::uploaded_at,
        ))
        .load::<ReceiptMeta>(conn)?
        .into_iter()
        .map(receipt_of)
        .collect()
}

/// A receipt's content type and bytes.
pub fn receipt_content(
    conn: &mut DbConnection,
    claim: ClaimId,
    id: crate::domain::id::ReceiptId,
) -> Result<Option<(String, Vec<u8>)>, AppError> {
    Ok(receipts::table
        .filter(receipts::id.eq(id.to_string()))
        .filter(receipts::claim_id.eq(claim.to_string()))
        .select((receipts::content_type, receipts::content))
        .first(conn)
        .optional()?)
}

// --- Bank details ---------------------------------------------------------------------------

/// Replaces a person's sealed bank details.
pub fn replace_bank(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
    sealed: &crate::crypto::Sealed,
    last_four: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    diesel::delete(bank_details::table.find(participant_id.to_string())).execute(conn)?;
    diesel::insert_into(bank_details::table)
        .values((
            bank_details::participant_id.eq(participant_id.to_string()),
            bank_details::key_id.eq(&sealed.key_id),
            bank_details::nonce.eq(&sealed.nonce),
            bank_details::ciphertext.eq(&sealed.ciphertext),
            bank_details::last_four.eq(last_four),
            bank_details::updated_at.eq(to_db_time(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The sealed bank details and their last four digits.
pub fn bank_of(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
) -> Result<Option<(crate::crypto::Sealed, String)>, AppError> {
    let row: Option<(String, Vec<u8>, Vec<u8>, String)> = bank_details::table
        .find(participant_id.to_string())
        .select((
            bank_details::key_id,
            bank_details::nonce,
            bank_details::ciphertext,
            bank_details::last_four,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(key_id, nonce, ciphertext, last)| {
        (
            crate::crypto::Sealed {
                key_id,
                nonce,
                ciphertext,
            },
            last,
        )
    }))
}

pub fn delete_bank(conn: &mut DbConnection, participant_id: ParticipantId) -> Result<(), AppError> {
    diesel::delete(bank_details::table.find(participant_id.to_string())).execute(conn)?;
    Ok(())
}

pub fn bank_key_ids(conn: &mut DbConnection) -> Result<Vec<String>, AppError> {
    Ok(bank_details::table
        .select(bank_details::key_id)
        .distinct()
        .load(conn)?)
}

// --- Recognition and payment runs -----------------------------------------------------------

pub fn insert_recognition(conn: &mut DbConnection, r: &Recognition) -> Result<(), AppError> {
    diesel::insert_into(recognitions::table)
        .values((
            recognitions::id.eq(r.id.to_string()),
            recognitions::participant_id.eq(r.participant_id.to_string()),
            recognitions::opportunity_id.eq(r.opportunity_id.to_string()),
            recognitions::kind.eq(r.kind.as_str()),
            recognitions::description.eq(&r.description),
            recognitions::value_pence.eq(r.value.as_ref().map(|v| v.amount_pence)),
            recognitions::recorded_by.eq(&r.recorded_by),
            recognitions::recorded_at.eq(to_db_time(r.recorded_at)),
        ))
        .execute(conn)?;
    Ok(())
}

type RecognitionRow = (
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    String,
    NaiveDateTime,
);

pub fn recognitions_of(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
) -> Result<Vec<Recognition>, AppError> {
    recognitions::table
        .filter(recognitions::participant_id.eq(participant_id.to_string()))
        .order(recognitions::id.asc())
        .select((
            recognitions::id,
            recognitions::participant_id,
            recognitions::opportunity_id,
            recognitions::kind,
            recognitions::description,
            recognitions::value_pence,
            recognitions::recorded_by,
            recognitions::recorded_at,
        ))
        .load::<RecognitionRow>(conn)?
        .into_iter()
        .map(|r| {
            Ok(Recognition {
                id: parse_id(&r.0)?,
                participant_id: parse_id(&r.1)?,
                opportunity_id: parse_id(&r.2)?,
                kind: parse_stored(&r.3)?,
                description: r.4,
                value: r.5.map(Money::gbp),
                recorded_by: r.6,
                recorded_at: from_db_time(r.7),
            })
        })
        .collect()
}

pub fn insert_run(conn: &mut DbConnection, run: &PaymentRun) -> Result<(), AppError> {
    diesel::insert_into(payment_runs::table)
        .values((
            payment_runs::id.eq(run.id.to_string()),
            payment_runs::organisation_id.eq(run.organisation_id.to_string()),
            payment_runs::due_by.eq(run.due_by),
            payment_runs::claims.eq(run.claims),
            payment_runs::total_pence.eq(run.total.amount_pence),
            payment_runs::created_by.eq(&run.created_by),
            payment_runs::created_at.eq(to_db_time(run.created_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The run's count and total, once its claims are paid.
pub fn finish_run(conn: &mut DbConnection, run: &PaymentRun) -> Result<(), AppError> {
    diesel::update(payment_runs::table.find(run.id.to_string()))
        .set((
            payment_runs::claims.eq(run.claims),
            payment_runs::total_pence.eq(run.total.amount_pence),
        ))
        .execute(conn)?;
    Ok(())
}

/// Up to `limit` sealed bank details not under `key_id`, for re-sealing.
pub fn banks_not_under(
    conn: &mut DbConnection,
    key_id: &str,
    limit: i64,
) -> Result<Vec<(ParticipantId, crate::crypto::Sealed)>, AppError> {
    bank_details::table
        .filter(bank_details::key_id.ne(key_id))
        .order(bank_details::participant_id.asc())
        .limit(limit)
        .select((
            bank_details::participant_id,
            bank_details::key_id,
            bank_details::nonce,
            bank_details::ciphertext,
        ))
        .load::<(String, String, Vec<u8>, Vec<u8>)>(conn)?
        .into_iter()
        .map(|(p, key_id, nonce, ciphertext)| {
            Ok((
                parse_id(&p)?,
                crate::crypto::Sealed {
                    key_id,
                    nonce,
                    ciphertext,
                },
            ))
        })
        .collect()
}

/// Re-seals one person's bank details in place, if still sealed as read.
pub fn reseal_bank(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
    old: &crate::crypto::Sealed,
    new: &crate::crypto::Sealed,
) -> Result<bool, AppError> {
    let changed = diesel::update(
        bank_details::table
            .filter(bank_details::participant_id.eq(participant_id.to_string()))
            .filter(bank_details::nonce.eq(&old.nonce)),
    )
    .set((
        bank_details::key_id.eq(&new.key_id),
        bank_details::nonce.eq(&new.nonce),
        bank_details::ciphertext.eq(&new.ciphertext),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
