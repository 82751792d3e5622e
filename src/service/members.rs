//! Members of a piece of work: applying, invitations, places (never overbooked, even under
//! concurrent applications), withdrawing, and declarations of interest before scoring.

use super::opportunities::{can_manage, load_visible, participant_of};
use super::{events, Services};
use crate::db::{self, DbConnection};
use crate::domain::event::{EventType, NewEvent};
use crate::domain::id::{MembershipId, OpportunityId, ParticipantId};
use crate::domain::identity::Principal;
use crate::domain::ladder::OpportunityStatus;
use crate::domain::membership::{
    scoring_refusal, Experience, InterestsInput, MemberStatus, MemberView, Membership,
    MembershipInput, ScoringInput,
};
use crate::domain::opportunity::{Admission, Opportunity};
use crate::domain::page::{Page, PageRequest};
use crate::domain::participant::{roles_allow, Participant};
use crate::domain::{new_id, now};
use crate::error::AppError;

const NOT_FOUND: AppError = AppError::NotFound("member");

/// A participant applies (their own membership), or staff invite someone.
pub async fn join(
    services: &Services,
    principal: &Principal,
    opportunity_id: OpportunityId,
    input: &MembershipInput,
) -> Result<MemberView, AppError> {
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
                let person = registered_for(conn, &principal, &o, participant)?;
                let experience = experience_for(&person, &input)?;
                let existing = db::members::find_for(conn, o.id, participant)?;
                let mut m = fresh_or_reopened(existing, &o, participant, experience, &input, at)?;
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
                let m = save(conn, m)?;
                publish(conn, &o, &m, None)?;
                Ok(m)
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
                let person = db::participants::find(conn, participant)?.ok_or_else(|| {
                    AppError::Forbidden(
                        "your profile is not registered yet: ask the organisation that supports you to register you".to_owned(),
                    )
                })?;
                if person.is_erased() {
                    return Err(AppError::Conflict(
                        "this person's data has been erased at their request".to_owned(),
                    ));
                }
                let experience = experience_for(&person, &input)?;
                let mut m = fresh_or_reopened(existing, &o, participant, experience, &input, at)?;
                match o.admission {
                    Admission::StaffReview => m.status = MemberStatus::Applied,
                    Admission::FirstCome => {
                        take_place(conn, &o)?;
                        m.status = MemberStatus::Accepted;
                        m.joined_at = Some(at);
                    }
                }
                let m = save(conn, m)?;
                publish(conn, &o, &m, None)?;
                Ok(m)
            } else {
                Err(AppError::Forbidden(
                    "only participants apply; staff of the work invite".to_owned(),
                ))
            }
        })
        .await
        .map(|m| m.view(true))
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

/// The person staff name, if registered by the organisation that runs or facilitates the work
/// (admins may name anyone registered): staff cannot bring in, and so come to read the contact
/// details of, someone another organisation registered.
fn registered_for(
    conn: &mut DbConnection,
    principal: &Principal,
    o: &Opportunity,
    participant_id: ParticipantId,
) -> Result<Participant, AppError> {
    let person = db::participants::find(conn, participant_id)?
        .filter(|p| {
            principal.is_admin()
                || p.organisation_id == o.organisation_id
                || Some(p.organisation_id) == o.facilitator_organisation_id
        })
        .ok_or_else(|| {
            AppError::validation(
                "participant_id",
                "names no participant registered by the organisation that runs or facilitates this work",
            )
        })?;
    if person.is_erased() {
        return Err(AppError::Conflict(
            "this person's data has been erased at their request".to_owned(),
        ));
    }
    Ok(person)
}

/// The experience a member brings: what their profile says unless they bring less (a person
/// with both roles may join a carers' group as a carer). Nothing the profile does not say.
fn experience_for(person: &Participant, input: &MembershipInput) -> Result<Experience, AppError> {
    match input.experience {
        None => Ok(person.experience()),
        Some(e) if roles_allow(&person.roles, e) => Ok(e),
        Some(e) => Err(AppError::validation(
            "experience",
            format!(
                "the person's profile does not say {}: only experience their profile records counts",
                e.as_str()
            ),
        )),
    }
}

/// A new membership, or a closed one (declined, withdrawn) opened again.
fn fresh_or_reopened(
    existing: Option<Membership>,
    o: &Opportunity,
    participant_id: ParticipantId,
    experience: Experience,
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
            m.experience = experience;
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
            experience,
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

/// Tells those outside when a membership reaches a new state: applied, invited, accepted or
/// declined (withdrawals stay between the person and the staff).
fn publish(
    conn: &mut DbConnection,
    o: &Opportunity,
    m: &Membership,
    before: Option<MemberStatus>,
) -> Result<(), AppError> {
    if before == Some(m.status) {
        return Ok(());
    }
    let event_type = match m.status {
        MemberStatus::Applied => EventType::MembershipApplied,
        MemberStatus::Invited => EventType::MembershipInvited,
        MemberStatus::Accepted => EventType::MembershipAccepted,
        MemberStatus::Declined => EventType::MembershipDeclined,
        _ => return Ok(()),
    };
    events::record(
        conn,
        NewEvent::new(event_type, o.organisation_id)
            .on_work(o.id, o.facilitator_organisation_id)
            .for_person(Some(m.participant_id))
            .with_data(serde_json::json!({
                "membership_id": m.id,
                "opportunity_id": o.id,
                "participant_id": m.participant_id,
                "status": m.status,
            })),
    )?;
    Ok(())
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
    opportunity_id: OpportunityId,
    member_id: MembershipId,
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
    opportunity_id: OpportunityId,
    member_id: MembershipId,
) -> Result<MemberView, AppError> {
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
    .map(|m| m.view(true))
}

/// Staff decline an application, or a participant declines an invitation.
pub async fn decline(
    services: &Services,
    principal: &Principal,
    opportunity_id: OpportunityId,
    member_id: MembershipId,
) -> Result<MemberView, AppError> {
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
    .map(|m| m.view(true))
}

/// A participant withdraws (or staff record it); a place held is given back.
pub async fn withdraw(
    services: &Services,
    principal: &Principal,
    opportunity_id: OpportunityId,
    member_id: MembershipId,
) -> Result<MemberView, AppError> {
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
    .map(|m| m.view(true))
}

/// The member (or staff for them) declares interests before scoring.
pub async fn declare_interests(
    services: &Services,
    principal: &Principal,
    opportunity_id: OpportunityId,
    member_id: MembershipId,
    input: &InterestsInput,
) -> Result<MemberView, AppError> {
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
    .map(|m| m.view(true))
}

/// Staff mark a member as scoring (or not): refused while interests are undeclared or conflict.
pub async fn set_scoring(
    services: &Services,
    principal: &Principal,
    opportunity_id: OpportunityId,
    member_id: MembershipId,
    input: &ScoringInput,
) -> Result<MemberView, AppError> {
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
    .map(|m| m.view(true))
}

type Change = dyn FnOnce(&mut DbConnection, &Principal, &Opportunity, &mut Membership) -> Result<(), AppError>
    + Send;

/// Loads the work and the member in one transaction, applies `f`, and writes the member.
async fn change<F>(
    services: &Services,
    principal: &Principal,
    opportunity_id: OpportunityId,
    member_id: MembershipId,
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
            let before = m.status;
            f(conn, &principal, &o, &mut m)?;
            write(conn, &mut m)?;
            publish(conn, &o, &m, Some(before))?;
            Ok(m)
        })
        .await
}

/// The members of a piece of work, for those who run it and for its accepted members, one page
/// at a time.
pub async fn list(
    services: &Services,
    principal: &Principal,
    opportunity_id: OpportunityId,
    page: PageRequest,
) -> Result<Page<MemberView>, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| {
            let (o, own) = load_visible(conn, &principal, opportunity_id)?;
            let staff = can_manage(&principal, &o);
            let member = own.is_some_and(|m| m.status == MemberStatus::Accepted);
            if !(staff || member) {
                // Someone outside the group learns nothing about who is in it.
                return Err(NOT_FOUND);
            }
            let members = db::members::for_opportunities(conn, &[o.id])?;
            let sessions = db::sessions::for_opportunities(conn, &[o.id])?;
            let shown = visible_members(&principal, staff, members, first_held(&sessions, now()));
            Ok(Page::slice(shown, page, |m| m.id))
        })
        .await
}

/// What one caller sees of a group: those who run the work see every member and each one's
/// experience and interests; an accepted member sees the accepted members, and the private
/// details of nobody but themselves.
fn visible_members(
    principal: &Principal,
    staff: bool,
    members: Vec<Membership>,
    first_session: Option<chrono::DateTime<chrono::Utc>>,
) -> Vec<MemberView> {
    with_start(members, first_session)
        .into_iter()
        .filter(|m| staff || m.status == MemberStatus::Accepted)
        .map(|m| {
            let private = staff || is_self(principal, &m);
            m.view(private)
        })
        .collect()
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
    opportunity_id: OpportunityId,
    participant_id: ParticipantId,
) -> Result<Option<Membership>, AppError> {
    Ok(db::members::find_for(conn, opportunity_id, participant_id)?
        .filter(|m| m.status == MemberStatus::Accepted))
}

/// The members of many opportunities (already visible to the caller) for nested lists, in two
/// queries: those who run a piece of work see every member; an accepted member sees the
/// accepted members; anyone else sees nobody.
pub async fn for_many(
    services: &Services,
    principal: &Principal,
    opportunities: Vec<Opportunity>,
) -> Result<std::collections::HashMap<OpportunityId, Vec<MemberView>>, AppError> {
    let principal = principal.clone();
    let me = participant_of(&principal);
    services
        .db
        .read(move |conn| {
            let ids: Vec<OpportunityId> = opportunities.iter().map(|o| o.id).collect();
            let mut all: std::collections::HashMap<OpportunityId, Vec<Membership>> =
                Default::default();
            for m in db::members::for_opportunities(conn, &ids)? {
                all.entry(m.opportunity_id).or_default().push(m);
            }
            let mut sessions: std::collections::HashMap<OpportunityId, Vec<_>> = Default::default();
            for s in db::sessions::for_opportunities(conn, &ids)? {
                sessions.entry(s.opportunity_id).or_default().push(s);
            }
            let at = now();
            Ok(opportunities
                .iter()
                .map(|o| {
                    let group = all.remove(&o.id).unwrap_or_default();
                    let staff = can_manage(&principal, o);
                    let member = me.is_some_and(|p| {
                        group
                            .iter()
                            .any(|m| m.participant_id == p && m.status == MemberStatus::Accepted)
                    });
                    let shown = if staff || member {
                        let first = first_held(sessions.get(&o.id).map_or(&[][..], |s| s), at);
                        visible_members(&principal, staff, group, first)
                    } else {
                        Vec::new()
                    };
                    (o.id, shown)
                })
                .collect())
        })
        .await
}
