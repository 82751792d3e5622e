//! Opportunities, members, sessions, attendance, decisions and the glossary in GraphQL.
//! Nested lists go through the DataLoaders in `loaders`.

use async_graphql::connection::Connection;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::loaders::{AttendanceAt, DecisionsAt, EvidenceOf, Loaders, MembersOf, SessionsOf};
use super::{caller, connection, cost_of_page, page_request, services, GqlResult};
use crate::domain::glossary::{GlossaryInput, GlossaryTerm};
use crate::domain::inclusion::Barrier;
use crate::domain::inclusion::Format;
use crate::domain::inclusion::Support;
use crate::domain::ladder::ClaimCheck;
use crate::domain::ladder::CriterionResult;
use crate::domain::ladder::LadderLevel;
use crate::domain::ladder::OpportunityKind;
use crate::domain::ladder::OpportunityStatus;
use crate::domain::ladder::WorkingMode;
use crate::domain::membership::Experience;
use crate::domain::membership::MemberRole;
use crate::domain::membership::MemberStatus;
use crate::domain::membership::{InterestsInput, MemberView, MembershipInput, ScoringInput};
use crate::domain::opportunity::Admission;
use crate::domain::opportunity::LivedExperienceArea;
use crate::domain::opportunity::{
    EvidenceSummary, Opportunity, OpportunityFilter, OpportunityInput, OpportunityPatch,
};
use crate::domain::page::Page;
use crate::domain::session::Participation;
use crate::domain::session::{
    Attendance, AttendanceInput, Decision, DecisionInput, Session, SessionInput, SessionRecord,
};
use crate::service::{glossary, members, opportunities, sessions};

fn loader<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a DataLoader<Loaders>> {
    ctx.data::<DataLoader<Loaders>>()
}

pub struct OpportunityNode(pub Opportunity);

/// A piece of work people with lived experience are invited into.
#[Object(name = "Opportunity")]
impl OpportunityNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn organisation_id(&self) -> Uuid {
        self.0.organisation_id
    }
    async fn contract_id(&self) -> Option<Uuid> {
        self.0.contract_id
    }
    async fn facilitator_organisation_id(&self) -> Option<Uuid> {
        self.0.facilitator_organisation_id
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn easy_read_description(&self) -> Option<&str> {
        self.0.easy_read_description.as_deref()
    }
    async fn kind(&self) -> OpportunityKind {
        self.0.kind
    }
    async fn claimed_mode(&self) -> WorkingMode {
        self.0.claimed_mode
    }
    async fn status(&self) -> OpportunityStatus {
        self.0.status
    }
    async fn starts_on(&self) -> Option<NaiveDate> {
        self.0.starts_on
    }
    async fn ends_on(&self) -> Option<NaiveDate> {
        self.0.ends_on
    }
    async fn format(&self) -> Format {
        self.0.format
    }
    async fn venue(&self) -> Option<&str> {
        self.0.venue.as_deref()
    }
    async fn places(&self) -> Option<i32> {
        self.0.places
    }
    async fn places_taken(&self) -> i32 {
        self.0.places_taken
    }
    async fn places_left(&self) -> Option<i32> {
        self.0.places_left()
    }
    async fn time_commitment(&self) -> Option<&str> {
        self.0.time_commitment.as_deref()
    }
    async fn paid(&self) -> bool {
        self.0.paid
    }
    async fn payment_policy_id(&self) -> Option<Uuid> {
        self.0.payment_policy_id
    }
    async fn other_recognition(&self) -> Option<&str> {
        self.0.other_recognition.as_deref()
    }
    async fn support_offered(&self) -> Vec<Support> {
        self.0.support_offered.clone()
    }
    async fn lived_experience_areas(&self) -> Vec<LivedExperienceArea> {
        self.0.lived_experience_areas.clone()
    }
    async fn for_carers(&self) -> bool {
        self.0.for_carers
    }
    async fn admission(&self) -> Admission {
        self.0.admission
    }
    async fn advertised_on(&self) -> Option<NaiveDate> {
        self.0.advertised_on
    }
    async fn closing_on(&self) -> Option<NaiveDate> {
        self.0.closing_on
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Send back as `expectedVersion` to update.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// The honest classification: the evidenced level beside the claim, and each criterion.
    async fn evidence(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<EvidenceNode>> {
        Ok(loader(ctx)?
            .load_one(EvidenceOf(self.0.clone()))
            .await?
            .map(EvidenceNode))
    }

    /// The members: everyone for those who run the work; accepted members for its members;
    /// nobody for anyone else. Experience and interests only for the person and the staff who
    /// run the work.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, MembershipNode>> {
        let request = page_request(first, after)?;
        let list = loader(ctx)?
            .load_one(MembersOf(self.0.clone()))
            .await?
            .unwrap_or_default();
        Ok(connection(
            Page::slice(list, request, |m| m.id),
            request,
            |m| m.id,
            MembershipNode,
        ))
    }

    /// Sessions by start time, for those who run the work and its accepted members.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, SessionNode>> {
        let request = page_request(first, after)?;
        let list = loader(ctx)?
            .load_one(SessionsOf(self.0.clone()))
            .await?
            .unwrap_or_default();
        Ok(connection(
            Page::slice(list, request, |s| s.id),
            request,
            |s| s.id,
            SessionNode,
        ))
    }

    /// The guide's barriers that apply to this work.
    async fn inclusion_check(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<BarrierNode>> {
        let report = opportunities::inclusion_check(services(ctx)?, caller(ctx)?, self.0.id)
            .await
            .gql()?;
        Ok(report.barriers.into_iter().map(BarrierNode).collect())
    }
}

pub struct EvidenceNode(pub EvidenceSummary);

/// What the evidence shows about one piece of work.
#[Object(name = "Evidence")]
impl EvidenceNode {
    async fn claimed_mode(&self) -> WorkingMode {
        self.0.claimed_mode
    }
    async fn evidenced_level(&self) -> LadderLevel {
        self.0.evidence.evidenced_level
    }
    async fn claim_check(&self) -> ClaimCheck {
        self.0.claim_check
    }
    async fn level_reason(&self) -> &str {
        &self.0.evidence.level_reason
    }
    async fn criteria(&self) -> &[CriterionResult] {
        &self.0.evidence.criteria
    }
}

pub struct BarrierNode(pub Barrier);

/// One of the guide's barriers to taking part.
#[Object(name = "Barrier")]
impl BarrierNode {
    async fn code(&self) -> &str {
        self.0.code
    }
    async fn message(&self) -> &str {
        &self.0.message
    }
    /// The guide's own words.
    async fn guide_quote(&self) -> &str {
        self.0.guide_quote
    }
}

pub struct MembershipNode(pub MemberView);

/// A person's place in a piece of work.
#[Object(name = "Membership")]
impl MembershipNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn opportunity_id(&self) -> Uuid {
        self.0.opportunity_id
    }
    async fn participant_id(&self) -> Uuid {
        self.0.participant_id
    }
    async fn role(&self) -> MemberRole {
        self.0.role
    }
    /// Null unless the caller is this person or runs the work.
    async fn experience(&self) -> Option<Experience> {
        self.0.experience
    }
    async fn status(&self) -> MemberStatus {
        self.0.status
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn joined_at(&self) -> Option<DateTime<Utc>> {
        self.0.joined_at
    }
    async fn left_at(&self) -> Option<DateTime<Utc>> {
        self.0.left_at
    }
    /// Joined at or before the first session; null until a session exists.
    async fn joined_from_start(&self) -> Option<bool> {
        self.0.joined_from_start
    }
    /// Null unless the caller is this person or runs the work.
    async fn interests_declared(&self) -> Option<bool> {
        self.0.interests_declared
    }
    /// Null unless the caller is this person or runs the work.
    async fn has_conflict_of_interest(&self) -> Option<bool> {
        self.0
            .interests_declared
            .map(|_| self.0.interests.as_ref().is_some_and(|i| i.has_conflict))
    }
    /// What the declared conflict is; null unless the caller is this person or runs the work.
    async fn conflict_of_interest_details(&self) -> Option<&str> {
        self.0.interests.as_ref().and_then(|i| i.details.as_deref())
    }
    async fn scoring(&self) -> bool {
        self.0.scoring
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
}

pub struct SessionNode(pub Session);

/// A meeting or event of a piece of work.
#[Object(name = "Session")]
impl SessionNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn opportunity_id(&self) -> Uuid {
        self.0.opportunity_id
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn duration_minutes(&self) -> i32 {
        self.0.duration_minutes
    }
    async fn format(&self) -> Format {
        self.0.format
    }
    async fn lived_experience_agenda_slot(&self) -> bool {
        self.0.lived_experience_agenda_slot
    }
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn attendance(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Attendance>> {
        let request = page_request(first, after)?;
        let list = loader(ctx)?
            .load_one(AttendanceAt(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(connection(
            Page::slice(list, request, |a| a.id),
            request,
            |a| a.id,
            |a| a,
        ))
    }
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn decisions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Decision>> {
        let request = page_request(first, after)?;
        let list = loader(ctx)?
            .load_one(DecisionsAt(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(connection(
            Page::slice(list, request, |d| d.id),
            request,
            |d| d.id,
            |d| d,
        ))
    }
}

#[derive(SimpleObject)]
#[graphql(name = "GlossaryTerm")]
pub struct GlossaryTermGql {
    pub id: Uuid,
    pub term: String,
    pub meaning: String,
}

impl From<GlossaryTerm> for GlossaryTermGql {
    fn from(t: GlossaryTerm) -> Self {
        Self {
            id: t.id,
            term: t.term,
            meaning: t.meaning,
        }
    }
}

/// A session with what was recorded at it, as returned by `createSession`.
#[derive(SimpleObject)]
#[graphql(name = "SessionRecord")]
pub struct SessionRecordGql {
    pub session: SessionNode,
    pub attendance: Vec<Attendance>,
    pub decisions: Vec<Decision>,
}

impl From<SessionRecord> for SessionRecordGql {
    fn from(r: SessionRecord) -> Self {
        Self {
            session: SessionNode(r.session),
            attendance: r.attendance,
            decisions: r.decisions,
        }
    }
}

#[derive(InputObject, Default)]
#[graphql(name = "OpportunityFilter")]
pub struct OpportunityFilterGql {
    pub status: Option<OpportunityStatus>,
    pub kind: Option<OpportunityKind>,
    pub format: Option<Format>,
    pub lived_experience_area: Option<LivedExperienceArea>,
    pub paid: Option<bool>,
    pub support: Option<Support>,
    pub starts_after: Option<NaiveDate>,
    pub starts_before: Option<NaiveDate>,
    pub has_places: Option<bool>,
    pub organisation_id: Option<Uuid>,
}

impl From<OpportunityFilterGql> for OpportunityFilter {
    fn from(f: OpportunityFilterGql) -> Self {
        Self {
            status: f.status,
            kind: f.kind,
            format: f.format,
            lived_experience_area: f.lived_experience_area,
            paid: f.paid,
            support: f.support,
            starts_after: f.starts_after,
            starts_before: f.starts_before,
            has_places: f.has_places,
            organisation_id: f.organisation_id,
        }
    }
}

#[derive(InputObject)]
#[graphql(name = "OpportunityInput")]
pub struct OpportunityInputGql {
    pub organisation_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub facilitator_organisation_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub easy_read_description: Option<String>,
    pub kind: OpportunityKind,
    pub claimed_mode: WorkingMode,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub format: Format,
    pub venue: Option<String>,
    pub places: Option<i32>,
    pub time_commitment: Option<String>,
    #[graphql(default)]
    pub paid: bool,
    pub payment_policy_id: Option<Uuid>,
    pub other_recognition: Option<String>,
    #[graphql(default)]
    pub support_offered: Vec<Support>,
    #[graphql(default)]
    pub lived_experience_areas: Vec<LivedExperienceArea>,
    #[graphql(default)]
    pub for_carers: bool,
    pub admission: Option<Admission>,
    pub closing_on: Option<NaiveDate>,
    /// When the work was first advertised, for work recorded after the fact.
    pub advertised_on: Option<NaiveDate>,
}

impl From<OpportunityInputGql> for OpportunityInput {
    fn from(i: OpportunityInputGql) -> Self {
        Self {
            organisation_id: i.organisation_id,
            contract_id: i.contract_id,
            facilitator_organisation_id: i.facilitator_organisation_id,
            title: i.title,
            description: i.description,
            easy_read_description: i.easy_read_description,
            kind: i.kind,
            claimed_mode: i.claimed_mode,
            starts_on: i.starts_on,
            ends_on: i.ends_on,
            format: i.format,
            venue: i.venue,
            places: i.places,
            time_commitment: i.time_commitment,
            paid: i.paid,
            payment_policy_id: i.payment_policy_id,
            other_recognition: i.other_recognition,
            support_offered: i.support_offered,
            lived_experience_areas: i.lived_experience_areas,
            for_carers: i.for_carers,
            admission: i.admission.unwrap_or_default(),
            closing_on: i.closing_on,
            advertised_on: i.advertised_on,
        }
    }
}

/// Absent fields stay as they are; `null` clears a field that may be empty.
#[derive(InputObject, Default)]
#[graphql(name = "OpportunityPatch")]
pub struct OpportunityPatchGql {
    pub title: Option<String>,
    pub description: Option<String>,
    pub easy_read_description: MaybeUndefined<String>,
    pub kind: Option<OpportunityKind>,
    pub claimed_mode: Option<WorkingMode>,
    pub starts_on: MaybeUndefined<NaiveDate>,
    pub ends_on: MaybeUndefined<NaiveDate>,
    pub format: Option<Format>,
    pub venue: MaybeUndefined<String>,
    pub places: MaybeUndefined<i32>,
    pub time_commitment: MaybeUndefined<String>,
    pub paid: Option<bool>,
    pub payment_policy_id: MaybeUndefined<Uuid>,
    pub other_recognition: MaybeUndefined<String>,
    pub support_offered: Option<Vec<Support>>,
    pub lived_experience_areas: Option<Vec<LivedExperienceArea>>,
    pub for_carers: Option<bool>,
    pub admission: Option<Admission>,
    pub closing_on: MaybeUndefined<NaiveDate>,
    pub facilitator_organisation_id: MaybeUndefined<Uuid>,
    pub contract_id: MaybeUndefined<Uuid>,
    pub advertised_on: MaybeUndefined<NaiveDate>,
}

fn maybe<T>(m: MaybeUndefined<T>) -> Option<Option<T>> {
    match m {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

impl From<OpportunityPatchGql> for OpportunityPatch {
    fn from(p: OpportunityPatchGql) -> Self {
        Self {
            title: p.title,
            description: p.description,
            easy_read_description: maybe(p.easy_read_description),
            kind: p.kind,
            claimed_mode: p.claimed_mode,
            starts_on: maybe(p.starts_on),
            ends_on: maybe(p.ends_on),
            format: p.format,
            venue: maybe(p.venue),
            places: maybe(p.places),
            time_commitment: maybe(p.time_commitment),
            paid: p.paid,
            payment_policy_id: maybe(p.payment_policy_id),
            other_recognition: maybe(p.other_recognition),
            support_offered: p.support_offered,
            lived_experience_areas: p.lived_experience_areas,
            for_carers: p.for_carers,
            admission: p.admission,
            closing_on: maybe(p.closing_on),
            facilitator_organisation_id: maybe(p.facilitator_organisation_id),
            contract_id: maybe(p.contract_id),
            advertised_on: maybe(p.advertised_on),
        }
    }
}

#[derive(InputObject)]
#[graphql(name = "AttendanceInput")]
pub struct AttendanceInputGql {
    pub participant_id: Uuid,
    pub minutes: i32,
    pub participation: Participation,
}

impl From<AttendanceInputGql> for AttendanceInput {
    fn from(a: AttendanceInputGql) -> Self {
        Self {
            participant_id: a.participant_id,
            minutes: a.minutes,
            participation: a.participation,
        }
    }
}

#[derive(InputObject)]
#[graphql(name = "DecisionInput")]
pub struct DecisionInputGql {
    pub description: String,
    pub shared_with_lived_experience: bool,
}

impl From<DecisionInputGql> for DecisionInput {
    fn from(d: DecisionInputGql) -> Self {
        Self {
            description: d.description,
            shared_with_lived_experience: d.shared_with_lived_experience,
        }
    }
}

#[derive(InputObject)]
#[graphql(name = "SessionInput")]
pub struct SessionInputGql {
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub format: Format,
    #[graphql(default)]
    pub lived_experience_agenda_slot: bool,
    #[graphql(default)]
    pub attendance: Vec<AttendanceInputGql>,
    #[graphql(default)]
    pub decisions: Vec<DecisionInputGql>,
}

impl From<SessionInputGql> for SessionInput {
    fn from(s: SessionInputGql) -> Self {
        Self {
            starts_at: s.starts_at,
            duration_minutes: s.duration_minutes,
            format: s.format,
            lived_experience_agenda_slot: s.lived_experience_agenda_slot,
            attendance: s.attendance.into_iter().map(Into::into).collect(),
            decisions: s.decisions.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Default)]
pub struct OpportunityQuery;

#[Object]
impl OpportunityQuery {
    /// Advertised work is open to everyone signed in; staff also see their organisation's
    /// work, participants the work they are members of.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn opportunities(
        &self,
        ctx: &Context<'_>,
        filter: Option<OpportunityFilterGql>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, OpportunityNode>> {
        let request = page_request(first, after)?;
        let filter = filter.unwrap_or_default().into();
        let page = opportunities::list(services(ctx)?, caller(ctx)?, filter, request)
            .await
            .gql()?;
        Ok(connection(page, request, |o| o.id, OpportunityNode))
    }

    async fn opportunity(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<OpportunityNode> {
        opportunities::get(services(ctx)?, caller(ctx)?, id)
            .await
            .gql()
            .map(OpportunityNode)
    }

    /// Plain-English meanings of the words services use.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn glossary(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, GlossaryTermGql>> {
        caller(ctx)?;
        let request = page_request(first, after)?;
        let page = glossary::list(services(ctx)?, request).await.gql()?;
        Ok(connection(page, request, |t| t.id, GlossaryTermGql::from))
    }
}

#[derive(Default)]
pub struct OpportunityMutation;

async fn move_to(
    ctx: &Context<'_>,
    id: Uuid,
    to: OpportunityStatus,
    expected_version: Option<i32>,
) -> async_graphql::Result<OpportunityNode> {
    opportunities::transition(services(ctx)?, caller(ctx)?, id, to, expected_version)
        .await
        .gql()
        .map(OpportunityNode)
}

#[Object]
impl OpportunityMutation {
    async fn create_opportunity(
        &self,
        ctx: &Context<'_>,
        input: OpportunityInputGql,
    ) -> async_graphql::Result<OpportunityNode> {
        opportunities::create(services(ctx)?, caller(ctx)?, &input.into())
            .await
            .gql()
            .map(OpportunityNode)
    }

    /// `expectedVersion` is the `version` last read; a stale one is refused.
    async fn update_opportunity(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        expected_version: i32,
        input: OpportunityPatchGql,
    ) -> async_graphql::Result<OpportunityNode> {
        opportunities::update(
            services(ctx)?,
            caller(ctx)?,
            id,
            expected_version,
            &input.into(),
        )
        .await
        .gql()
        .map(OpportunityNode)
    }

    async fn advertise_opportunity(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<OpportunityNode> {
        move_to(ctx, id, OpportunityStatus::Advertised, expected_version).await
    }

    async fn start_opportunity(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<OpportunityNode> {
        move_to(ctx, id, OpportunityStatus::Running, expected_version).await
    }

    async fn end_opportunity(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<OpportunityNode> {
        move_to(ctx, id, OpportunityStatus::Ended, expected_version).await
    }

    async fn cancel_opportunity(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<OpportunityNode> {
        move_to(ctx, id, OpportunityStatus::Cancelled, expected_version).await
    }

    /// A participant applies for themselves.
    async fn apply_to_opportunity(
        &self,
        ctx: &Context<'_>,
        opportunity_id: Uuid,
        experience: Option<Experience>,
    ) -> async_graphql::Result<MembershipNode> {
        let input = MembershipInput {
            participant_id: None,
            role: None,
            experience,
            joined_at: None,
        };
        let m = members::join(services(ctx)?, caller(ctx)?, opportunity_id, &input)
            .await
            .gql()?;
        Ok(MembershipNode(m))
    }

    /// Staff of the work invite a participant; with `joinedAt`, they record someone who
    /// already took part (a member at once, holding a place).
    async fn invite_member(
        &self,
        ctx: &Context<'_>,
        opportunity_id: Uuid,
        participant_id: Uuid,
        role: Option<MemberRole>,
        experience: Option<Experience>,
        joined_at: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<MembershipNode> {
        let input = MembershipInput {
            participant_id: Some(participant_id),
            role,
            experience,
            joined_at,
        };
        let m = members::join(services(ctx)?, caller(ctx)?, opportunity_id, &input)
            .await
            .gql()?;
        Ok(MembershipNode(m))
    }

    async fn accept_member(
        &self,
        ctx: &Context<'_>,
        opportunity_id: Uuid,
        member_id: Uuid,
    ) -> async_graphql::Result<MembershipNode> {
        let m = members::accept(services(ctx)?, caller(ctx)?, opportunity_id, member_id)
            .await
            .gql()?;
        Ok(MembershipNode(m))
    }

    async fn decline_member(
        &self,
        ctx: &Context<'_>,
        opportunity_id: Uuid,
        member_id: Uuid,
    ) -> async_graphql::Result<MembershipNode> {
        let m = members::decline(services(ctx)?, caller(ctx)?, opportunity_id, member_id)
            .await
            .gql()?;
        Ok(MembershipNode(m))
    }

    async fn withdraw_member(
        &self,
        ctx: &Context<'_>,
        opportunity_id: Uuid,
        member_id: Uuid,
    ) -> async_graphql::Result<MembershipNode> {
        let m = members::withdraw(services(ctx)?, caller(ctx)?, opportunity_id, member_id)
            .await
            .gql()?;
        Ok(MembershipNode(m))
    }

    async fn declare_interests(
        &self,
        ctx: &Context<'_>,
        opportunity_id: Uuid,
        member_id: Uuid,
        has_conflict: bool,
        details: Option<String>,
    ) -> async_graphql::Result<MembershipNode> {
        let input = InterestsInput {
            has_conflict,
            details,
        };
        let m = members::declare_interests(
            services(ctx)?,
            caller(ctx)?,
            opportunity_id,
            member_id,
            &input,
        )
        .await
        .gql()?;
        Ok(MembershipNode(m))
    }

    async fn set_member_scoring(
        &self,
        ctx: &Context<'_>,
        opportunity_id: Uuid,
        member_id: Uuid,
        scoring: bool,
    ) -> async_graphql::Result<MembershipNode> {
        let input = ScoringInput { scoring };
        let m = members::set_scoring(
            services(ctx)?,
            caller(ctx)?,
            opportunity_id,
            member_id,
            &input,
        )
        .await
        .gql()?;
        Ok(MembershipNode(m))
    }

    /// A session with its attendance and decisions: all stored, or none.
    async fn create_session(
        &self,
        ctx: &Context<'_>,
        opportunity_id: Uuid,
        input: SessionInputGql,
    ) -> async_graphql::Result<SessionRecordGql> {
        sessions::create(services(ctx)?, caller(ctx)?, opportunity_id, &input.into())
            .await
            .gql()
            .map(Into::into)
    }

    async fn record_attendance(
        &self,
        ctx: &Context<'_>,
        session_id: Uuid,
        input: AttendanceInputGql,
    ) -> async_graphql::Result<Attendance> {
        sessions::record_attendance(services(ctx)?, caller(ctx)?, session_id, &input.into())
            .await
            .gql()
    }

    async fn record_decision(
        &self,
        ctx: &Context<'_>,
        session_id: Uuid,
        input: DecisionInputGql,
    ) -> async_graphql::Result<Decision> {
        sessions::record_decision(services(ctx)?, caller(ctx)?, session_id, &input.into())
            .await
            .gql()
    }

    async fn add_glossary_term(
        &self,
        ctx: &Context<'_>,
        term: String,
        meaning: String,
    ) -> async_graphql::Result<GlossaryTermGql> {
        glossary::add(
            services(ctx)?,
            caller(ctx)?,
            &GlossaryInput { term, meaning },
        )
        .await
        .gql()
        .map(Into::into)
    }
}
