//! Consent to share contact details: per participant, per field, per audience (the members of
//! one piece of work, or the staff of one organisation), recorded as append-only events. The
//! current state is derived from the events: the latest event for a field and audience wins,
//! so withdrawing is as easy as granting and takes effect on the next read.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::contact::ContactField;
use super::id::{ConsentEventId, OrganisationId, ParticipantId};
use super::time::Rfc3339;

domain_enum! {
    /// Who a contact detail is shared with.
    pub enum AudienceKind as "audience kind" {
        /// The members of one piece of work, and the staff who organise it.
        Opportunity = "opportunity",
        /// The staff of one organisation.
        Organisation = "organisation",
    }
}

domain_enum! {
    /// How consent was given or withdrawn.
    pub enum ConsentMethod as "consent method" {
        /// By the person, signed in.
        Online = "online",
        /// On paper, recorded by staff.
        Written = "written",
        /// Said aloud, recorded by staff.
        Verbal = "verbal",
    }
}

/// One grant or withdrawal, as recorded. Never changed or removed (except by erasure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct ConsentEvent {
    pub id: ConsentEventId,
    pub participant_id: ParticipantId,
    pub field: ContactField,
    pub audience_kind: AudienceKind,
    /// The piece of work or the organisation.
    pub audience_id: Uuid,
    /// True for a grant, false for a withdrawal.
    pub granted: bool,
    pub method: ConsentMethod,
    /// The `sub` of whoever recorded it: the person, or the member of staff.
    pub recorded_by: String,
    pub recorded_by_organisation_id: Option<OrganisationId>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "recorded_at", into = "Rfc3339", owned))]
    pub recorded_at: DateTime<Utc>,
}

/// A consent in force now: the latest grant of a field to an audience, not since withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct ConsentGrant {
    pub field: ContactField,
    pub audience_kind: AudienceKind,
    pub audience_id: Uuid,
    pub method: ConsentMethod,
    pub recorded_by: String,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "granted_at", into = "Rfc3339", owned))]
    pub granted_at: DateTime<Utc>,
}

/// A person's consents: what is in force now, and every event that led there, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct ConsentRecord {
    pub current: Vec<ConsentGrant>,
    pub history: Vec<ConsentEvent>,
}

/// A grant or withdrawal as sent. The person records their own (online); staff recording one
/// on the person's behalf say how it was given (`written` or `verbal`).
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    pub field: ContactField,
    pub audience_kind: AudienceKind,
    pub audience_id: Uuid,
    /// True to grant, false to withdraw.
    pub granted: bool,
    /// How it was given; `online` when the person records it themselves.
    #[serde(default)]
    pub method: Option<ConsentMethod>,
}

/// The consents in force, from the events in the order they were recorded (ids are
/// time-ordered): for each field and audience, the latest event decides.
pub fn current(events: &[ConsentEvent]) -> Vec<ConsentGrant> {
    let mut latest: HashMap<(ContactField, AudienceKind, Uuid), &ConsentEvent> = HashMap::new();
    for e in events {
        let key = (e.field, e.audience_kind, e.audience_id);
        match latest.get(&key) {
            Some(seen) if seen.id > e.id => {}
            _ => {
                latest.insert(key, e);
            }
        }
    }
    let mut grants: Vec<ConsentGrant> = latest
        .into_values()
        .filter(|e| e.granted)
        .map(|e| ConsentGrant {
            field: e.field,
            audience_kind: e.audience_kind,
            audience_id: e.audience_id,
            method: e.method,
            recorded_by: e.recorded_by.clone(),
            granted_at: e.recorded_at,
        })
        .collect();
    grants.sort_by_key(|g| (g.audience_kind, g.audience_id, g.field));
    grants
}

/// The fields a person shares with any of these audiences now.
pub fn shared_fields(
    events: &[ConsentEvent],
    audiences: &[(AudienceKind, Uuid)],
) -> Vec<ContactField> {
    let mut fields: Vec<ContactField> = current(events)
        .into_iter()
        .filter(|g| audiences.contains(&(g.audience_kind, g.audience_id)))
        .map(|g| g.field)
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(field: ContactField, audience: Uuid, granted: bool) -> ConsentEvent {
        ConsentEvent {
            id: ConsentEventId::new(),
            participant_id: ParticipantId::from_uuid(Uuid::nil()),
            field,
            audience_kind: AudienceKind::Opportunity,
            audience_id: audience,
            granted,
            method: ConsentMethod::Online,
            recorded_by: "me".to_owned(),
            recorded_by_organisation_id: None,
            recorded_at: Utc::now(),
        }
    }

    #[test]
    fn the_latest_event_for_a_field_and_audience_decides() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let events = vec![
            event(ContactField::Email, a, true),
            event(ContactField::Phone, a, true),
            event(ContactField::Email, a, false),
            event(ContactField::Email, b, true),
        ];
        let now = current(&events);
        assert_eq!(now.len(), 2);
        assert_eq!(
            shared_fields(&events, &[(AudienceKind::Opportunity, a)]),
            [ContactField::Phone]
        );
        assert_eq!(
            shared_fields(&events, &[(AudienceKind::Opportunity, b)]),
            [ContactField::Email]
        );
        assert!(shared_fields(&events, &[(AudienceKind::Organisation, a)]).is_empty());
    }

    #[test]
    fn granting_again_after_withdrawing_shares_again() {
        let a = Uuid::now_v7();
        let events = vec![
            event(ContactField::Email, a, true),
            event(ContactField::Email, a, false),
            event(ContactField::Email, a, true),
        ];
        assert_eq!(
            shared_fields(&events, &[(AudienceKind::Opportunity, a)]),
            [ContactField::Email]
        );
    }
}
