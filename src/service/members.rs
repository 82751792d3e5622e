//! Members of a piece of work: applying, invitations, places (never overbooked, even under
//! concurrent applications), withdrawing, and declarations of interest before scoring.

use uuid::Uuid;

use super::opportunities::{can_manage, load_visible, participant_of};
use super::Services;
use crate::db::{self, DbConnection};
use crate::domain::identity::Principal;
use crate::domain::ladder::OpportunityStatus;
use crate::domain::membership::{
    scoring_refusal, InterestsInput, MemberStatus, Membership, MembershipInput, ScoringInput,
};
use crate::domain::opportunity::{Admission, Opportunity};
use crate::domain::{new_id, now};
use crate::error::AppError;

const NOT_FOUND: AppError = AppError::NotFound("member");

/// A participant applies (their own membership), or staff invite someone.
pub async fn join(
    services: &Services,
    principal: &Principal,
    opportunity_id: Uuid,
    input: &MembershipInput,
) -> Result<Membership, AppError> {
    let (principal, input) = (principal.clone(), input.clone());
    services
        .db
        .transaction(move |conn| {
            let (o, existing) = load_visible(conn, &principal, opportunity_id)?;
            let at = now();
            if can_manage(&principal, &o) {
                let participant = input.participant_id.ok_or_else(|| {
                    AppError::validation("participant_id", "name the participant to invite")
                })?;
                refuse_closed(&o)?;
                let existing = db::members::find_for(conn, o.id, participant)?;
                let mut m = fresh_or_reopened(existing, &o, participant, &input, at)?;
                match input.joined_at {
                    Some(joined) if joined > at => {
                        return Err(AppError::validation(
                            "joined_at",
                            "must not be in the future",
                        ))
                    }
                    Some(joined) => {
                        take_place(conn, &o)?;
                        m.status = MemberStatus::Accepted;
                        m.joined_at = Some(crate::domain::truncate_to_micros(joined));
                    }
                    None => m.status = MemberStatus::Invited,
                }
                save(conn, m)
            } else if let Some(participant) = participant_of(&principal) {
                if input.participant_id.is_some_and(|p| p != participant) {
                    return Err(AppError::Forbidden(
                        "participants apply for themselves".to_owned(),
                    ));
                }
                if input.joined_at.is_some() {
                    return Err(AppError::validation(
                        "joined_at",
                        "only staff record when someone joined",
                    ));
                }
                if o.status != OpportunityStatus::Advertised {
                    return Err(AppError::Conflict(
                        "applications open only while the work is advertised".to_owned(),
                    ));
                }
                if o.closing_on.is_some_and(|c| at.date_naive() > c) {
                    return Err(AppError::Conflict("applications have closed".to_owned()));
                }
                let mut m = fresh_or_reopened(existing, &o, participant, &input, at)?;
                match o.admission {
                    Admission::StaffReview => m.status = MemberStatus::Applied,
                    Admission::FirstCome => {
                        take_place(conn, &o)?;
                        m.status = MemberStatus::Accepted;
                        m.joined_at = Some(at);
                    }
                }
                save(conn, m)
            } else {
                Err(AppError::Forbidden(
                    "only participants apply; staff of the work invite".to_owned(),
                ))
            }
        })
        .await
}

fn refuse_closed(o: &Opportunity) -> Result<(), AppError> {
    if matches!(
        o.status,
        OpportunityStatus::Ended | OpportunityStatus::Cancelled
    ) {
        Err(AppError::Conflict(format!(
            "the work is {}",
            o.status.as_str()
        )))
    } else {
        Ok(())
    }
}

/// A new membership, or a closed one (declined, withdrawn) opened again.
fn fresh_or_reopened(
    existing: Option<Membership>,
    o: &Opportunity,
    participant_id: Uuid,
    input: &MembershipInput,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Membership, AppError> {
    match existing {
        Some(m) if m.status.is_open() => Err(AppError::Conflict(format!(
            "this person is already {} for this work",
            m.status.as_str()
        ))),
        Some(mut m) => {
            m.role = input.role.unwrap_or(m.role);
            m.experience = input.experience.unwrap_or(m.experience);
            m.joined_at = None;
            m.left_at = None;
            m.scoring = false;
            Ok(m)
        }
        None => Ok(Membership {
            id: new_id(),
            opportunity_id: o.id,
            participant_id,
            role: input.role.unwrap_or_default(),
            experience: input.experience.unwrap_or_default(),
            status: MemberStatus::Applied,
            created_at: at,
            joined_at: None,
            joined_from_start: None,
            left_at: None,
            interests: None,
            scoring: false,
            version: 0,
        }),
    }
}

/// Inserts a new membership (version 0) or writes a reopened one.
fn save(conn: &mut DbConnection, mut m: Membership) -> Result<Membership, AppError> {
    if m.version == 0 {
        m.version = 1;
        db::members::insert(conn, &m)?;
    } else {
        write(conn, &mut m)?;
    }
    Ok(m)
}

fn write(conn: &mut DbConnection, m: &mut Membership) -> Result<(), AppError> {
    let expected = m.version;
    m.version += 1;
    if db::members::update_if_version(conn, m, expected)? {
        Ok(())
    } else {
        Err(AppError::PreconditionFailed)
    }
}

fn take_place(conn: &mut DbConnection, o: &Opportunity) -> Result<(), AppError> {
    if db::opportunities::take_place(conn, o.id)? {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "no places are left: all {} are taken",
            o.places.unwrap_or_default()
        )))
    }
}

/// Loads a member of the work, checking both belong together.
fn load_member(
    conn: &mut DbConnection,
    opportunity_id: Uuid,
    member_id: Uuid,
) -> Result<Membership, AppError> {
    db::members::find(conn, member_id)?
        .filter(|m| m.opportunity_id == opportunity_id)
        .ok_or(NOT_FOUND)
}

/// The person the membership is about.
fn is_self(principal: &Principal, m: &Membership) -> bool {
    participant_of(principal) == Some(m.participant_id)
}

/// Staff accept an application, or a participant accepts an invitation: either takes a place.
pub async fn accept(
    services: &Services,
    principal: &Principal,
    opportunity_id: Uuid,
    member_id: Uuid,
) -> Result<Membership, AppError> {
    change(
        services,
        principal,
        opportunity_id,
        member_id,
        |conn, principal, o, m| {
            let allowed = match m.status {
                MemberStatus::Applied => can_manage(principal, o),
                MemberStatus::Invited => is_self(principal, m),
                _ => {
                    return Err(AppError::Conflict(format!(
                        "a member who is {} cannot be accepted",
                        m.status.as_str()
                    )))
                }
            };
            if !allowed {
                return Err(AppError::Forbidden(
                    "staff accept applications; the person invited accepts an invitation"
                        .to_owned(),
                ));
            }
            refuse_closed(o)?;
            take_place(conn, o)?;
            m.status = MemberStatus::Accepted;
            m.joined_at = Some(now());
            Ok(())
        },
    )
    .await
}

/// Staff decline an application, or a participant declines an invitation.
pub async fn decline(
    services: &Services,
    principal: &Principal,
    opportunity_id: Uuid,
    member_id: Uuid,
) -> Result<Membership, AppError> {
    change(
        services,
        principal,
        opportunity_id,
        member_id,
        |_, principal, o, m| {
            let allowed = match m.status {
                MemberStatus::Applied => can_manage(principal, o),
                MemberStatus::Invited => is_self(principal, m) || can_manage(principal, o),
                _ => {
                    return Err(AppError::Conflict(format!(
                        "a member who is {} cannot be declined; withdraw instead",
                        m.status.as_str()
                    )))
                }
            };
            if !allowed {
                return Err(AppError::Forbidden("not yours to decline".to_owned()));
            }
            m.status = MemberStatus::Declined;
            Ok(())
        },
    )
    .await
}

/// A participant withdraws (or staff record it); a place held is given back.
pub async fn withdraw(
    services: &Services,
    principal: &Principal,
    opportunity_id: Uuid,
    member_id: Uuid,
) -> Result<Membership, AppError> {
    change(
        services,
        principal,
        opportunity_id,
        member_id,
        |conn, principal, o, m| {
            if !(is_self(principal, m) || can_manage(principal, o)) {
                return Err(AppError::Forbidden("not yours to withdraw".to_owned()));
            }
            if !m.status.is_open() {
                return Err(AppError::Conflict(format!(
                    "a member who is {} cannot withdraw",
                    m.status.as_str()
                )));
            }
            if m.status == MemberStatus::Accepted {
                db::opportunities::release_place(conn, o.id)?;
                m.left_at = Some(now());
            }
            m.status = MemberStatus::Withdrawn;
            m.scoring = false;
            Ok(())
        },
    )
    .await
}

/// The member (or staff for them) declares interests before scoring.
pub async fn declare_interests(
    services: &Services,
    principal: &Principal,
    opportunity_id: Uuid,
    member_id: Uuid,
    input: &InterestsInput,
) -> Result<Membership, AppError> {
    let declaration = input.parse(now())?;
    change(
        services,
        principal,
        opportunity_id,
        member_id,
        move |_, principal, o, m| {
            if !(is_self(principal, m) || can_manage(principal, o)) {
                return Err(AppError::Forbidden("not yours to declare".to_owned()));
            }
            if declaration.has_conflict {
                m.scoring = false;
            }
            m.interests = Some(declaration);
            Ok(())
        },
    )
    .await
}

/// Staff mark a member as scoring (or not): refused while interests are undeclared or conflict.
pub async fn set_scoring(
    services: &Services,
    principal: &Principal,
    opportunity_id: Uuid,
    member_id: Uuid,
    input: &ScoringInput,
) -> Result<Membership, AppError> {
    let scoring = input.scoring;
    change(
        services,
        principal,
        opportunity_id,
        member_id,
        move |_, principal, o, m| {
            if !can_manage(principal, o) {
                return Err(AppError::Forbidden(
                    "only the staff who run the work choose who scores".to_owned(),
                ));
            }
            if scoring {
                if let Some(why) = scoring_refusal(o.kind, m) {
                    return Err(AppError::Conflict(why));
                }
            }
            m.scoring = scoring;
            Ok(())
        },
    )
    .await
}

type Change = dyn FnOnce(&mut DbConnection, &Principal, &Opportunity, &mut Membership) -> Result<(), AppError>
    + Send;

/// Loads the work and the member in one transaction, applies `f`, and writes the member.
async fn change<F>(
    services: &Services,
    principal: &Principal,
    opportunity_id: Uuid,
    member_id: Uuid,
    f: F,
) -> Result<Membership, AppError>
where
    F: FnOnce(&mut DbConnection, &Principal, &Opportunity, &mut Membership) -> Result<(), AppError>
        + Send
        + 'static,
{
    let principal = principal.clone();
    let f: Box<Change> = Box::new(f);
    services
        .db
        .transaction(move |conn| {
            let (o, _) = load_visible(conn, &principal, opportunity_id)?;
            let mut m = load_member(conn, opportunity_id, member_id)?;
            if !(can_manage(&principal, &o) || is_self(&principal, &m)) {
                return Err(NOT_FOUND);
            }
            f(conn, &principal, &o, &mut m)?;
            write(conn, &mut m)?;
            Ok(m)
        })
        .await
}

/// The members of a piece of work, for those who run it and for its accepted members.
pub async fn list(
    services: &Services,
    principal: &Principal,
    opportunity_id: Uuid,
) -> Result<Vec<Membership>, AppError> {
    let principal = principal.clone();
    services
        .db
        .run(move |conn| {
            let (o, own) = load_visible(conn, &principal, opportunity_id)?;
            let staff = can_manage(&principal, &o);
            let member = own.is_some_and(|m| m.status == MemberStatus::Accepted);
            if !(staff || member) {
                // Someone outside the group learns nothing about who is in it.
                return Err(NOT_FOUND);
            }
            let mut members = db::members::for_opportunities(conn, &[o.id])?;
            if !staff {
                members.retain(|m| m.status == MemberStatus::Accepted);
            }
            let sessions = db::sessions::for_opportunities(conn, &[o.id])?;
            Ok(with_start(members, first_held(&sessions, now())))
        })
        .await
}

/// When the first session that has already started began: planned sessions are not evidence.
pub fn first_held(
    sessions: &[crate::domain::session::Session],
    at: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    sessions
        .iter()
        .map(|s| s.starts_at)
        .filter(|start| *start <= at)
        .min()
}

/// Marks each member as having joined from the start or not, given the first held session.
pub fn with_start(
    mut members: Vec<Membership>,
    first_session: Option<chrono::DateTime<chrono::Utc>>,
) -> Vec<Membership> {
    for m in &mut members {
        m.joined_from_start = match (m.joined_at, first_session) {
            (Some(joined), Some(first)) => Some(joined <= first),
            (None, Some(_)) => Some(false),
            _ => None,
        };
    }
    members
}

/// Used by the sessions module: the accepted member a participant is, if any.
pub fn accepted_member(
    conn: &mut DbConnection,
    opportunity_id: Uuid,
    participant_id: Uuid,
) -> Result<Option<Membership>, AppError> {
    Ok(db::members::find_for(conn, opportunity_id, participant_id)?
        .filter(|m| m.status == MemberStatus::Accepted))
}

/// The members of many opportunities for nested lists, in one query. `keys` pairs each
/// opportunity with whether the caller runs it: those who run it see every member; an
/// accepted member sees the accepted members; anyone else sees nobody.
pub async fn for_many(
    services: &Services,
    principal: &Principal,
    keys: Vec<(Uuid, bool)>,
) -> Result<std::collections::HashMap<Uuid, Vec<Membership>>, AppError> {
    let me = participant_of(principal);
    services
        .db
        .run(move |conn| {
            let ids: Vec<Uuid> = keys.iter().map(|(id, _)| *id).collect();
            let all = db::members::for_opportunities(conn, &ids)?;
            Ok(keys
                .into_iter()
                .map(|(id, manage)| {
                    let group: Vec<Membership> = all
                        .iter()
                        .filter(|m| m.opportunity_id == id)
                        .cloned()
                        .collect();
                    let member = me.is_some_and(|p| {
                        group
                            .iter()
                            .any(|m| m.participant_id == p && m.status == MemberStatus::Accepted)
                    });
                    let visible = if manage {
                        group
                    } else if member {
                        group
                            .into_iter()
                            .filter(|m| m.status == MemberStatus::Accepted)
                            .collect()
                    } else {
                        Vec::new()
                    };
                    (id, visible)
                })
                .collect())
        })
        .await
}
