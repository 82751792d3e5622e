//! Typed identifiers: one type per kind of record, so passing one for another does not compile.
//! Each is a UUID (time-ordered v7 when new), written as its hyphenated text in JSON, in the
//! database (TEXT) and in GraphQL (the `UUID` scalar).
//!
//! One kind of id cannot stand for another:
//!
//! ```compile_fail
//! use coproduce::domain::id::{OpportunityId, OrganisationId};
//! fn runs(organisation: OrganisationId) -> OrganisationId { organisation }
//! runs(OpportunityId::new());
//! ```
//!
//! while the right kind is accepted:
//!
//! ```
//! use coproduce::domain::id::OrganisationId;
//! fn runs(organisation: OrganisationId) -> OrganisationId { organisation }
//! let id = OrganisationId::new();
//! assert_eq!(runs(id).to_string().parse::<OrganisationId>().ok(), Some(id));
//! ```

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// Defines typed ids once, with their serde, OpenAPI, GraphQL and text faces.
macro_rules! typed_ids {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema, async_graphql::NewType,
        )]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id: ids sort in creation order, which keeps paging stable.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub const fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        /// GraphQL's `UUID`: the hyphenated text in lower case.
        impl super::written::WriteLeaf for $name {
            fn write_leaf(&self, out: &mut Vec<u8>) {
                let mut buf = Uuid::encode_buffer();
                super::written::write_name(out, self.0.hyphenated().encode_lower(&mut buf));
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )+};
}

typed_ids! {
    /// An organisation: commissioner, provider or facilitator.
    OrganisationId,
    /// A machine client of an organisation.
    ApiClientId,
    /// A payment policy of an organisation.
    PaymentPolicyId,
    /// A commissioner's contract with a provider.
    ContractId,
    /// A piece of work.
    OpportunityId,
    /// A session of a piece of work.
    SessionId,
    /// A person's place (or application, or invitation) on a piece of work.
    MembershipId,
    /// A person who takes part.
    ParticipantId,
    /// An attendance record of a session.
    AttendanceId,
    /// A decision recorded at a session.
    DecisionId,
    /// A glossary term.
    GlossaryTermId,
    /// A grant or withdrawal of consent to share a contact detail.
    ConsentEventId,
    /// A read of someone's contact details, as logged.
    AccessLogEntryId,
    /// An expense claim.
    ClaimId,
    /// One line of a claim.
    ClaimLineId,
    /// One step in a claim's history.
    ClaimEventId,
    /// An uploaded receipt.
    ReceiptId,
    /// Recognition that is not money.
    RecognitionId,
    /// A payment run.
    PaymentRunId,
    /// Something someone said, and what was done about it.
    FeedbackItemId,
    /// One evaluation of a service on the Five Values.
    EvaluationId,
    /// One organisation's answers to the ten questions, for a period.
    SelfAssessmentId,
    /// Something that happened, in the outbox.
    EventId,
    /// A receiver of webhooks an organisation registered.
    WebhookEndpointId,
    /// One event on its way to one endpoint.
    WebhookDeliveryId,
    /// One try at delivering it.
    WebhookAttemptId,
}
