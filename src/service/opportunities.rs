//! Involvement opportunities: who may create, see and change them, their lifecycle, the
//! honest classification of each, and the inclusion check.

use std::collections::{HashMap, HashSet};

use super::{contracts, events, Services};
use crate::db::opportunities::Visibility;
use crate::db::{self, DbConnection};
use crate::domain::event::{EventType, NewEvent};
use crate::domain::id::{OpportunityId, ParticipantId, SessionId};
use crate::domain::identity::{Principal, Role};
use crate::domain::inclusion::{self, SessionSlot};
use crate::domain::ladder::{
    check_claim, classify, DecisionFacts, EvidenceFacts, MemberFacts, OpportunityStatus,
    SessionFacts,
};
use crate::domain::membership::{Experience, MemberStatus, Membership};
use crate::domain::opportunity::{
    check_move, EvidenceSummary, InclusionReport, Opportunity, OpportunityFilter, OpportunityInput,
    OpportunityPatch,
};
use crate::domain::organisation::OrganisationKind;
use crate::domain::page::{Page, PageRequest};
use crate::domain::session::{Attendance, Decision, Session};
use crate::domain::{new_id, now};
use crate::error::AppError;

const NOT_FOUND: AppError = AppError::NotFound("opportunity");

/// Staff of the organisation that runs the work or facilitates it, or an admin.
pub fn can_manage(principal: &Principal, o: &Opportunity) -> bool {
    principal.is_admin()
        || (principal.is_staff()
            && (principal.belongs_to(o.organisation_id)
                || o.facilitator_organisation_id
                    .is_some_and(|f| principal.belongs_to(f))))
}

/// The caller's participant id, when they act as a participant.
pub fn participant_of(principal: &Principal) -> Option<ParticipantId> {
    if principal.has(Role::Participant) {
        principal.participant_id
    } else {
        None
    }
}

/// What a caller may see of one opportunity: advertised work is open to everyone signed in;
/// other work to those who run it and to its members.
pub fn can_view(principal: &Principal, o: &Opportunity, membership: Option<&Membership>) -> bool {
    o.status == OpportunityStatus::Advertised
        || can_manage(principal, o)
        || membership.is_some_and(|m| m.status != MemberStatus::Declined)
}

/// Loads an opportunity and the caller's membership, or "not found" when they may not see it.
pub fn load_visible(
    conn: &mut DbConnection,
    principal: &Principal,
    id: OpportunityId,
) -> Result<(Opportunity, Option<Membership>), AppError> {
    let o = db::opportunities::find(conn, id)?.ok_or(NOT_FOUND)?;
    let membership = match participant_of(principal) {
        Some(p) => db::members::find_for(conn, id, p)?,
        None => None,
    };
    if can_view(principal, &o, membership.as_ref()) || contracts::commissions(conn, principal, &o)?
    {
        Ok((o, membership))
    } else {
        Err(NOT_FOUND)
    }
}

/// Loads an opportunity the caller runs; others get "not found" (or "forbidden" when they can
/// see it but not change it).
pub fn load_managed(
    conn: &mut DbConnection,
    principal: &Principal,
    id: OpportunityId,
) -> Result<Opportunity, AppError> {
    let (o, _) = load_visible(conn, principal, id)?;
    if can_manage(principal, &o) {
        Ok(o)
    } else {
        Err(AppError::Forbidden(
            "only the staff who run or facilitate this work can change it".to_owned(),
        ))
    }
}

pub async fn create(
    services: &Services,
    principal: &Principal,
    input: &OpportunityInput,
) -> Result<Opportunity, AppError> {
    let owner = if principal.is_admin() {
        input
            .organisation_id
            .or(principal.organisation_id)
            .ok_or_else(|| {
                AppError::validation(
                    "organisation_id",
                    "name the organisation that runs the work",
                )
            })?
    } else if principal.is_staff() {
        let own = principal
            .organisation_id
            .ok_or_else(|| AppError::Forbidden("your token names no organisation".to_owned()))?;
        if input.organisation_id.is_some_and(|o| o != own) {
            return Err(AppError::validation(
                "organisation_id",
                "you can create work only for your own organisation",
            ));
        }
        own
    } else {
        return Err(AppError::Forbidden(
            "only providers, commissioners and facilitators create opportunities".to_owned(),
        ));
    };
    let input = input.clone();
    services
        .db
        .transaction(move |conn| {
            let org = db::organisations::find(conn, owner)?.ok_or_else(|| {
                AppError::validation("organisation_id", "no organisation has this id")
            })?;
            let o = Opportunity::draft(
                &input,
                new_id(),
                owner,
                org.default_payment_policy_id,
                now(),
            )?;
            check_references(conn, &o)?;
            db::opportunities::insert(conn, &o)?;
            Ok(o)
        })
        .await
}

/// The facilitator must be a facilitating organisation and the policy the owner's own.
fn check_references(conn: &mut DbConnection, o: &Opportunity) -> Result<(), AppError> {
    if let Some(contract) = o.contract_id {
        contracts::check_link(conn, contract, o.organisation_id)?;
    }
    if let Some(f) = o.facilitator_organisation_id {
        match db::organisations::find(conn, f)? {
            Some(org) if org.kinds.contains(&OrganisationKind::Facilitator) => {}
            Some(_) => {
                return Err(AppError::validation(
                    "facilitator_organisation_id",
                    "that organisation is not a facilitator",
                ))
            }
            None => {
                return Err(AppError::validation(
                    "facilitator_organisation_id",
                    "no organisation has this id",
                ))
            }
        }
    }
    if let Some(policy) = o.payment_policy_id {
        let owned = db::organisations::find_policy(conn, policy)?
            .is_some_and(|p| p.organisation_id == o.organisation_id);
        if !owned {
            return Err(AppError::validation(
                "payment_policy_id",
                "is not a payment policy of the organisation that runs the work",
            ));
        }
    }
    Ok(())
}

/// One opportunity with its evidence.
pub async fn get(
    services: &Services,
    principal: &Principal,
    id: OpportunityId,
) -> Result<Opportunity, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| {
            let (mut o, own) = load_visible(conn, &principal, id)?;
            if may_read_records_in(conn, &principal, &o, own.as_ref())? {
                let mut evidence = evidence_for(conn, std::slice::from_ref(&o))?;
                o.evidence = evidence.remove(&o.id);
            }
            Ok(o)
        })
        .await
}

/// Of these opportunities (already visible to the caller), the ids of those whose records
/// (sessions, attendance, decisions, evidence) the caller may read: those they run, and those
/// they are an accepted member of. One query, only when the caller does not run them all.
pub fn records_readable_by(
    conn: &mut DbConnection,
    principal: &Principal,
    opportunities: &[Opportunity],
) -> Result<HashSet<OpportunityId>, AppError> {
    let (managed, unmanaged): (Vec<&Opportunity>, Vec<&Opportunity>) =
        opportunities.iter().partition(|o| can_manage(principal, o));
    let mut readable: HashSet<OpportunityId> = managed.iter().map(|o| o.id).collect();
    readable.extend(contracts::commissioned_among(conn, principal, &unmanaged)?);
    if let (Some(p), false) = (participant_of(principal), unmanaged.is_empty()) {
        let ids: Vec<OpportunityId> = unmanaged.iter().map(|o| o.id).collect();
        readable.extend(
            db::members::of_participant_in(conn, p, &ids)?
                .into_iter()
                .filter(|m| m.status == MemberStatus::Accepted)
                .map(|m| m.opportunity_id),
        );
    }
    Ok(readable)
}

/// A piece of work's records, its evidence among them (exact member and session counts, who
/// took part when), are for those who run the work, its accepted members and admins. Everyone
/// else signed in sees only the advert.
pub fn may_read_records(
    principal: &Principal,
    o: &Opportunity,
    membership: Option<&Membership>,
) -> bool {
    can_manage(principal, o) || membership.is_some_and(|m| m.status == MemberStatus::Accepted)
}

/// [`may_read_records`], or the caller commissions the contract the work is under (API.md:
/// commissioners see the work under their contracts, its sessions, attendance and decisions).
pub fn may_read_records_in(
    conn: &mut DbConnection,
    principal: &Principal,
    o: &Opportunity,
    membership: Option<&Membership>,
) -> Result<bool, AppError> {
    Ok(may_read_records(principal, o, membership) || contracts::commissions(conn, principal, o)?)
}

pub async fn list(
    services: &Services,
    principal: &Principal,
    filter: OpportunityFilter,
    page: PageRequest,
) -> Result<Page<Opportunity>, AppError> {
    let visibility = if principal.is_admin() {
        Visibility::All
    } else if let Some(p) = participant_of(principal) {
        Visibility::Participant(p)
    } else if let (true, Some(org)) = (principal.has(Role::Commissioner), principal.organisation_id)
    {
        Visibility::Commissioner(org)
    } else if let (true, Some(org)) = (principal.is_staff(), principal.organisation_id) {
        Visibility::Organisation(org)
    } else {
        Visibility::AdvertisedOnly
    };
    let rows = services
        .db
        .read(move |conn| db::opportunities::list(conn, &filter, visibility, page))
        .await?;
    Ok(Page::from_rows(rows, page, |o| o.id))
}

pub async fn update(
    services: &Services,
    principal: &Principal,
    id: OpportunityId,
    expected_version: i32,
    patch: &OpportunityPatch,
) -> Result<Opportunity, AppError> {
    let (principal, patch) = (principal.clone(), patch.clone());
    services
        .db
        .transaction(move |conn| {
            let mut o = load_managed(conn, &principal, id)?;
            let stale = o.version != expected_version;
            if matches!(
                o.status,
                OpportunityStatus::Ended | OpportunityStatus::Cancelled
            ) {
                return Err(AppError::Conflict(format!(
                    "the work is {}; it can no longer be changed",
                    o.status.as_str()
                )));
            }
            let default_policy = db::organisations::find(conn, o.organisation_id)?
                .and_then(|org| org.default_payment_policy_id);
            // A change that is not valid is said so first, whatever version it names.
            o.apply(&patch, default_policy, now().date_naive())?;
            if stale {
                return Err(AppError::PreconditionFailed);
            }
            check_references(conn, &o)?;
            o.updated_at = now();
            o.version = expected_version + 1;
            if db::opportunities::update_if_version(conn, &o, expected_version)? {
                Ok(o)
            } else {
                Err(AppError::PreconditionFailed)
            }
        })
        .await
}

/// Moves the work along its lifecycle; a move that is not allowed is a conflict naming the
/// moves that are. `expected_version`, when given, must be current.
pub async fn transition(
    services: &Services,
    principal: &Principal,
    id: OpportunityId,
    to: OpportunityStatus,
    expected_version: Option<i32>,
) -> Result<Opportunity, AppError> {
    let principal = principal.clone();
    services
        .db
        .transaction(move |conn| {
            let mut o = load_managed(conn, &principal, id)?;
            if expected_version.is_some_and(|v| v != o.version) {
                return Err(AppError::PreconditionFailed);
            }
            if let Err(allowed) = check_move(o.status, to) {
                let allowed: Vec<String> = allowed.iter().map(|s| s.as_str().to_owned()).collect();
                return Err(AppError::InvalidTransition {
                    detail: format!(
                        "work that is {} cannot become {}; allowed: {}",
                        o.status.as_str(),
                        to.as_str(),
                        if allowed.is_empty() {
                            "none".to_owned()
                        } else {
                            allowed.join(", ")
                        }
                    ),
                    allowed,
                });
            }
            let at = now();
            if to == OpportunityStatus::Advertised && o.advertised_on.is_none() {
                o.advertised_on = Some(at.date_naive());
            }
            let version = o.version;
            o.status = to;
            o.updated_at = at;
            o.version = version + 1;
            if !db::opportunities::update_if_version(conn, &o, version)? {
                return Err(AppError::PreconditionFailed);
            }
            let outward = match to {
                OpportunityStatus::Advertised => Some(EventType::OpportunityAdvertised),
                OpportunityStatus::Running => Some(EventType::OpportunityStarted),
                OpportunityStatus::Ended => Some(EventType::OpportunityEnded),
                OpportunityStatus::Cancelled => Some(EventType::OpportunityCancelled),
                OpportunityStatus::Draft => None,
            };
            if let Some(t) = outward {
                events::record(
                    conn,
                    NewEvent::new(t, o.organisation_id)
                        .on_work(o.id, o.facilitator_organisation_id)
                        .with_data(serde_json::json!({
                            "opportunity_id": o.id,
                            "title": o.title,
                            "status": o.status,
                        })),
                )?;
            }
            Ok(o)
        })
        .await
}

/// The guide's barriers that apply to one opportunity.
pub async fn inclusion_check(
    services: &Services,
    principal: &Principal,
    id: OpportunityId,
) -> Result<InclusionReport, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| {
            let (o, _) = load_visible(conn, &principal, id)?;
            let sessions = db::sessions::for_opportunities(conn, &[o.id])?;
            let known: HashSet<String> = db::glossary::all_keys(conn)?.into_iter().collect();
            Ok(InclusionReport {
                opportunity_id: o.id,
                barriers: barriers(&o, &sessions, &known),
            })
        })
        .await
}

/// Runs the inclusion check on facts already loaded.
pub fn barriers(
    o: &Opportunity,
    sessions: &[Session],
    glossary_keys: &HashSet<String>,
) -> Vec<inclusion::Barrier> {
    let slots: Vec<SessionSlot> = sessions
        .iter()
        .map(|s| SessionSlot {
            starts_at: s.starts_at,
            duration_minutes: u32::try_from(s.duration_minutes).unwrap_or(0),
            format: s.format,
        })
        .collect();
    let known = |term: &str| glossary_keys.contains(&term.to_lowercase());
    inclusion::check(&inclusion::InclusionFacts {
        advertised_on: o.advertised_on,
        starts_on: o.starts_on,
        sessions: &slots,
        format: o.format,
        payment_offered: o.paid,
        recognition_offered: o.other_recognition.is_some(),
        support_offered: &o.support_offered,
        description: &o.description,
        easy_read: o.easy_read_description.as_deref(),
        glossary: &known,
    })
}

/// The evidenced level of each opportunity, from five queries whatever their number.
pub fn evidence_for(
    conn: &mut DbConnection,
    opportunities: &[Opportunity],
) -> Result<HashMap<OpportunityId, EvidenceSummary>, AppError> {
    let ids: Vec<OpportunityId> = opportunities.iter().map(|o| o.id).collect();
    let sessions = db::sessions::for_opportunities(conn, &ids)?;
    let members = db::members::for_opportunities(conn, &ids)?;
    let session_ids: Vec<SessionId> = sessions.iter().map(|s| s.id).collect();
    let attendance = db::sessions::attendance_for(conn, &session_ids)?;
    let decisions = db::sessions::decisions_for(conn, &session_ids)?;
    let latest_feedback = db::feedback::latest_received_for(conn, &ids)?;
    let at = now();
    Ok(opportunities
        .iter()
        .map(|o| {
            let facts = evidence_facts(
                o,
                &sessions,
                &members,
                &attendance,
                &decisions,
                latest_feedback.get(&o.id).copied(),
                at,
            );
            let evidence = classify(&facts);
            (
                o.id,
                EvidenceSummary {
                    claimed_mode: o.claimed_mode,
                    claim_check: check_claim(o.claimed_mode, evidence.evidenced_level),
                    evidence,
                },
            )
        })
        .collect())
}

/// Reduces one opportunity's records to the facts the classification needs;
/// `latest_feedback_at` is when the latest feedback item about the work came in.
pub fn evidence_facts(
    o: &Opportunity,
    sessions: &[Session],
    members: &[Membership],
    attendance: &[Attendance],
    decisions: &[Decision],
    latest_feedback_at: Option<chrono::DateTime<chrono::Utc>>,
    at: chrono::DateTime<chrono::Utc>,
) -> EvidenceFacts {
    let experience: HashMap<ParticipantId, Experience> = members
        .iter()
        .filter(|m| m.opportunity_id == o.id)
        .map(|m| (m.participant_id, m.experience))
        .collect();
    let own_sessions: Vec<&Session> = sessions
        .iter()
        .filter(|s| s.opportunity_id == o.id)
        .collect();
    // Decisions count once their session has been held, like the sessions themselves.
    let held_session_ids: HashSet<SessionId> = own_sessions
        .iter()
        .filter(|s| s.starts_at <= at)
        .map(|s| s.id)
        .collect();
    let session_facts: Vec<SessionFacts> = own_sessions
        .iter()
        .map(|s| {
            let present: Vec<&Attendance> = attendance
                .iter()
                .filter(|a| a.session_id == s.id)
                .filter(|a| {
                    experience
                        .get(&a.participant_id)
                        .is_some_and(|e| e.counts())
                })
                .collect();
            SessionFacts {
                starts_at: s.starts_at,
                lived_experience_present: u32::try_from(present.len()).unwrap_or(u32::MAX),
                lived_experience_participated: u32::try_from(
                    present
                        .iter()
                        .filter(|a| {
                            a.participation == crate::domain::session::Participation::Participated
                        })
                        .count(),
                )
                .unwrap_or(u32::MAX),
            }
        })
        .collect();
    let member_facts = members
        .iter()
        .filter(|m| m.opportunity_id == o.id)
        .filter_map(|m| {
            // Members who took a place count, including those who later left: they were there.
            m.joined_at.map(|joined_at| MemberFacts {
                joined_at,
                lived_experience: m.experience.lived_experience(),
                carer: m.experience.carer(),
            })
        })
        .collect();
    let session_of: HashMap<SessionId, (chrono::DateTime<chrono::Utc>, bool)> = own_sessions
        .iter()
        .zip(&session_facts)
        .map(|(s, f): (&&Session, &SessionFacts)| {
            (s.id, (s.starts_at, f.lived_experience_present > 0))
        })
        .collect();
    let decision_facts = decisions
        .iter()
        .filter(|d| held_session_ids.contains(&d.session_id))
        .filter_map(|d| {
            let (starts_at, present) = session_of.get(&d.session_id)?;
            Some(DecisionFacts {
                shared_with_lived_experience: d.shared_with_lived_experience,
                session_starts_at: *starts_at,
                lived_experience_present: *present,
            })
        })
        .collect();
    EvidenceFacts {
        kind: o.kind,
        status: o.status,
        now: at,
        sessions: session_facts,
        members: member_facts,
        decisions: decision_facts,
        payment_or_recognition_offered: o.offers_payment_or_recognition(),
        latest_feedback_at,
    }
}

/// The evidence of many opportunities the caller can already see, in six queries, for those
/// of them whose evidence the caller may see (see [`may_see_evidence`]); the rest are absent.
pub async fn evidence_many(
    services: &Services,
    principal: &Principal,
    opportunities: Vec<Opportunity>,
) -> Result<HashMap<OpportunityId, EvidenceSummary>, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| {
            let readable = records_readable_by(conn, &principal, &opportunities)?;
            let shown: Vec<Opportunity> = opportunities
                .into_iter()
                .filter(|o| readable.contains(&o.id))
                .collect();
            evidence_for(conn, &shown)
        })
        .await
}
