//! The feedback loop, evaluations and self-assessments in GraphQL; the same service calls and
//! rules as REST.

use async_graphql::{Context, Object};
use chrono::NaiveDate;

use super::plain::PlainConnection;
use super::{caller, cost_of_page, page_request, plain_connection, services, GqlResult};
use crate::domain::feedback::{
    CloseInput, Evaluation, EvaluationAverages, EvaluationFilter, EvaluationInput, FeedbackFilter,
    FeedbackInput, FeedbackItem, FeedbackStats, ResponseInput, SelfAssessment, SelfAssessmentInput,
};
use crate::domain::id::{FeedbackItemId, OrganisationId, SelfAssessmentId};
use crate::error::AppError;
use crate::service::feedback;

#[derive(Default)]
pub struct FeedbackQuery;

#[Object]
impl FeedbackQuery {
    /// Feedback items, oldest received first (open items by age): staff see their
    /// organisation's and those about work it facilitates; a participant what they gave with
    /// their name on it; admins all.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn feedback_items(
        &self,
        ctx: &Context<'_>,
        filter: Option<FeedbackFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<FeedbackItem>> {
        let request = page_request(first, after)?;
        let page = feedback::list(
            services(ctx)?,
            caller(ctx)?,
            filter.unwrap_or_default(),
            request,
        )
        .await
        .gql()?;
        Ok(plain_connection(page, request, |f| f.id))
    }

    async fn feedback_item(
        &self,
        ctx: &Context<'_>,
        id: FeedbackItemId,
    ) -> async_graphql::Result<FeedbackItem> {
        feedback::get(services(ctx)?, caller(ctx)?, id).await.gql()
    }

    /// How well an organisation (the caller's own by default) closes the loop on feedback
    /// received from `from` up to the day before `to` (default: the twelve months to today).
    async fn feedback_stats(
        &self,
        ctx: &Context<'_>,
        organisation_id: Option<OrganisationId>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        within_days: Option<i32>,
    ) -> async_graphql::Result<FeedbackStats> {
        feedback::stats(
            services(ctx)?,
            caller(ctx)?,
            organisation_id,
            from,
            to,
            within_days,
        )
        .await
        .gql()
    }

    /// Evaluations on the Five Values, oldest first, read as feedback items are.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn evaluations(
        &self,
        ctx: &Context<'_>,
        filter: Option<EvaluationFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<Evaluation>> {
        let request = page_request(first, after)?;
        let page = feedback::evaluations(
            services(ctx)?,
            caller(ctx)?,
            filter.unwrap_or_default(),
            request,
        )
        .await
        .gql()?;
        Ok(plain_connection(page, request, |e| e.id))
    }

    /// Each value's average over an organisation's evaluations in the period; `null` when
    /// there were none.
    async fn evaluation_averages(
        &self,
        ctx: &Context<'_>,
        organisation_id: Option<OrganisationId>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> async_graphql::Result<EvaluationAverages> {
        feedback::evaluation_averages(services(ctx)?, caller(ctx)?, organisation_id, from, to)
            .await
            .gql()
    }

    /// Every self-assessment of an organisation, oldest first.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn self_assessments(
        &self,
        ctx: &Context<'_>,
        organisation_id: OrganisationId,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<SelfAssessment>> {
        let request = page_request(first, after)?;
        let page =
            feedback::self_assessments(services(ctx)?, caller(ctx)?, organisation_id, request)
                .await
                .gql()?;
        Ok(plain_connection(page, request, |s| s.id))
    }

    /// The newest self-assessment of an organisation; `null` when none was submitted.
    async fn latest_self_assessment(
        &self,
        ctx: &Context<'_>,
        organisation_id: OrganisationId,
    ) -> async_graphql::Result<Option<SelfAssessment>> {
        match feedback::latest_self_assessment(services(ctx)?, caller(ctx)?, organisation_id).await
        {
            Err(AppError::NotFound("self-assessment")) => Ok(None),
            other => other.map(Some).gql(),
        }
    }

    async fn self_assessment(
        &self,
        ctx: &Context<'_>,
        organisation_id: OrganisationId,
        id: SelfAssessmentId,
    ) -> async_graphql::Result<SelfAssessment> {
        feedback::self_assessment(services(ctx)?, caller(ctx)?, organisation_id, id)
            .await
            .gql()
    }
}

#[derive(Default)]
pub struct FeedbackMutation;

#[Object]
impl FeedbackMutation {
    /// Records what someone said; staff name a person their organisation registered or no one,
    /// a participant gives their own (or anonymously).
    async fn record_feedback(
        &self,
        ctx: &Context<'_>,
        input: FeedbackInput,
    ) -> async_graphql::Result<FeedbackItem> {
        feedback::record(services(ctx)?, caller(ctx)?, &input)
            .await
            .gql()
    }

    /// Writes (or rewrites, until closed) the response; `expectedVersion`, when given, must be
    /// the version last read.
    async fn respond_to_feedback(
        &self,
        ctx: &Context<'_>,
        id: FeedbackItemId,
        input: ResponseInput,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<FeedbackItem> {
        feedback::respond(services(ctx)?, caller(ctx)?, id, expected_version, &input)
            .await
            .gql()
    }

    /// Closes the loop: how the response reached the people who gave the feedback.
    async fn close_feedback(
        &self,
        ctx: &Context<'_>,
        id: FeedbackItemId,
        input: CloseInput,
    ) -> async_graphql::Result<FeedbackItem> {
        feedback::close(services(ctx)?, caller(ctx)?, id, &input)
            .await
            .gql()
    }

    /// Scores a service on the Five Values, each 1 to 5.
    async fn record_evaluation(
        &self,
        ctx: &Context<'_>,
        input: EvaluationInput,
    ) -> async_graphql::Result<Evaluation> {
        feedback::evaluate(services(ctx)?, caller(ctx)?, &input)
            .await
            .gql()
    }

    /// Stores a new self-assessment; earlier ones are kept.
    async fn submit_self_assessment(
        &self,
        ctx: &Context<'_>,
        organisation_id: OrganisationId,
        input: SelfAssessmentInput,
    ) -> async_graphql::Result<SelfAssessment> {
        feedback::submit_self_assessment(services(ctx)?, caller(ctx)?, organisation_id, &input)
            .await
            .gql()
    }
}
