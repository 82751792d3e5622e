//! Members of a piece of work: applying, invitations, places, roles in the group, and
//! declarations of interest for tender scoring and interview panels.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::id::{MembershipId, OpportunityId, ParticipantId};

use super::ladder::OpportunityKind;
use super::time::Rfc3339;
use super::validation::{FieldError, Problems};

domain_enum! {
    pub enum MemberStatus as "member status" {
        /// Waiting for staff to accept or decline.
        Applied = "applied",
        /// Staff invited the person; waiting for them to accept.
        Invited = "invited",
        /// Holds a place.
        Accepted = "accepted",
        Declined = "declined",
        Withdrawn = "withdrawn",
    }
}

impl MemberStatus {
    /// Still in play: applied, invited or accepted.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            MemberStatus::Applied | MemberStatus::Invited | MemberStatus::Accepted
        )
    }
}

domain_enum! {
    /// A member's role in the group.
    #[derive(Default)]
    pub enum MemberRole as "member role" {
        #[default]
        Member = "member",
        /// Speaks for a wider group of people with lived experience.
        Representative = "representative",
        CoChair = "co_chair",
        Facilitator = "facilitator",
    }
}

domain_enum! {
    /// What experience a member brings: the honest classification counts lived experience and
    /// caring experience, never staff.
    #[derive(Default)]
    pub enum Experience as "experience" {
        LivedExperience = "lived_experience",
        Carer = "carer",
        Both = "both",
        /// Staff or others without lived or caring experience, and anyone whose experience was not
        /// stated: nothing unstated counts as lived experience.
        #[default]
        None = "none",
    }
}

impl Experience {
    pub fn lived_experience(self) -> bool {
        matches!(self, Experience::LivedExperience | Experience::Both)
    }

    pub fn carer(self) -> bool {
        matches!(self, Experience::Carer | Experience::Both)
    }

    pub fn counts(self) -> bool {
        self != Experience::None
    }
}

/// A declaration of interests, made before scoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InterestDeclaration {
    #[serde(serialize_with = "super::time::rfc3339")]
    pub declared_at: DateTime<Utc>,
    pub has_conflict: bool,
    pub details: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Membership {
    pub id: MembershipId,
    pub opportunity_id: OpportunityId,
    pub participant_id: ParticipantId,
    pub role: MemberRole,
    pub experience: Experience,
    pub status: MemberStatus,
    #[serde(serialize_with = "super::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When the person took up a place.
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    pub joined_at: Option<DateTime<Utc>>,
    /// Joined at or before the first session ("from the start"); unknown until a session exists.
    pub joined_from_start: Option<bool>,
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    pub left_at: Option<DateTime<Utc>>,
    pub interests: Option<InterestDeclaration>,
    /// Scores bids or candidates (tender scoring and interview panels).
    pub scoring: bool,
    pub version: i32,
}

/// What a caller is shown of a membership. A member's experience and their declaration of
/// interests are for the person and the staff who run the work (and admins); everyone else in
/// the group sees `null` there, and sees the member's role, status and dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial, name = "Membership", complex)]
pub struct MemberView {
    pub id: MembershipId,
    pub opportunity_id: OpportunityId,
    pub participant_id: ParticipantId,
    pub role: MemberRole,
    /// `null` unless the caller is this person or runs the work.
    pub experience: Option<Experience>,
    pub status: MemberStatus,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "created_at", into = "Rfc3339", owned))]
    pub created_at: DateTime<Utc>,
    /// When the person took up a place.
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    #[graphql(
        skip,
        derived(
            name = "joined_at",
            into = "Option<Rfc3339>",
            owned,
            with = "Rfc3339::some"
        )
    )]
    pub joined_at: Option<DateTime<Utc>>,
    /// Joined at or before the first session ("from the start"); unknown until a session exists.
    pub joined_from_start: Option<bool>,
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    #[graphql(
        skip,
        derived(
            name = "left_at",
            into = "Option<Rfc3339>",
            owned,
            with = "Rfc3339::some"
        )
    )]
    pub left_at: Option<DateTime<Utc>>,
    /// `null` unless the caller is this person or runs the work (or nothing is declared yet).
    #[graphql(skip)]
    pub interests: Option<InterestDeclaration>,
    /// Whether interests have been declared; `null` for callers who may not see it.
    pub interests_declared: Option<bool>,
    /// Scores bids or candidates (tender scoring and interview panels).
    pub scoring: bool,
    pub version: i32,
}

impl Membership {
    /// The membership as a caller sees it: `private` when the caller is the person or runs the
    /// work.
    pub fn view(self, private: bool) -> MemberView {
        MemberView {
            id: self.id,
            opportunity_id: self.opportunity_id,
            participant_id: self.participant_id,
            role: self.role,
            experience: private.then_some(self.experience),
            status: self.status,
            created_at: self.created_at,
            joined_at: self.joined_at,
            joined_from_start: self.joined_from_start,
            left_at: self.left_at,
            interests_declared: private.then_some(self.interests.is_some()),
            interests: if private { self.interests } else { None },
            scoring: self.scoring,
            version: self.version,
        }
    }
}

/// A participant applying (the body may be empty), or staff inviting someone.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipInput {
    /// Staff name who they invite; a participant applies as themselves.
    #[serde(default)]
    pub participant_id: Option<ParticipantId>,
    #[serde(default)]
    pub role: Option<MemberRole>,
    #[serde(default)]
    pub experience: Option<Experience>,
    /// Staff recording someone who already took part (a provider system posting history) say
    /// when they joined; the person is then a member at once, holding a place. Not in the future.
    #[serde(default)]
    pub joined_at: Option<DateTime<Utc>>,
}

/// A declaration of interests.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterestsInput {
    pub has_conflict: bool,
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub details: Option<String>,
}

impl InterestsInput {
    pub fn parse(&self, at: DateTime<Utc>) -> Result<InterestDeclaration, Vec<FieldError>> {
        let mut p = Problems::default();
        let details = p.optional_text("details", self.details.as_deref(), 2000);
        if self.has_conflict && details.is_none() {
            p.add("details", "say what the conflict of interest is");
        }
        p.finish(InterestDeclaration {
            declared_at: at,
            has_conflict: self.has_conflict,
            details,
        })
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoringInput {
    pub scoring: bool,
}

/// Work whose members score bids or candidates.
pub fn has_scorers(kind: OpportunityKind) -> bool {
    matches!(
        kind,
        OpportunityKind::TenderScoring | OpportunityKind::InterviewPanel
    )
}

/// Why a member may not score, if they may not: "members declare conflicts of interest
/// before scoring".
pub fn scoring_refusal(kind: OpportunityKind, member: &Membership) -> Option<String> {
    if !has_scorers(kind) {
        return Some("only tender scoring and interview panels have scoring members".to_owned());
    }
    if member.status != MemberStatus::Accepted {
        return Some("only accepted members can score".to_owned());
    }
    match &member.interests {
        None => Some("the member has not declared their interests yet".to_owned()),
        Some(d) if d.has_conflict => {
            Some("the member declared a conflict of interest and cannot score".to_owned())
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(interests: Option<InterestDeclaration>) -> Membership {
        Membership {
            id: MembershipId::from_uuid(uuid::Uuid::nil()),
            opportunity_id: OpportunityId::from_uuid(uuid::Uuid::nil()),
            participant_id: ParticipantId::from_uuid(uuid::Uuid::nil()),
            role: MemberRole::Member,
            experience: Experience::LivedExperience,
            status: MemberStatus::Accepted,
            created_at: Utc::now(),
            joined_at: Some(Utc::now()),
            joined_from_start: None,
            left_at: None,
            interests,
            scoring: false,
            version: 1,
        }
    }

    fn declared(conflict: bool) -> Option<InterestDeclaration> {
        Some(InterestDeclaration {
            declared_at: Utc::now(),
            has_conflict: conflict,
            details: conflict.then(|| "bidder is my employer".to_owned()),
        })
    }

    #[test]
    fn a_member_who_has_not_declared_interests_cannot_score() {
        assert!(scoring_refusal(OpportunityKind::TenderScoring, &member(None)).is_some());
    }

    #[test]
    fn a_member_with_a_conflict_cannot_score() {
        assert!(
            scoring_refusal(OpportunityKind::InterviewPanel, &member(declared(true))).is_some()
        );
    }

    #[test]
    fn a_member_who_declared_no_conflict_can_score() {
        assert_eq!(
            scoring_refusal(OpportunityKind::TenderScoring, &member(declared(false))),
            None
        );
    }

    #[test]
    fn only_panels_and_tender_scoring_have_scorers() {
        assert!(scoring_refusal(OpportunityKind::Workshop, &member(declared(false))).is_some());
    }

    #[test]
    fn a_conflict_must_be_described() {
        let input = InterestsInput {
            has_conflict: true,
            details: None,
        };
        assert!(input.parse(Utc::now()).is_err());
    }
}
