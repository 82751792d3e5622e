//! Participants, their contact details, consent, the group directory, export and erasure in
//! GraphQL. A field the caller may not see (contact details, consents, the access log) is
//! `null` with an error entry carrying `extensions.code`; the service decides, as for REST.

use async_graphql::{ComplexObject, Context, Object};
use uuid::Uuid;

use super::plain::PlainConnection;
use super::{
    caller, connection, cost_of_page, page_request, plain_connection, services, GqlResult,
    IdConnection,
};
use crate::domain::consent::{
    AudienceKind, ConsentEvent, ConsentInput, ConsentMethod, ConsentRecord,
};
use crate::domain::contact::{
    AccessLogEntry, ContactDetails, ContactDetailsInput, ContactField, DirectoryEntry,
};
use crate::domain::id::{OpportunityId, ParticipantId};
use crate::domain::participant::{
    Participant, ParticipantExport, ParticipantFilter, ParticipantInput, ParticipantPatch,
};
use crate::service::participants;

#[ComplexObject]
impl Participant {
    /// For the person, the staff who registered them, provider and facilitator staff of work
    /// they take part in, and admins; `null` with an error for anyone else. Every read by
    /// someone other than the person is written to their access log.
    async fn contact_details(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<ContactDetails>> {
        participants::contact_details(
            services(ctx)?,
            caller(ctx)?,
            self.id,
            "GraphQL Participant.contactDetails",
        )
        .await
        .map(Some)
        .gql()
    }

    /// What is in force and every grant and withdrawal: for the person, the staff who
    /// registered them, and admins.
    async fn consents(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ConsentRecord>> {
        participants::consents(services(ctx)?, caller(ctx)?, self.id)
            .await
            .map(Some)
            .gql()
    }

    /// Who read the person's contact details, when, which fields and why: for the person and
    /// admins.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Option<PlainConnection<AccessLogEntry>>> {
        let request = page_request(first, after)?;
        let page = participants::access_log(services(ctx)?, caller(ctx)?, self.id, request)
            .await
            .gql()?;
        Ok(Some(plain_connection(page, request, |e| e.id)))
    }
}

#[derive(Default)]
pub struct ParticipantQuery;

#[Object]
impl ParticipantQuery {
    /// The people the caller's organisation registered (admins: everyone), searchable by
    /// name, area, role and way of involvement.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn participants(
        &self,
        ctx: &Context<'_>,
        filter: Option<ParticipantFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<IdConnection<Participant>> {
        let request = page_request(first, after)?;
        let filter = filter
            .unwrap_or_default()
            .parse("filter.name")
            .map_err(crate::error::AppError::Validation)
            .gql()?;
        let page = participants::list(services(ctx)?, caller(ctx)?, filter, request)
            .await
            .gql()?;
        Ok(connection(page, request, |p| p.id, |p| p))
    }

    async fn participant(
        &self,
        ctx: &Context<'_>,
        id: ParticipantId,
    ) -> async_graphql::Result<Participant> {
        participants::get(services(ctx)?, caller(ctx)?, id)
            .await
            .gql()
    }

    /// Everything held about the person: for the person and admins.
    async fn participant_export(
        &self,
        ctx: &Context<'_>,
        id: ParticipantId,
    ) -> async_graphql::Result<ParticipantExport> {
        participants::export(
            services(ctx)?,
            caller(ctx)?,
            id,
            "GraphQL participantExport",
        )
        .await
        .gql()
    }

    /// A piece of work's group directory: each accepted member's name and role, and only the
    /// contact details they consented to share with the reader. For the group's members and
    /// the staff who organise the work.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn directory(
        &self,
        ctx: &Context<'_>,
        opportunity_id: OpportunityId,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<DirectoryEntry>> {
        let request = page_request(first, after)?;
        let page = participants::directory(services(ctx)?, caller(ctx)?, opportunity_id, request)
            .await
            .gql()?;
        Ok(plain_connection(page, request, |e| e.membership_id))
    }
}

async fn record_consent(
    ctx: &Context<'_>,
    participant_id: ParticipantId,
    field: ContactField,
    (audience_kind, audience_id): (AudienceKind, Uuid),
    method: Option<ConsentMethod>,
    granted: bool,
) -> async_graphql::Result<ConsentEvent> {
    let input = ConsentInput {
        field,
        audience_kind,
        audience_id,
        granted,
        method,
    };
    participants::record_consent(services(ctx)?, caller(ctx)?, participant_id, &input)
        .await
        .gql()
}

#[derive(Default)]
pub struct ParticipantMutation;

#[Object]
impl ParticipantMutation {
    /// Staff of a provider or facilitator register a person (their organisation's).
    async fn register_participant(
        &self,
        ctx: &Context<'_>,
        input: ParticipantInput,
    ) -> async_graphql::Result<Participant> {
        participants::register(services(ctx)?, caller(ctx)?, &input)
            .await
            .gql()
    }

    /// `expectedVersion` is the `version` last read; a stale one is refused.
    async fn update_participant(
        &self,
        ctx: &Context<'_>,
        id: ParticipantId,
        expected_version: i32,
        input: ParticipantPatch,
    ) -> async_graphql::Result<Participant> {
        participants::update(services(ctx)?, caller(ctx)?, id, expected_version, &input)
            .await
            .gql()
    }

    /// Replaces the person's contact details (a field left out is removed).
    async fn set_contact_details(
        &self,
        ctx: &Context<'_>,
        participant_id: ParticipantId,
        input: ContactDetailsInput,
    ) -> async_graphql::Result<ContactDetails> {
        participants::set_contact_details(services(ctx)?, caller(ctx)?, participant_id, &input)
            .await
            .gql()
    }

    /// The person shares a contact detail with an audience (online), or staff record that they
    /// agreed (written or verbal).
    async fn grant_consent(
        &self,
        ctx: &Context<'_>,
        participant_id: ParticipantId,
        field: ContactField,
        audience_kind: AudienceKind,
        audience_id: Uuid,
        method: Option<ConsentMethod>,
    ) -> async_graphql::Result<ConsentEvent> {
        record_consent(
            ctx,
            participant_id,
            field,
            (audience_kind, audience_id),
            method,
            true,
        )
        .await
    }

    /// Withdraws consent: it takes effect on the next read.
    async fn withdraw_consent(
        &self,
        ctx: &Context<'_>,
        participant_id: ParticipantId,
        field: ContactField,
        audience_kind: AudienceKind,
        audience_id: Uuid,
        method: Option<ConsentMethod>,
    ) -> async_graphql::Result<ConsentEvent> {
        record_consent(
            ctx,
            participant_id,
            field,
            (audience_kind, audience_id),
            method,
            false,
        )
        .await
    }

    /// Erases the person at their request: name, contact details, consents, free text and the
    /// identity link go; an anonymous stub keeps the evidence true.
    async fn erase_participant(
        &self,
        ctx: &Context<'_>,
        id: ParticipantId,
    ) -> async_graphql::Result<Participant> {
        participants::erase(services(ctx)?, caller(ctx)?, id)
            .await
            .gql()
    }
}
