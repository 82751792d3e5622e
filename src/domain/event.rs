//! Events: every change that matters to someone outside the service, written to the outbox in
//! the same transaction as the change, then read by organisations (`/api/v1/events`), by the
//! person it concerns (their updates), by webhook receivers and by GraphQL subscribers.
//!
//! An event's body names the records it is about by id and says what changed; it never holds a
//! contact detail or anything said in confidence. A receiver that needs more reads it through
//! the API with its own rights.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::id::{EventId, OpportunityId, OrganisationId, ParticipantId};
use super::identity::Principal;
use super::time::Rfc3339;
use super::written::WriteFields;

domain_enum! {
    /// What happened. The text is the type receivers see, in the Standard Webhooks
    /// `type` form (`resource.change`).
    pub enum EventType as "event type" {
        /// A piece of work was advertised.
        OpportunityAdvertised = "opportunity.advertised",
        /// A piece of work started running.
        OpportunityStarted = "opportunity.started",
        /// A piece of work ended.
        OpportunityEnded = "opportunity.ended",
        /// A piece of work was cancelled.
        OpportunityCancelled = "opportunity.cancelled",
        /// Someone applied for a place.
        MembershipApplied = "membership.applied",
        /// Staff invited someone.
        MembershipInvited = "membership.invited",
        /// Someone took a place.
        MembershipAccepted = "membership.accepted",
        /// An application or invitation was declined.
        MembershipDeclined = "membership.declined",
        /// A session was recorded.
        SessionPosted = "session.posted",
        /// A claim was submitted for approval.
        ClaimSubmitted = "claim.submitted",
        /// A claim was approved for payment.
        ClaimApproved = "claim.approved",
        /// A claim was paid.
        ClaimPaid = "claim.paid",
        /// A claim was rejected, with a reason.
        ClaimRejected = "claim.rejected",
        /// A person withdrew consent to share a contact detail.
        ConsentWithdrawn = "consent.withdrawn",
        /// Feedback was answered: what was done, or why not.
        FeedbackResponded = "feedback.responded",
        /// The answer to feedback was communicated back: the loop is closed.
        FeedbackClosed = "feedback.closed",
        /// A webhook endpoint was disabled after its deliveries kept failing.
        WebhookEndpointDisabled = "webhook.endpoint_disabled",
    }
}

impl EventType {
    /// Events that concern everyone who took part in the work, not one person: these reach
    /// the updates of every member who took a place.
    pub fn concerns_the_group(self) -> bool {
        matches!(
            self,
            EventType::OpportunityStarted
                | EventType::OpportunityEnded
                | EventType::OpportunityCancelled
                | EventType::SessionPosted
        )
    }
}

/// Something that happened, as stored in the outbox and as delivered.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, SimpleObject, WriteFields)]
pub struct Event {
    pub id: EventId,
    #[serde(rename = "type")]
    #[graphql(name = "type")]
    pub event_type: EventType,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "timestamp", into = "Rfc3339", owned))]
    pub timestamp: DateTime<Utc>,
    /// The organisation whose work or record changed.
    pub organisation_id: OrganisationId,
    /// The organisation facilitating the work, which sees its events too.
    pub facilitator_organisation_id: Option<OrganisationId>,
    pub opportunity_id: Option<OpportunityId>,
    /// The person the event concerns, who sees it in their updates.
    pub participant_id: Option<ParticipantId>,
    /// What changed: ids and states, never contact details.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl Event {
    /// Who may see the event: admins; staff of the organisation it belongs to or of the
    /// organisation facilitating the work; the person it concerns. Members who took part in
    /// the work see group events through their updates (checked where those are read).
    pub fn visible_to(&self, principal: &Principal) -> bool {
        principal.is_admin()
            || (principal.is_staff()
                && principal.organisation_id.is_some_and(|o| {
                    o == self.organisation_id || Some(o) == self.facilitator_organisation_id
                }))
            || (principal.has(super::identity::Role::Participant)
                && self.participant_id.is_some()
                && principal.participant_id == self.participant_id)
    }
}

/// An event about to be written, built by the service that made the change.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: EventType,
    pub organisation_id: OrganisationId,
    pub facilitator_organisation_id: Option<OrganisationId>,
    pub opportunity_id: Option<OpportunityId>,
    pub participant_id: Option<ParticipantId>,
    pub data: serde_json::Value,
}

impl NewEvent {
    pub fn new(event_type: EventType, organisation_id: OrganisationId) -> Self {
        Self {
            event_type,
            organisation_id,
            facilitator_organisation_id: None,
            opportunity_id: None,
            participant_id: None,
            data: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    /// About a piece of work, which also brings in the organisation facilitating it.
    pub fn on_work(
        mut self,
        opportunity_id: OpportunityId,
        facilitator: Option<OrganisationId>,
    ) -> Self {
        self.opportunity_id = Some(opportunity_id);
        self.facilitator_organisation_id = facilitator;
        self
    }

    pub fn for_person(mut self, participant_id: Option<ParticipantId>) -> Self {
        self.participant_id = participant_id;
        self
    }

    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = data;
        self
    }

    pub fn at(self, id: EventId, timestamp: DateTime<Utc>) -> Event {
        Event {
            id,
            event_type: self.event_type,
            timestamp,
            organisation_id: self.organisation_id,
            facilitator_organisation_id: self.facilitator_organisation_id,
            opportunity_id: self.opportunity_id,
            participant_id: self.participant_id,
            data: self.data,
        }
    }
}

/// Filters for a list of events.
#[derive(Debug, Clone, Default, async_graphql::InputObject)]
pub struct EventFilter {
    /// Only events of this type.
    #[graphql(name = "type")]
    pub event_type: Option<EventType>,
    /// Only events about this piece of work.
    pub opportunity_id: Option<OpportunityId>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::identity::Role;
    use std::collections::BTreeSet;
    use uuid::Uuid;

    fn principal(
        roles: &[Role],
        org: Option<OrganisationId>,
        me: Option<ParticipantId>,
    ) -> Principal {
        Principal {
            subject: "s".to_owned(),
            organisation_id: org,
            roles: roles.iter().copied().collect::<BTreeSet<_>>(),
            participant_id: me,
            client_id: None,
        }
    }

    #[test]
    fn an_event_is_seen_by_its_organisation_the_facilitator_and_the_person_only() {
        let org = OrganisationId::from_uuid(Uuid::now_v7());
        let facilitator = OrganisationId::from_uuid(Uuid::now_v7());
        let other = OrganisationId::from_uuid(Uuid::now_v7());
        let person = ParticipantId::from_uuid(Uuid::now_v7());
        let e = NewEvent::new(EventType::ClaimPaid, org)
            .on_work(OpportunityId::from_uuid(Uuid::now_v7()), Some(facilitator))
            .for_person(Some(person))
            .at(EventId::from_uuid(Uuid::now_v7()), Utc::now());
        assert!(e.visible_to(&principal(&[Role::Provider], Some(org), None)));
        assert!(e.visible_to(&principal(&[Role::Facilitator], Some(facilitator), None)));
        assert!(e.visible_to(&principal(&[Role::Participant], None, Some(person))));
        assert!(e.visible_to(&principal(&[Role::Admin], None, None)));
        assert!(!e.visible_to(&principal(&[Role::Commissioner], Some(other), None)));
        assert!(!e.visible_to(&principal(
            &[Role::Participant],
            None,
            Some(ParticipantId::from_uuid(Uuid::now_v7()))
        )));
        // A participant token that names an organisation is not staff of it.
        assert!(!e.visible_to(&principal(&[Role::Participant], Some(org), None)));
    }
}
