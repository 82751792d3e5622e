//! Opportunities, members, sessions, attendance, decisions and the glossary in GraphQL.
//! Nested lists go through the DataLoaders in `loaders`.

use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, NaiveDate, Utc};

use super::loaders::{AttendanceAt, DecisionsAt, EvidenceOf, Loaders, MembersOf, SessionsOf};
use super::plain::PlainConnection;
use super::{
    caller, connection, cost_of_page, page_request, plain_connection, services, GqlResult,
    IdConnection,
};
use crate::domain::glossary::{GlossaryInput, GlossaryTerm};
use crate::domain::id::{
    ContractId, MembershipId, OpportunityId, OrganisationId, ParticipantId, PaymentPolicyId,
    SessionId,
};
use crate::domain::inclusion::{Barrier, Format, Support};
use crate::domain::ladder::{ClaimCheck, CriterionResult, LadderLevel, OpportunityKind};
use crate::domain::ladder::{OpportunityStatus, WorkingMode};
use crate::domain::membership::{
    Experience, InterestsInput, MemberRole, MemberView, MembershipInput, ScoringInput,
};
use crate::domain::opportunity::{
    Admission, EvidenceSummary, LivedExperienceArea, Opportunity, OpportunityFilter,
    OpportunityInput, OpportunityPatch,
};
use crate::domain::page::Page;
use crate::domain::session::{
    Attendance, AttendanceFilter, AttendanceInput, Decision, DecisionInput, Session, SessionInput,
    SessionRecord,
};
use crate::error::AppError;
use crate::service::{glossary, members, opportunities, sessions};

fn loader<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a DataLoader<Loaders>> {
    ctx.data::<DataLoader<Loaders>>()
}

#[ComplexObject]
impl Opportunity {
    /// Places still open; null when there is no limit.
    #[graphql(name = "placesLeft")]
    async fn places_left_now(&self) -> Option<i32> {
        self.places_left()
    }

    /// The honest classification: the evidenced level beside the claim, and each criterion.
    async fn evidence(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<EvidenceNode>> {
        Ok(loader(ctx)?
            .load_one(EvidenceOf(self.clone()))
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
    ) -> async_graphql::Result<IdConnection<MemberView>> {
        let request = page_request(first, after)?;
        let list = loader(ctx)?
            .load_one(MembersOf(self.clone()))
            .await?
            .unwrap_or_default();
        Ok(connection(
            Page::slice(list, request, |m| m.id),
            request,
            |m| m.id,
            |m| m,
        ))
    }

    /// Sessions by start time, for those who run the work and its accepted members.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<IdConnection<Session>> {
        let request = page_request(first, after)?;
        let list = loader(ctx)?
            .load_one(SessionsOf(self.clone()))
            .await?
            .unwrap_or_default();
        Ok(connection(
            Page::slice(list, request, |s| s.id),
            request,
            |s| s.id,
            |s| s,
        ))
    }

    /// The guide's barriers that apply to this work.
    async fn inclusion_check(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Barrier>> {
        let report = opportunities::inclusion_check(services(ctx)?, caller(ctx)?, self.id)
            .await
            .gql()?;
        Ok(report.barriers)
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

#[ComplexObject]
impl MemberView {
    /// Null unless the caller is this person or runs the work.
    async fn has_conflict_of_interest(&self) -> Option<bool> {
        self.interests_declared
            .map(|_| self.interests.as_ref().is_some_and(|i| i.has_conflict))
    }
    /// What the declared conflict is; null unless the caller is this person or runs the work.
    async fn conflict_of_interest_details(&self) -> Option<&str> {
        self.interests.as_ref().and_then(|i| i.details.as_deref())
    }
}

#[ComplexObject]
impl Session {
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn attendance(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<Attendance>> {
        let request = page_request(first, after)?;
        let list = loader(ctx)?
            .load_one(AttendanceAt(self.id))
            .await?
            .unwrap_or_default();
        Ok(plain_connection(
            Page::slice(list, request, |a| a.id),
            request,
            |a| a.id,
        ))
    }
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn decisions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<Decision>> {
        let request = page_request(first, after)?;
        let list = loader(ctx)?
            .load_one(DecisionsAt(self.id))
            .await?
            .unwrap_or_default();
        Ok(plain_connection(
            Page::slice(list, request, |d| d.id),
            request,
            |d| d.id,
        ))
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
    pub payment_policy_id: MaybeUndefined<PaymentPolicyId>,
    pub other_recognition: MaybeUndefined<String>,
    pub support_offered: Option<Vec<Support>>,
    pub lived_experience_areas: Option<Vec<LivedExperienceArea>>,
    pub for_carers: Option<bool>,
    pub admission: Option<Admission>,
    pub closing_on: MaybeUndefined<NaiveDate>,
    pub facilitator_organisation_id: MaybeUndefined<OrganisationId>,
    pub contract_id: MaybeUndefined<ContractId>,
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

#[derive(Default)]
pub struct OpportunityQuery;

#[Object]
impl OpportunityQuery {
    /// Advertised work is open to everyone signed in; staff also see their organisation's
    /// work, commissioners the work under their contracts, participants the work they are
    /// members of.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn opportunities(
        &self,
        ctx: &Context<'_>,
        filter: Option<OpportunityFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<IdConnection<Opportunity>> {
        let request = page_request(first, after)?;
        let filter = filter
            .unwrap_or_default()
            .checked()
            .map_err(AppError::from)
            .gql()?;
        let page = opportunities::list(services(ctx)?, caller(ctx)?, filter, request)
            .await
            .gql()?;
        Ok(connection(page, request, |o| o.id, |o| o))
    }

    /// Attendance across work, oldest recorded first: what an evidence report's people and
    /// hours are counted from. Staff see the attendance of work their organisation runs or
    /// facilitates, a commissioner that of work under its contracts, a person their own.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn attendance(
        &self,
        ctx: &Context<'_>,
        filter: Option<AttendanceFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<Attendance>> {
        let request = page_request(first, after)?;
        let page = sessions::attendance_across(
            services(ctx)?,
            caller(ctx)?,
            filter.unwrap_or_default(),
            request,
        )
        .await
        .gql()?;
        Ok(plain_connection(page, request, |a| a.id))
    }

    async fn opportunity(
        &self,
        ctx: &Context<'_>,
        id: OpportunityId,
    ) -> async_graphql::Result<Opportunity> {
        opportunities::get(services(ctx)?, caller(ctx)?, id)
            .await
            .gql()
    }

    /// Plain-English meanings of the words services use.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn glossary(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<GlossaryTerm>> {
        caller(ctx)?;
        let request = page_request(first, after)?;
        let page = glossary::list(services(ctx)?, request).await.gql()?;
        Ok(plain_connection(page, request, |t| t.id))
    }
}

#[derive(Default)]
pub struct OpportunityMutation;

async fn move_to(
    ctx: &Context<'_>,
    id: OpportunityId,
    to: OpportunityStatus,
    expected_version: Option<i32>,
) -> async_graphql::Result<Opportunity> {
    opportunities::transition(services(ctx)?, caller(ctx)?, id, to, expected_version)
        .await
        .gql()
}

#[Object]
impl OpportunityMutation {
    async fn create_opportunity(
        &self,
        ctx: &Context<'_>,
        input: OpportunityInput,
    ) -> async_graphql::Result<Opportunity> {
        opportunities::create(services(ctx)?, caller(ctx)?, &input)
            .await
            .gql()
    }

    /// `expectedVersion` is the `version` last read; a stale one is refused.
    async fn update_opportunity(
        &self,
        ctx: &Context<'_>,
        id: OpportunityId,
        expected_version: i32,
        input: OpportunityPatchGql,
    ) -> async_graphql::Result<Opportunity> {
        opportunities::update(
            services(ctx)?,
            caller(ctx)?,
            id,
            expected_version,
            &input.into(),
        )
        .await
        .gql()
    }

    async fn advertise_opportunity(
        &self,
        ctx: &Context<'_>,
        id: OpportunityId,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<Opportunity> {
        move_to(ctx, id, OpportunityStatus::Advertised, expected_version).await
    }

    async fn start_opportunity(
        &self,
        ctx: &Context<'_>,
        id: OpportunityId,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<Opportunity> {
        move_to(ctx, id, OpportunityStatus::Running, expected_version).await
    }

    async fn end_opportunity(
        &self,
        ctx: &Context<'_>,
        id: OpportunityId,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<Opportunity> {
        move_to(ctx, id, OpportunityStatus::Ended, expected_version).await
    }

    async fn cancel_opportunity(
        &self,
        ctx: &Context<'_>,
        id: OpportunityId,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<Opportunity> {
        move_to(ctx, id, OpportunityStatus::Cancelled, expected_version).await
    }

    /// A participant applies for themselves.
    async fn apply_to_opportunity(
        &self,
        ctx: &Context<'_>,
        opportunity_id: OpportunityId,
        experience: Option<Experience>,
    ) -> async_graphql::Result<MemberView> {
        let input = MembershipInput {
            participant_id: None,
            role: None,
            experience,
            joined_at: None,
        };
        let m = members::join(services(ctx)?, caller(ctx)?, opportunity_id, &input)
            .await
            .gql()?;
        Ok(m)
    }

    /// Staff of the work invite a participant; with `joinedAt`, they record someone who
    /// already took part (a member at once, holding a place).
    async fn invite_member(
        &self,
        ctx: &Context<'_>,
        opportunity_id: OpportunityId,
        participant_id: ParticipantId,
        role: Option<MemberRole>,
        experience: Option<Experience>,
        joined_at: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<MemberView> {
        let input = MembershipInput {
            participant_id: Some(participant_id),
            role,
            experience,
            joined_at,
        };
        let m = members::join(services(ctx)?, caller(ctx)?, opportunity_id, &input)
            .await
            .gql()?;
        Ok(m)
    }

    async fn accept_member(
        &self,
        ctx: &Context<'_>,
        opportunity_id: OpportunityId,
        member_id: MembershipId,
    ) -> async_graphql::Result<MemberView> {
        let m = members::accept(services(ctx)?, caller(ctx)?, opportunity_id, member_id)
            .await
            .gql()?;
        Ok(m)
    }

    async fn decline_member(
        &self,
        ctx: &Context<'_>,
        opportunity_id: OpportunityId,
        member_id: MembershipId,
    ) -> async_graphql::Result<MemberView> {
        let m = members::decline(services(ctx)?, caller(ctx)?, opportunity_id, member_id)
            .await
            .gql()?;
        Ok(m)
    }

    async fn withdraw_member(
        &self,
        ctx: &Context<'_>,
        opportunity_id: OpportunityId,
        member_id: MembershipId,
    ) -> async_graphql::Result<MemberView> {
        let m = members::withdraw(services(ctx)?, caller(ctx)?, opportunity_id, member_id)
            .await
            .gql()?;
        Ok(m)
    }

    async fn declare_interests(
        &self,
        ctx: &Context<'_>,
        opportunity_id: OpportunityId,
        member_id: MembershipId,
        has_conflict: bool,
        details: Option<String>,
    ) -> async_graphql::Result<MemberView> {
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
        Ok(m)
    }

    async fn set_member_scoring(
        &self,
        ctx: &Context<'_>,
        opportunity_id: OpportunityId,
        member_id: MembershipId,
        scoring: bool,
    ) -> async_graphql::Result<MemberView> {
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
        Ok(m)
    }

    /// A session with its attendance and decisions: all stored, or none.
    async fn create_session(
        &self,
        ctx: &Context<'_>,
        opportunity_id: OpportunityId,
        input: SessionInput,
    ) -> async_graphql::Result<SessionRecord> {
        sessions::create(services(ctx)?, caller(ctx)?, opportunity_id, &input)
            .await
            .gql()
    }

    async fn record_attendance(
        &self,
        ctx: &Context<'_>,
        session_id: SessionId,
        input: AttendanceInput,
    ) -> async_graphql::Result<Attendance> {
        sessions::record_attendance(services(ctx)?, caller(ctx)?, session_id, &input)
            .await
            .gql()
    }

    async fn record_decision(
        &self,
        ctx: &Context<'_>,
        session_id: SessionId,
        input: DecisionInput,
    ) -> async_graphql::Result<Decision> {
        sessions::record_decision(services(ctx)?, caller(ctx)?, session_id, &input)
            .await
            .gql()
    }

    async fn add_glossary_term(
        &self,
        ctx: &Context<'_>,
        term: String,
        meaning: String,
    ) -> async_graphql::Result<GlossaryTerm> {
        glossary::add(
            services(ctx)?,
            caller(ctx)?,
            &GlossaryInput { term, meaning },
        )
        .await
        .gql()
    }
}
