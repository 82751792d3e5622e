//! Paying people properly: claims priced by the service, receipts, approval and payment (at most
//! once, whoever presses pay and however often), the person's choice, warnings for people on
//! benefits, bank details, recognition that is not money, the finance lists, payment runs and
//! the CSV export.
//!
//! Who may do what: the person claims for themselves and sees their own claims; staff (provider
//! or facilitator, never a commissioner) of the organisation that runs or facilitates the work
//! claim on a person's behalf, approve, reject and pay; admins read everything. Everyone else gets
//! "not found". Commissioners see totals only, through evidence reports.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sha2::{Digest, Sha256};

use super::opportunities::{can_manage, participant_of};
use super::{events, Services};
use crate::db::claims::ClaimScope;
use crate::db::{self, DbConnection};
use crate::domain::claim::{
    self, benefits_warning, price_lines, Claim, ClaimAnswer, ClaimEvent, ClaimInput,
    ClaimLineInput, ClaimStatus, PaymentChoice, SessionFact, Warning,
};
use crate::domain::event::{EventType, NewEvent};
use crate::domain::id::{
    ClaimId, OrganisationId, ParticipantId, PaymentRunId, ReceiptId, SessionId,
};
use crate::domain::identity::{Principal, Role};
use crate::domain::membership::MemberStatus;
use crate::domain::opportunity::Opportunity;
use crate::domain::page::{Page, PageRequest};
use crate::domain::payment::{
    csv_cell, csv_pounds, receipt_type, BankDetails, BankDetailsInput, FinanceView,
    MaskedBankDetails, PayInput, PaymentRun, PaymentRunInput, Receipt, Recognition,
    RecognitionInput, RejectInput, RECEIPT_MAX_BYTES,
};
use crate::domain::{new_id, now};
use crate::error::AppError;

const NOT_FOUND: AppError = AppError::NotFound("claim");

/// Staff who pay for this work: provider or facilitator staff who run or facilitate it. A
/// commissioner never handles claims.
pub fn pays_for(principal: &Principal, o: &Opportunity) -> bool {
    (principal.has(Role::Provider) || principal.has(Role::Facilitator))
        && !principal.has(Role::Commissioner)
        && can_manage(principal, o)
}

/// Staff of the paying organisation (for the finance lists), or `None`.
fn paying_organisation(principal: &Principal) -> Option<OrganisationId> {
    ((principal.has(Role::Provider) || principal.has(Role::Facilitator))
        && !principal.has(Role::Commissioner))
    .then_some(principal.organisation_id)
    .flatten()
}

#[derive(Debug, Clone, Copy)]
struct ClaimAccess {
    own: bool,
    pays: bool,
    admin: bool,
}

/// Loads a claim the caller may see, with the work it is for.
fn load(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ClaimId,
) -> Result<(Claim, Opportunity, ClaimAccess), AppError> {
    let c = db::claims::find(conn, id)?.ok_or(NOT_FOUND)?;
    let o = db::opportunities::find(conn, c.opportunity_id)?.ok_or(NOT_FOUND)?;
    let access = ClaimAccess {
        own: participant_of(principal) == Some(c.participant_id),
        pays: pays_for(principal, &o),
        admin: principal.is_admin(),
    };
    if access.own || access.pays || access.admin {
        Ok((c, o, access))
    } else {
        Err(NOT_FOUND)
    }
}

fn event(claim: &Claim, principal: &Principal, action: &str, detail: Option<String>) -> ClaimEvent {
    ClaimEvent {
        id: new_id(),
        claim_id: claim.id,
        action: action.to_owned(),
        actor: principal.subject.clone(),
        detail,
        at: now(),
    }
}

/// Tells those outside: the claim's new state, its amounts and the reason for a rejection
/// (which the person sees); no bank or contact detail.
fn publish(
    conn: &mut DbConnection,
    c: &Claim,
    facilitator: Option<OrganisationId>,
    event_type: EventType,
) -> Result<(), AppError> {
    events::record(
        conn,
        NewEvent::new(event_type, c.organisation_id)
            .on_work(c.opportunity_id, facilitator)
            .for_person(Some(c.participant_id))
            .with_data(serde_json::json!({
                "claim_id": c.id,
                "opportunity_id": c.opportunity_id,
                "participant_id": c.participant_id,
                "status": c.status,
                "payable_pence": c.payable.amount_pence,
                "currency": c.payable.currency,
                "due_on": c.due_on,
                "paid_at": c.paid_at.map(|t| t.to_rfc3339()),
                "rejection_reason": c.rejection_reason,
            })),
    )?;
    Ok(())
}

/// Prices lines for a person's claim on a piece of work.
fn price(
    conn: &mut DbConnection,
    o: &Opportunity,
    participant_id: ParticipantId,
    lines: &[ClaimLineInput],
    receipts: &[ReceiptId],
) -> Result<(crate::domain::id::PaymentPolicyId, Vec<claim::ClaimLine>), AppError> {
    if !o.paid {
        return Err(AppError::Conflict(
            "this work is unpaid: record recognition for it instead".to_owned(),
        ));
    }
    let policy_id = match o.payment_policy_id {
        Some(p) => p,
        None => db::organisations::find(conn, o.organisation_id)?
            .and_then(|org| org.default_payment_policy_id)
            .ok_or_else(|| {
                AppError::Conflict("the organisation has no payment policy".to_owned())
            })?,
    };
    let policy = db::organisations::find_policy(conn, policy_id)?
        .ok_or_else(|| AppError::internal("a piece of work names a missing payment policy"))?;
    let mut facts: HashMap<SessionId, Option<SessionFact>> = HashMap::new();
    for s in lines.iter().filter_map(|l| l.session_id) {
        if facts.contains_key(&s) {
            continue;
        }
        let fact = db::claims::session_fact(conn, s, participant_id)?
            .filter(|(opportunity, _, _)| *opportunity == o.id.to_string())
            .map(|(_, starts_at, minutes)| SessionFact {
                starts_on: starts_at.date(),
                attended_minutes: minutes,
            });
        facts.insert(s, fact);
    }
    let priced = price_lines(
        lines,
        &policy,
        |s| facts.get(&s).copied().flatten(),
        receipts,
    )?;
    Ok((policy_id, priced))
}

/// A new draft claim: the person claims for themselves, or paying staff on their behalf.
pub async fn create(
    services: &Services,
    principal: &Principal,
    input: &ClaimInput,
) -> Result<Claim, AppError> {
    let (principal, input) = (principal.clone(), input.clone());
    services
        .db
        .transaction(move |conn| {
            let o = db::opportunities::find(conn, input.opportunity_id)?
                .ok_or_else(|| AppError::validation("opportunity_id", "names no piece of work"))?;
            let participant_id = if pays_for(&principal, &o) {
                input.participant_id.ok_or_else(|| {
                    AppError::validation("participant_id", "name the person the claim is for")
                })?
            } else if let Some(me) = participant_of(&principal) {
                if input.participant_id.is_some_and(|p| p != me) {
                    return Err(AppError::Forbidden(
                        "a person claims for themselves".to_owned(),
                    ));
                }
                me
            } else {
                return Err(AppError::Forbidden(
                    "the person, or staff of the organisation that pays for the work, make claims"
                        .to_owned(),
                ));
            };
            let took_part = db::members::find_for(conn, o.id, participant_id)?
                .is_some_and(|m| m.joined_at.is_some() && m.status != MemberStatus::Declined);
            if !took_part {
                return Err(AppError::validation(
                    "participant_id",
                    "the person has not taken a place on this work",
                ));
            }
            if input.lines.len() > 50 {
                return Err(AppError::validation(
                    "lines",
                    "a claim has at most 50 lines",
                ));
            }
            let (policy_id, lines) = if input.lines.is_empty() {
                (policy_of(conn, &o)?, Vec::new())
            } else {
                price(conn, &o, participant_id, &input.lines, &[])?
            };
            let total = claim::total(&lines);
            let choice = input.choice.unwrap_or_default();
            let payable = claim::payable(total, choice, input.take_amount_pence)
                .map_err(|e| AppError::Validation(vec![e]))?;
            let at = now();
            let c = Claim {
                id: new_id(),
                participant_id,
                organisation_id: o.organisation_id,
                opportunity_id: o.id,
                policy_id,
                status: ClaimStatus::Draft,
                lines,
                total: claim::gbp(total),
                choice,
                payable: claim::gbp(payable),
                submitted_at: None,
                due_on: None,
                approved_at: None,
                paid_at: None,
                payment_method: None,
                payment_reference: None,
                rejection_reason: None,
                created_at: at,
                updated_at: at,
                version: 1,
            };
            db::claims::insert(conn, &c, &principal.subject)?;
            db::claims::insert_event(conn, &event(&c, &principal, "created", None))?;
            Ok(c)
        })
        .await
}

fn policy_of(
    conn: &mut DbConnection,
    o: &Opportunity,
) -> Result<crate::domain::id::PaymentPolicyId, AppError> {
    if !o.paid {
        return Err(AppError::Conflict(
            "this work is unpaid: record recognition for it instead".to_owned(),
        ));
    }
    match o.payment_policy_id {
        Some(p) => Ok(p),
        None => db::organisations::find(conn, o.organisation_id)?
            .and_then(|org| org.default_payment_policy_id)
            .ok_or_else(|| AppError::Conflict("the organisation has no payment policy".to_owned())),
    }
}

/// A draft's lines and choice, replaced (lines are priced again; receipts uploaded to the claim
/// may be named).
pub async fn update(
    services: &Services,
    principal: &Principal,
    id: ClaimId,
    expected_version: i32,
    input: &crate::domain::claim::ClaimPatch,
) -> Result<Claim, AppError> {
    let (principal, input) = (principal.clone(), input.clone());
    services
        .db
        .transaction(move |conn| {
            let (mut c, o, access) = load(conn, &principal, id)?;
            if !(access.own || access.pays) {
                return Err(AppError::Forbidden(
                    "the person or paying staff change a claim".to_owned(),
                ));
            }
            if c.status != ClaimStatus::Draft {
                return Err(AppError::Conflict(format!(
                    "a {} claim cannot be changed",
                    c.status.as_str()
                )));
            }
            if let Some(lines) = &input.lines {
                if lines.len() > 50 {
                    return Err(AppError::validation(
                        "lines",
                        "a claim has at most 50 lines",
                    ));
                }
                let receipts: Vec<ReceiptId> = db::claims::receipts_of(conn, id)?
                    .iter()
                    .map(|r| r.id)
                    .collect();
                c.lines = if lines.is_empty() {
                    Vec::new()
                } else {
                    price(conn, &o, c.participant_id, lines, &receipts)?.1
                };
            }
            let total = claim::total(&c.lines);
            c.choice = input.choice.unwrap_or(c.choice);
            let take = input.take_amount_pence.or(match c.choice {
                PaymentChoice::TakeLess => Some(c.payable.amount_pence.min(total)),
                _ => None,
            });
            c.total = claim::gbp(total);
            c.payable = claim::gbp(
                claim::payable(total, c.choice, take).map_err(|e| AppError::Validation(vec![e]))?,
            );
            if c.version != expected_version {
                return Err(AppError::PreconditionFailed);
            }
            save(conn, &mut c, expected_version)?;
            db::claims::replace_lines(conn, &c)?;
            db::claims::insert_event(conn, &event(&c, &principal, "changed", None))?;
            Ok(c)
        })
        .await
}

fn save(conn: &mut DbConnection, c: &mut Claim, expected: i32) -> Result<(), AppError> {
    let created_by = db::claims::created_by(conn, c.id)?;
    c.version = expected + 1;
    c.updated_at = now();
    if db::claims::update_if_version(conn, c, expected, &created_by)? {
        Ok(())
    } else {
        Err(AppError::PreconditionFailed)
    }
}

/// The warning for a person on benefits whose payments for the claim's week would pass the
/// amount they set.
fn warnings(conn: &mut DbConnection, c: &Claim) -> Result<Vec<Warning>, AppError> {
    let Some(person) = db::participants::find(conn, c.participant_id)? else {
        return Ok(Vec::new());
    };
    let Some(week) = c
        .lines
        .iter()
        .map(|l| l.activity_on)
        .min()
        .map(claim::week_of)
    else {
        return Ok(Vec::new());
    };
    if !person.receives_benefits {
        return Ok(Vec::new());
    }
    let others = db::claims::week_total(conn, c.participant_id, week, c.id)?;
    Ok(benefits_warning(
        others + c.payable.amount_pence,
        person.weekly_payment_limit.as_ref(),
        week,
    )
    .into_iter()
    .collect())
}

/// A state change: checks who may make it and from which states, applies it, records it.
async fn change(
    services: &Services,
    principal: &Principal,
    id: ClaimId,
    action: &'static str,
    apply: impl FnOnce(&mut Claim, ClaimAccess) -> Result<Option<String>, AppError> + Send + 'static,
) -> Result<ClaimAnswer, AppError> {
    let principal = principal.clone();
    services
        .db
        .transaction(move |conn| {
            let (mut c, o, access) = load(conn, &principal, id)?;
            let expected = c.version;
            let detail = apply(&mut c, access)?;
            save(conn, &mut c, expected)?;
            db::claims::insert_event(conn, &event(&c, &principal, action, detail))?;
            let outward = match action {
                "submitted" => Some(EventType::ClaimSubmitted),
                "approved" => Some(EventType::ClaimApproved),
                "rejected" => Some(EventType::ClaimRejected),
                _ => None,
            };
            if let Some(t) = outward {
                publish(conn, &c, o.facilitator_organisation_id, t)?;
            }
            let warnings = if matches!(action, "submitted" | "approved") {
                warnings(conn, &c)?
            } else {
                Vec::new()
            };
            Ok(ClaimAnswer { claim: c, warnings })
        })
        .await
}

fn wrong_state(c: &Claim, what: &str) -> AppError {
    AppError::InvalidTransition {
        detail: format!("a {} claim cannot be {what}", c.status.as_str()),
        allowed: Vec::new(),
    }
}

/// The person (or paying staff) submit a draft: it is due the policy's days later.
pub async fn submit(
    services: &Services,
    principal: &Principal,
    id: ClaimId,
) -> Result<ClaimAnswer, AppError> {
    let policy_days = {
        let principal = principal.clone();
        services
            .db
            .read(move |conn| {
                let (c, _, _) = load(conn, &principal, id)?;
                Ok(db::organisations::find_policy(conn, c.policy_id)?
                    .map_or(14, |p| p.pay_within_days))
            })
            .await?
    };
    change(services, principal, id, "submitted", move |c, access| {
        if !(access.own || access.pays) {
            return Err(AppError::Forbidden(
                "the person or paying staff submit a claim".to_owned(),
            ));
        }
        if c.status != ClaimStatus::Draft {
            return Err(wrong_state(c, "submitted"));
        }
        if c.lines.is_empty() {
            return Err(AppError::validation(
                "lines",
                "a claim needs at least one line to submit",
            ));
        }
        let at = now();
        c.status = ClaimStatus::Submitted;
        c.submitted_at = Some(at);
        c.due_on = Some(claim::due_on(at, policy_days));
        Ok(None)
    })
    .await
}

/// Paying staff approve a submitted claim.
pub async fn approve(
    services: &Services,
    principal: &Principal,
    id: ClaimId,
) -> Result<ClaimAnswer, AppError> {
    change(services, principal, id, "approved", |c, access| {
        if !access.pays {
            return Err(AppError::Forbidden(
                "staff of the paying organisation approve claims".to_owned(),
            ));
        }
        if c.status != ClaimStatus::Submitted {
            return Err(wrong_state(c, "approved"));
        }
        c.status = ClaimStatus::Approved;
        c.approved_at = Some(now());
        Ok(None)
    })
    .await
}

/// Paying staff reject a submitted or approved claim, with a reason the person sees.
pub async fn reject(
    services: &Services,
    principal: &Principal,
    id: ClaimId,
    input: &RejectInput,
) -> Result<ClaimAnswer, AppError> {
    let mut p = crate::domain::validation::Problems::default();
    let reason = p.required_text("reason", &input.reason, 1000);
    let reason = p.finish_parsed(reason)?;
    change(services, principal, id, "rejected", move |c, access| {
        if !access.pays {
            return Err(AppError::Forbidden(
                "staff of the paying organisation reject claims".to_owned(),
            ));
        }
        if !matches!(c.status, ClaimStatus::Submitted | ClaimStatus::Approved) {
            return Err(wrong_state(c, "rejected"));
        }
        c.status = ClaimStatus::Rejected;
        c.rejection_reason = Some(reason.clone());
        Ok(Some(reason))
    })
    .await
}

/// The person changes how they want the claim settled, until it is paid.
pub async fn choose(
    services: &Services,
    principal: &Principal,
    id: ClaimId,
    input: &crate::domain::claim::ChoiceInput,
) -> Result<ClaimAnswer, AppError> {
    let input = input.clone();
    change(services, principal, id, "choice", move |c, access| {
        if !access.own {
            return Err(AppError::Forbidden(
                "only the person chooses how to be paid".to_owned(),
            ));
        }
        if matches!(c.status, ClaimStatus::Paid | ClaimStatus::Rejected) {
            return Err(wrong_state(c, "changed"));
        }
        let payable = claim::payable(c.total.amount_pence, input.choice, input.take_amount_pence)
            .map_err(|e| AppError::Validation(vec![e]))?;
        c.choice = input.choice;
        c.payable = claim::gbp(payable);
        Ok(Some(input.choice.as_str().to_owned()))
    })
    .await
}

/// Paying staff pay an approved claim: once. A second press, a retry or another instance finds
/// it paid already and is refused (409), and nothing is paid twice.
pub async fn pay(
    services: &Services,
    principal: &Principal,
    id: ClaimId,
    input: &PayInput,
) -> Result<ClaimAnswer, AppError> {
    let reference = claim::parse_reference(input.reference.as_deref())?;
    let (principal, method) = (principal.clone(), input.method);
    services
        .db
        .transaction(move |conn| {
            let (c, o, access) = load(conn, &principal, id)?;
            if !access.pays {
                return Err(AppError::Forbidden(
                    "staff of the paying organisation pay claims".to_owned(),
                ));
            }
            if c.status != ClaimStatus::Approved {
                return Err(wrong_state(&c, "paid"));
            }
            let at = now();
            if !db::claims::pay_if_approved(conn, id, method, reference.as_deref(), at, None)? {
                return Err(AppError::Conflict(
                    "the claim has been paid already".to_owned(),
                ));
            }
            let paid = db::claims::find(conn, id)?.ok_or(NOT_FOUND)?;
            db::claims::insert_event(
                conn,
                &event(&paid, &principal, "paid", Some(method.as_str().to_owned())),
            )?;
            publish(
                conn,
                &paid,
                o.facilitator_organisation_id,
                EventType::ClaimPaid,
            )?;
            Ok(ClaimAnswer {
                claim: paid,
                warnings: Vec::new(),
            })
        })
        .await
}

pub async fn get(
    services: &Services,
    principal: &Principal,
    id: ClaimId,
) -> Result<Claim, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| load(conn, &principal, id).map(|(c, _, _)| c))
        .await
}

/// A claim's whole history, for the person, paying staff and admins.
pub async fn history(
    services: &Services,
    principal: &Principal,
    id: ClaimId,
) -> Result<Vec<ClaimEvent>, AppError> {
    read_of(services, principal, id, move |conn| {
        db::claims::events_of(conn, id)
    })
    .await
}

/// Reads something of a claim the caller may see.
async fn read_of<T: Send + 'static>(
    services: &Services,
    principal: &Principal,
    id: ClaimId,
    read: impl FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| {
            load(conn, &principal, id)?;
            read(conn)
        })
        .await
}

/// The person's own claims; staff's organisation's; admins all. Commissioners none.
pub async fn list(
    services: &Services,
    principal: &Principal,
    status: Option<ClaimStatus>,
    page: PageRequest,
) -> Result<Page<Claim>, AppError> {
    let scope = if principal.is_admin() {
        ClaimScope::All
    } else if let Some(p) = participant_of(principal) {
        ClaimScope::Participant(p)
    } else if let Some(org) = paying_organisation(principal) {
        ClaimScope::Organisation(org)
    } else {
        return Err(AppError::Forbidden(
            "claims are for the person and the paying organisation's staff; commissioners see totals in evidence reports".to_owned(),
        ));
    };
    let rows = services
        .db
        .read(move |conn| db::claims::list(conn, scope, status, page))
        .await?;
    Ok(Page::from_rows(rows, page, |c| c.id))
}

/// Whose claims a finance list shows: an admin's choice (all when `None`), or the staff's own
/// organisation; `Err` for anyone else. Staff naming another organisation see nothing.
fn finance_scope(
    principal: &Principal,
    asked: Option<OrganisationId>,
) -> Result<Option<Option<OrganisationId>>, AppError> {
    if principal.is_admin() {
        return Ok(Some(asked));
    }
    match paying_organisation(principal) {
        Some(org) if asked.is_none_or(|a| a == org) => Ok(Some(Some(org))),
        Some(_) => Ok(None),
        None => Err(AppError::Forbidden(
            "finance lists are for staff of the paying organisation".to_owned(),
        )),
    }
}

/// A finance list (at most `limit` claims): the paying organisation's for its staff; one
/// organisation's, or all, for admins.
pub async fn finance(
    services: &Services,
    principal: &Principal,
    organisation_id: Option<OrganisationId>,
    view: FinanceView,
    limit: u32,
) -> Result<Vec<Claim>, AppError> {
    let Some(scope) = finance_scope(principal, organisation_id)? else {
        return Ok(Vec::new());
    };
    services
        .db
        .read(move |conn| db::claims::finance(conn, scope, view, limit))
        .await
}

/// The staff's own paying organisation, for what only it does (runs and the export).
fn own_paying_organisation(principal: &Principal, what: &str) -> Result<OrganisationId, AppError> {
    paying_organisation(principal)
        .ok_or_else(|| AppError::Forbidden(format!("staff of the paying organisation {what}")))
}

/// Pays every approved claim of the organisation due by a day, together.
pub async fn run_payments(
    services: &Services,
    principal: &Principal,
    input: &PaymentRunInput,
) -> Result<PaymentRun, AppError> {
    let org = own_paying_organisation(principal, "run payments")?;
    let (principal, input) = (principal.clone(), input.clone());
    services
        .db
        .transaction(move |conn| {
            let at = now();
            let mut run = PaymentRun {
                id: new_id::<PaymentRunId>(),
                organisation_id: org,
                due_by: input.due_by,
                claims: 0,
                total: claim::gbp(0),
                created_by: principal.subject.clone(),
                created_at: at,
            };
            db::claims::insert_run(conn, &run)?;
            for id in db::claims::approved_due_by(conn, org, input.due_by)? {
                if db::claims::pay_if_approved(conn, id, input.method, None, at, Some(run.id))? {
                    let paid = db::claims::find(conn, id)?.ok_or(NOT_FOUND)?;
                    run.claims += 1;
                    run.total.amount_pence += paid.payable.amount_pence;
                    db::claims::insert_event(
                        conn,
                        &event(
                            &paid,
                            &principal,
                            "paid",
                            Some(format!("payment run {}", run.id)),
                        ),
                    )?;
                    let facilitator = db::opportunities::find(conn, paid.opportunity_id)?
                        .and_then(|o| o.facilitator_organisation_id);
                    publish(conn, &paid, facilitator, EventType::ClaimPaid)?;
                }
            }
            db::claims::finish_run(conn, &run)?;
            Ok(run)
        })
        .await
}

/// The finance export: one row per claim line, pounds with two decimals, with the payee's
/// bank details in full (the only place they are shown whole).
pub async fn export_csv(
    services: &Services,
    principal: &Principal,
    view: FinanceView,
) -> Result<String, AppError> {
    let org = own_paying_organisation(principal, "export their claims")?;
    let keys = services.keys.clone();
    services
        .db
        .read(move |conn| {
            let claims = db::claims::finance(conn, Some(org), view, 10_000)?;
            let people: Vec<ParticipantId> = claims.iter().map(|c| c.participant_id).collect();
            let names: HashMap<ParticipantId, String> = db::participants::find_many(conn, &people)?
                .into_iter()
                .map(|p| (p.id, p.name.unwrap_or_default()))
                .collect();
            let mut banks: HashMap<ParticipantId, Option<BankDetails>> = HashMap::new();
            let mut out = String::from("claim_id,participant_id,name,status,due_on,paid_on,method,choice,payable_gbp,line_kind,activity_on,description,line_gbp,account_name,sort_code,account_number\r\n");
            for c in &claims {
                if let std::collections::hash_map::Entry::Vacant(e) = banks.entry(c.participant_id) {
                    e.insert(open_bank(conn, &keys, c.participant_id)?);
                }
                let bank = banks.get(&c.participant_id).cloned().flatten();
                for l in &c.lines {
                    let cells = [
                        c.id.to_string(),
                        c.participant_id.to_string(),
                        names.get(&c.participant_id).cloned().unwrap_or_default(),
                        c.status.as_str().to_owned(),
                        c.due_on.map(|d| d.to_string()).unwrap_or_default(),
                        c.paid_at.map(|d| d.date_naive().to_string()).unwrap_or_default(),
                        c.payment_method.map(|m| m.as_str().to_owned()).unwrap_or_default(),
                        c.choice.as_str().to_owned(),
                        csv_pounds(c.payable.amount_pence),
                        l.kind.as_str().to_owned(),
                        l.activity_on.to_string(),
                        l.description.clone().unwrap_or_default(),
                        csv_pounds(l.amount.amount_pence),
                        bank.as_ref().map(|b| b.account_name.clone()).unwrap_or_default(),
                        bank.as_ref().map(|b| b.sort_code.clone()).unwrap_or_default(),
                        bank.as_ref().map(|b| b.account_number.clone()).unwrap_or_default(),
                    ];
                    let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                    out.push_str(&row.join(","));
                    out.push_str("\r\n");
                }
            }
            Ok(out)
        })
        .await
}

// --- Receipts -------------------------------------------------------------------------------

/// A receipt for a claim (the person or paying staff), checked by its content: an image or a
/// PDF, at most 5 MiB.
pub async fn upload_receipt(
    services: &Services,
    principal: &Principal,
    id: ClaimId,
    content: Vec<u8>,
) -> Result<Receipt, AppError> {
    if content.len() > RECEIPT_MAX_BYTES {
        return Err(AppError::PayloadTooLarge(RECEIPT_MAX_BYTES));
    }
    let content_type = receipt_type(&content).ok_or_else(|| {
        AppError::validation(
            "receipt",
            "is not an image (PNG, JPEG, WebP) or a PDF: receipts are checked by their content, not their name",
        )
    })?;
    let principal = principal.clone();
    services
        .db
        .transaction(move |conn| {
            let (c, _, access) = load(conn, &principal, id)?;
            if !(access.own || access.pays) {
                return Err(AppError::Forbidden(
                    "the person or paying staff add receipts".to_owned(),
                ));
            }
            if matches!(c.status, ClaimStatus::Paid | ClaimStatus::Rejected) {
                return Err(wrong_state(&c, "given receipts"));
            }
            let receipt = Receipt {
                id: new_id(),
                claim_id: id,
                content_type: content_type.to_owned(),
                size_bytes: i32::try_from(content.len()).unwrap_or(i32::MAX),
                sha256: hex::encode(Sha256::digest(&content)),
                uploaded_by: principal.subject.clone(),
                uploaded_at: now(),
            };
            db::claims::insert_receipt(conn, &receipt, &content)?;
            Ok(receipt)
        })
        .await
}

pub async fn receipts(
    services: &Services,
    principal: &Principal,
    id: ClaimId,
) -> Result<Vec<Receipt>, AppError> {
    read_of(services, principal, id, move |conn| {
        db::claims::receipts_of(conn, id)
    })
    .await
}

/// A receipt's content: only for the claimant and the paying organisation's staff.
pub async fn receipt_content(
    services: &Services,
    principal: &Principal,
    id: ClaimId,
    receipt: ReceiptId,
) -> Result<(String, Vec<u8>), AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| {
            let (_, _, access) = load(conn, &principal, id)?;
            if !(access.own || access.pays) {
                return Err(AppError::NotFound("receipt"));
            }
            db::claims::receipt_content(conn, id, receipt)?.ok_or(AppError::NotFound("receipt"))
        })
        .await
}

// --- Bank details ---------------------------------------------------------------------------

fn bank_context(p: ParticipantId) -> Vec<u8> {
    format!("bank/{p}").into_bytes()
}

fn open_bank(
    conn: &mut DbConnection,
    keys: &crate::crypto::DataKeys,
    p: ParticipantId,
) -> Result<Option<BankDetails>, AppError> {
    match db::claims::bank_of(conn, p)? {
        None => Ok(None),
        Some((sealed, _)) => {
            let plain = keys.open(&sealed, &bank_context(p))?;
            serde_json::from_slice(&plain)
                .map(Some)
                .map_err(|e| AppError::internal(format!("sealed bank details did not parse: {e}")))
        }
    }
}

/// The person (or the staff who registered them) keep bank details for transfers, encrypted.
pub async fn set_bank_details(
    services: &Services,
    principal: &Principal,
    participant_id: ParticipantId,
    input: &BankDetailsInput,
) -> Result<MaskedBankDetails, AppError> {
    let details = input.parse()?;
    let plain = serde_json::to_vec(&details).map_err(|e| AppError::internal(format!("{e}")))?;
    let sealed = services.keys.seal(&plain, &bank_context(participant_id))?;
    let last_four = details.account_number[details.account_number.len() - 4..].to_owned();
    let principal = principal.clone();
    services
        .db
        .transaction(move |conn| {
            let p = db::participants::find(conn, participant_id)?
                .ok_or(AppError::NotFound("participant"))?;
            let own = participant_of(&principal) == Some(p.id);
            let registrar = (principal.has(Role::Provider) || principal.has(Role::Facilitator))
                && !principal.has(Role::Commissioner)
                && principal.belongs_to(p.organisation_id);
            if !(own || registrar) {
                return Err(AppError::NotFound("participant"));
            }
            if p.is_erased() {
                return Err(AppError::Conflict(
                    "this person's data has been erased at their request".to_owned(),
                ));
            }
            db::claims::replace_bank(conn, participant_id, &sealed, &last_four, now())?;
            Ok(MaskedBankDetails {
                account_number_last_four: last_four,
            })
        })
        .await
}

/// Bank details, masked: for the person, the staff who registered them, staff of an
/// organisation the person has claimed from, and admins.
pub async fn bank_details(
    services: &Services,
    principal: &Principal,
    participant_id: ParticipantId,
) -> Result<Option<MaskedBankDetails>, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| {
            let p = db::participants::find(conn, participant_id)?
                .ok_or(AppError::NotFound("participant"))?;
            let own = participant_of(&principal) == Some(p.id);
            let allowed = own
                || principal.is_admin()
                || match paying_organisation(&principal) {
                    Some(org) => {
                        org == p.organisation_id || db::claims::has_claim_with(conn, p.id, org)?
                    }
                    None => false,
                };
            if !allowed {
                return Err(AppError::NotFound("participant"));
            }
            Ok(
                db::claims::bank_of(conn, participant_id)?.map(|(_, last)| MaskedBankDetails {
                    account_number_last_four: last,
                }),
            )
        })
        .await
}

/// Re-seals every person's bank details under the current key (`coproduce rotate-data-key`).
pub fn reseal_banks(
    conn: &mut DbConnection,
    keys: &crate::crypto::DataKeys,
) -> Result<usize, AppError> {
    let mut done = 0;
    loop {
        let batch = db::claims::banks_not_under(conn, keys.current_id(), 500)?;
        if batch.is_empty() {
            return Ok(done);
        }
        for (p, old) in &batch {
            let plain = keys.open(old, &bank_context(*p))?;
            let new = keys.seal(&plain, &bank_context(*p))?;
            if db::claims::reseal_bank(conn, *p, old, &new)? {
                done += 1;
            }
        }
    }
}

// --- Recognition ----------------------------------------------------------------------------

/// Staff who run the work record recognition that is not money.
pub async fn recognise(
    services: &Services,
    principal: &Principal,
    input: &RecognitionInput,
) -> Result<Recognition, AppError> {
    let (description, value) = input.parse()?;
    let (principal, input) = (principal.clone(), input.clone());
    services
        .db
        .transaction(move |conn| {
            let o = db::opportunities::find(conn, input.opportunity_id)?
                .ok_or_else(|| AppError::validation("opportunity_id", "names no piece of work"))?;
            if !can_manage(&principal, &o) {
                return Err(AppError::Forbidden(
                    "staff who run the work record recognition".to_owned(),
                ));
            }
            if db::members::find_for(conn, o.id, input.participant_id)?.is_none() {
                return Err(AppError::validation(
                    "participant_id",
                    "the person is not a member of this work",
                ));
            }
            let r = Recognition {
                id: new_id(),
                participant_id: input.participant_id,
                opportunity_id: o.id,
                kind: input.kind,
                description,
                value,
                recorded_by: principal.subject.clone(),
                recorded_at: now(),
            };
            db::claims::insert_recognition(conn, &r)?;
            Ok(r)
        })
        .await
}

/// A person's recognition: for the person, staff of their registering organisation, and admins.
pub async fn recognitions(
    services: &Services,
    principal: &Principal,
    participant_id: ParticipantId,
) -> Result<Vec<Recognition>, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| {
            let p = db::participants::find(conn, participant_id)?
                .ok_or(AppError::NotFound("participant"))?;
            let allowed = participant_of(&principal) == Some(p.id)
                || principal.is_admin()
                || (principal.is_staff() && principal.belongs_to(p.organisation_id));
            if !allowed {
                return Err(AppError::NotFound("participant"));
            }
            db::claims::recognitions_of(conn, participant_id)
        })
        .await
}

/// Today, for the finance lists.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}
