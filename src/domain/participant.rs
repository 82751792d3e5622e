//! Participants: people with lived experience, carers, or both, registered by the staff of a
//! provider or facilitator. Their profile says how they want to be involved and supported and
//! paid; their contact details live apart (see [`super::contact`]) and are shared only with
//! consent (see [`super::consent`]).

use async_graphql::MaybeUndefined;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::contact::ContactDetailsInput;
use super::id::{OrganisationId, ParticipantId};
use super::ladder::OpportunityKind;
use super::membership::Experience;
use super::money::{Money, GBP};
use super::opportunity::LivedExperienceArea;
use super::time::Rfc3339;
use super::validation::{FieldError, Problems};
use super::EnumList;

domain_enum! {
    /// What experience a person brings: lived experience, caring, or both (both roles).
    pub enum ParticipantRole as "participant role" {
        LivedExperience = "lived_experience",
        Carer = "carer",
    }
}

domain_enum! {
    /// How a person wants to be contacted.
    pub enum ContactMethod as "contact method" {
        Email = "email",
        Phone = "phone",
        Text = "text",
        Post = "post",
        FaceToFace = "face_to_face",
        SocialMedia = "social_media",
    }
}

domain_enum! {
    /// Support a person needs to take part.
    pub enum SupportNeed as "support need" {
        Travel = "travel",
        EasyRead = "easy_read",
        InterpreterOrBsl = "interpreter_or_bsl",
        CarerCover = "carer_cover",
        ItLoan = "it_loan",
        /// Described in `support_needs_other`.
        Other = "other",
    }
}

domain_enum! {
    /// How a person wants to be paid or recognised. The service never assumes payment is
    /// wanted: some people cannot be paid without affecting their benefits.
    pub enum PaymentPreference as "payment preference" {
        BankTransfer = "bank_transfer",
        Vouchers = "vouchers",
        Training = "training",
        /// Volunteer, with no payment.
        Volunteer = "volunteer",
        /// Give it to a charity.
        Charity = "charity",
    }
}

/// The experience a person's roles give: nobody counts as lived experience or carer unless
/// their profile says so.
pub fn experience_of(roles: &[ParticipantRole]) -> Experience {
    let lived = roles.contains(&ParticipantRole::LivedExperience);
    let carer = roles.contains(&ParticipantRole::Carer);
    match (lived, carer) {
        (true, true) => Experience::Both,
        (true, false) => Experience::LivedExperience,
        (false, true) => Experience::Carer,
        (false, false) => Experience::None,
    }
}

/// True when a person with these roles can bring `experience` to a piece of work.
pub fn roles_allow(roles: &[ParticipantRole], experience: Experience) -> bool {
    let has = experience_of(roles);
    (!experience.lived_experience() || has.lived_experience())
        && (!experience.carer() || has.carer())
}

/// `experience` narrowed to what these roles allow (a member whose profile no longer says
/// carer stops counting as one).
pub fn narrow(experience: Experience, roles: &[ParticipantRole]) -> Experience {
    let has = experience_of(roles);
    experience_of(
        &[
            (experience.lived_experience() && has.lived_experience())
                .then_some(ParticipantRole::LivedExperience),
            (experience.carer() && has.carer()).then_some(ParticipantRole::Carer),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>(),
    )
}

/// A registered participant's profile. After erasure only the id, the roles (so counts in the
/// evidence stay true) and the dates remain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial, complex)]
pub struct Participant {
    pub id: ParticipantId,
    /// The organisation whose staff registered the person.
    pub organisation_id: OrganisationId,
    /// `null` once erased.
    pub name: Option<String>,
    pub preferred_name: Option<String>,
    #[graphql(
        skip,
        derived(name = "roles", into = "EnumList<ParticipantRole>", owned)
    )]
    pub roles: Vec<ParticipantRole>,
    #[graphql(
        skip,
        derived(
            name = "lived_experience_areas",
            into = "EnumList<LivedExperienceArea>",
            owned
        )
    )]
    pub lived_experience_areas: Vec<LivedExperienceArea>,
    /// The ways the person wants to be involved (the guide's kinds of work).
    #[graphql(
        skip,
        derived(name = "involvement_kinds", into = "EnumList<OpportunityKind>", owned)
    )]
    pub involvement_kinds: Vec<OpportunityKind>,
    /// How much time they can give, in their words ("1 hour a month").
    pub time_available: Option<String>,
    #[graphql(
        skip,
        derived(name = "contact_methods", into = "EnumList<ContactMethod>", owned)
    )]
    pub contact_methods: Vec<ContactMethod>,
    #[graphql(
        skip,
        derived(name = "support_needs", into = "EnumList<SupportNeed>", owned)
    )]
    pub support_needs: Vec<SupportNeed>,
    pub support_needs_other: Option<String>,
    pub payment_preference: Option<PaymentPreference>,
    /// The person receives benefits: payments that would pass `weekly_payment_limit` in a
    /// week are warned about (never refused).
    pub receives_benefits: bool,
    pub weekly_payment_limit: Option<Money>,
    /// The `sub` of the person's own sign-in (an external identity provider's token), so a
    /// token without a `participant_id` claim still names them.
    pub identity_subject: Option<String>,
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    #[graphql(
        skip,
        derived(
            name = "erased_at",
            into = "Option<Rfc3339>",
            owned,
            with = "Rfc3339::some"
        )
    )]
    pub erased_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "created_at", into = "Rfc3339", owned))]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "updated_at", into = "Rfc3339", owned))]
    pub updated_at: DateTime<Utc>,
    /// Changes with every update; send it back as `If-Match` to update.
    pub version: i32,
}

impl Participant {
    pub fn experience(&self) -> Experience {
        experience_of(&self.roles)
    }

    pub fn is_erased(&self) -> bool {
        self.erased_at.is_some()
    }

    /// What remains after erasure: nothing that names, reaches or describes the person; the
    /// roles stay so that the evidence (who counted as lived experience) stays true.
    pub fn erased(mut self, at: DateTime<Utc>) -> Self {
        self.name = None;
        self.preferred_name = None;
        self.lived_experience_areas.clear();
        self.involvement_kinds.clear();
        self.time_available = None;
        self.contact_methods.clear();
        self.support_needs.clear();
        self.support_needs_other = None;
        self.payment_preference = None;
        self.receives_benefits = false;
        self.weekly_payment_limit = None;
        self.identity_subject = None;
        self.erased_at = Some(at);
        self.updated_at = at;
        self.version += 1;
        self
    }
}

/// Everything held about a person, for the person (and admins): their right of access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct ParticipantExport {
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "exported_at", into = "Rfc3339", owned))]
    pub exported_at: DateTime<Utc>,
    pub participant: Participant,
    pub contact_details: super::contact::ContactDetails,
    pub consents: super::consent::ConsentRecord,
    pub memberships: Vec<super::membership::MemberView>,
    pub attendance: Vec<super::session::Attendance>,
    pub access_log: Vec<super::contact::AccessLogEntry>,
    pub claims: Vec<super::claim::Claim>,
    /// The last four digits only: bank details are shown whole nowhere but the finance export.
    pub bank_details: Option<super::payment::MaskedBankDetails>,
    pub recognitions: Vec<super::payment::Recognition>,
    /// What the person said, with their name on it, and what became of it.
    pub feedback: Vec<super::feedback::FeedbackItem>,
    pub evaluations: Vec<super::feedback::Evaluation>,
}

const NAME_MAX: usize = 200;
const TEXT_MAX: usize = 500;
const SUBJECT_MAX: usize = 255;

/// A person registered by staff (`organisation_id` is the staff's own organisation).
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct ParticipantInput {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub preferred_name: Option<String>,
    #[serde(default)]
    #[graphql(default)]
    pub roles: Vec<ParticipantRole>,
    #[serde(default)]
    #[graphql(default)]
    pub lived_experience_areas: Vec<LivedExperienceArea>,
    #[serde(default)]
    #[graphql(default)]
    pub involvement_kinds: Vec<OpportunityKind>,
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub time_available: Option<String>,
    #[serde(default)]
    #[graphql(default)]
    pub contact_methods: Vec<ContactMethod>,
    #[serde(default)]
    #[graphql(default)]
    pub support_needs: Vec<SupportNeed>,
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub support_needs_other: Option<String>,
    #[serde(default)]
    pub payment_preference: Option<PaymentPreference>,
    #[serde(default)]
    #[graphql(default)]
    pub receives_benefits: bool,
    /// Whole pence a week; payments that would pass it are warned about.
    #[serde(default, deserialize_with = "super::validation::whole::option_i64")]
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub weekly_payment_limit_pence: Option<i64>,
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub identity_subject: Option<String>,
    /// Contact details to keep (encrypted) from the start.
    #[serde(default)]
    pub contact_details: Option<ContactDetailsInput>,
}

/// A change to a profile: absent fields stay; `null` clears a field that may be empty.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct ParticipantPatch {
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 200, pattern = r"^[^\x00]*$")]
    pub preferred_name: MaybeUndefined<String>,
    #[serde(default)]
    pub roles: Option<Vec<ParticipantRole>>,
    #[serde(default)]
    pub lived_experience_areas: Option<Vec<LivedExperienceArea>>,
    #[serde(default)]
    pub involvement_kinds: Option<Vec<OpportunityKind>>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^[^\x00]*$")]
    pub time_available: MaybeUndefined<String>,
    #[serde(default)]
    pub contact_methods: Option<Vec<ContactMethod>>,
    #[serde(default)]
    pub support_needs: Option<Vec<SupportNeed>>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^[^\x00]*$")]
    pub support_needs_other: MaybeUndefined<String>,
    #[serde(default)]
    #[schema(value_type = Option<PaymentPreference>)]
    pub payment_preference: MaybeUndefined<PaymentPreference>,
    #[serde(default)]
    pub receives_benefits: Option<bool>,
    #[serde(default, deserialize_with = "super::validation::whole::maybe_i64")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100_000_000)]
    pub weekly_payment_limit_pence: MaybeUndefined<i64>,
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255, pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$")]
    pub identity_subject: MaybeUndefined<String>,
}

/// Filters for staff searching the people their organisation registered.
#[derive(Debug, Clone, Default, PartialEq, Eq, async_graphql::InputObject)]
#[graphql(name = "ParticipantFilter")]
pub struct ParticipantFilter {
    /// Part of the name or preferred name, in any case.
    pub name: Option<String>,
    pub lived_experience_area: Option<LivedExperienceArea>,
    pub role: Option<ParticipantRole>,
    pub involvement_kind: Option<OpportunityKind>,
    /// Admins only: the registering organisation.
    pub organisation_id: Option<OrganisationId>,
}

impl ParticipantFilter {
    /// The name filter, trimmed and checked; blank means none.
    pub fn parse(mut self, field: &str) -> Result<Self, Vec<FieldError>> {
        let mut p = Problems::default();
        self.name = p.optional_text(field, self.name.as_deref(), NAME_MAX);
        p.finish(self)
    }
}

fn sorted<T: Ord + Copy>(items: &[T]) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort();
    v.dedup();
    v
}

fn limit_pence(p: &mut Problems, field: &str, pence: Option<i64>) -> Option<Money> {
    match pence {
        Some(n) if !(0..=100_000_000).contains(&n) => {
            p.add(field, "must be between 0 and 100000000 pence");
            None
        }
        Some(n) => Some(Money {
            amount_pence: n,
            currency: GBP.to_owned(),
        }),
        None => None,
    }
}

fn support_other(p: &mut Problems, needs: &[SupportNeed], other: Option<String>) -> Option<String> {
    if needs.contains(&SupportNeed::Other) && other.is_none() {
        p.add("support_needs_other", "say what other support is needed");
    }
    other
}

impl ParticipantInput {
    /// A valid profile for a new participant of `organisation_id`, with its parsed contact
    /// details.
    pub fn parse(
        &self,
        id: ParticipantId,
        organisation_id: OrganisationId,
        at: DateTime<Utc>,
    ) -> Result<(Participant, Option<super::contact::ContactDetails>), Vec<FieldError>> {
        let mut p = Problems::default();
        let name = p.required_text("name", &self.name, NAME_MAX);
        let preferred_name =
            p.optional_text("preferred_name", self.preferred_name.as_deref(), NAME_MAX);
        let time_available =
            p.optional_text("time_available", self.time_available.as_deref(), TEXT_MAX);
        let other = p.optional_text(
            "support_needs_other",
            self.support_needs_other.as_deref(),
            TEXT_MAX,
        );
        let support_needs = sorted(&self.support_needs);
        let support_needs_other = support_other(&mut p, &support_needs, other);
        let weekly_payment_limit = limit_pence(
            &mut p,
            "weekly_payment_limit_pence",
            self.weekly_payment_limit_pence,
        );
        let identity_subject = match &self.identity_subject {
            Some(s) => p.required_text("identity_subject", s, SUBJECT_MAX),
            None => None,
        };
        let contact = match &self.contact_details {
            Some(c) => match c.parse_under("contact_details.") {
                Ok(c) => Some(c),
                Err(errors) => {
                    for e in errors {
                        p.add(e.field, e.message);
                    }
                    None
                }
            },
            None => None,
        };
        let participant = Participant {
            id,
            organisation_id,
            name,
            preferred_name,
            roles: sorted(&self.roles),
            lived_experience_areas: sorted(&self.lived_experience_areas),
            involvement_kinds: sorted(&self.involvement_kinds),
            time_available,
            contact_methods: sorted(&self.contact_methods),
            support_needs,
            support_needs_other,
            payment_preference: self.payment_preference,
            receives_benefits: self.receives_benefits,
            weekly_payment_limit,
            identity_subject,
            erased_at: None,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        if participant.name.is_none() {
            return Err(p.into_errors());
        }
        p.finish((participant, contact))
    }
}

fn patch_text(
    p: &mut Problems,
    field: &str,
    value: &MaybeUndefined<String>,
    max: usize,
    current: Option<String>,
) -> Option<String> {
    match value {
        MaybeUndefined::Undefined => current,
        MaybeUndefined::Null => None,
        MaybeUndefined::Value(v) => p.optional_text(field, Some(v), max),
    }
}

fn patch_value<T: Clone>(value: &MaybeUndefined<T>, current: Option<T>) -> Option<T> {
    match value {
        MaybeUndefined::Undefined => current,
        MaybeUndefined::Null => None,
        MaybeUndefined::Value(v) => Some(v.clone()),
    }
}

impl ParticipantPatch {
    /// The profile with this change applied, checked whole.
    pub fn apply(
        &self,
        current: &Participant,
        at: DateTime<Utc>,
    ) -> Result<Participant, Vec<FieldError>> {
        let mut p = Problems::default();
        let mut next = current.clone();
        if let Some(name) = &self.name {
            next.name = p.required_text("name", name, NAME_MAX);
        }
        next.preferred_name = patch_text(
            &mut p,
            "preferred_name",
            &self.preferred_name,
            NAME_MAX,
            next.preferred_name,
        );
        if let Some(roles) = &self.roles {
            next.roles = sorted(roles);
        }
        if let Some(areas) = &self.lived_experience_areas {
            next.lived_experience_areas = sorted(areas);
        }
        if let Some(kinds) = &self.involvement_kinds {
            next.involvement_kinds = sorted(kinds);
        }
        next.time_available = patch_text(
            &mut p,
            "time_available",
            &self.time_available,
            TEXT_MAX,
            next.time_available,
        );
        if let Some(methods) = &self.contact_methods {
            next.contact_methods = sorted(methods);
        }
        if let Some(needs) = &self.support_needs {
            next.support_needs = sorted(needs);
        }
        let other = patch_text(
            &mut p,
            "support_needs_other",
            &self.support_needs_other,
            TEXT_MAX,
            next.support_needs_other,
        );
        next.support_needs_other = support_other(&mut p, &next.support_needs, other);
        next.payment_preference = patch_value(&self.payment_preference, next.payment_preference);
        if let Some(b) = self.receives_benefits {
            next.receives_benefits = b;
        }
        match &self.weekly_payment_limit_pence {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => next.weekly_payment_limit = None,
            MaybeUndefined::Value(n) => {
                next.weekly_payment_limit =
                    limit_pence(&mut p, "weekly_payment_limit_pence", Some(*n));
            }
        }
        next.identity_subject = match &self.identity_subject {
            MaybeUndefined::Undefined => next.identity_subject,
            MaybeUndefined::Null => None,
            MaybeUndefined::Value(s) => p.required_text("identity_subject", s, SUBJECT_MAX),
        };
        next.updated_at = at;
        next.version += 1;
        p.finish(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ParticipantRole::{Carer, LivedExperience};

    #[test]
    fn only_a_role_in_the_profile_counts_as_experience() {
        assert_eq!(experience_of(&[]), Experience::None);
        assert_eq!(experience_of(&[Carer]), Experience::Carer);
        assert_eq!(experience_of(&[Carer, LivedExperience]), Experience::Both);
        assert!(roles_allow(&[LivedExperience], Experience::LivedExperience));
        assert!(!roles_allow(&[LivedExperience], Experience::Carer));
        assert!(!roles_allow(&[Carer], Experience::Both));
        assert!(roles_allow(&[], Experience::None));
    }

    #[test]
    fn a_role_taken_out_of_the_profile_stops_counting() {
        assert_eq!(narrow(Experience::Both, &[Carer]), Experience::Carer);
        assert_eq!(
            narrow(Experience::LivedExperience, &[Carer]),
            Experience::None
        );
        assert_eq!(
            narrow(Experience::LivedExperience, &[Carer, LivedExperience]),
            Experience::LivedExperience
        );
    }

    fn input() -> ParticipantInput {
        serde_json::from_value(serde_json::json!({ "name": " Ada " })).expect("input")
    }

    #[test]
    fn a_name_is_needed_and_other_support_must_be_described() {
        let at = Utc::now();
        let (p, contact) = input()
            .parse(ParticipantId::new(), OrganisationId::new(), at)
            .expect("valid");
        assert_eq!(p.name.as_deref(), Some("Ada"));
        assert!(contact.is_none());
        let mut bad = input();
        bad.name = "  ".to_owned();
        bad.support_needs = vec![SupportNeed::Other];
        let errors = bad
            .parse(ParticipantId::new(), OrganisationId::new(), at)
            .expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "support_needs_other"]);
    }

    #[test]
    fn erasure_keeps_the_roles_and_nothing_that_names_the_person() {
        let at = Utc::now();
        let mut i = input();
        i.roles = vec![Carer];
        i.time_available = Some("1 hour a month".to_owned());
        i.identity_subject = Some("idp|123".to_owned());
        let (p, _) = i
            .parse(ParticipantId::new(), OrganisationId::new(), at)
            .expect("valid");
        let erased = p.clone().erased(at);
        assert_eq!(erased.roles, vec![Carer]);
        assert_eq!(erased.name, None);
        assert_eq!(erased.identity_subject, None);
        assert_eq!(erased.time_available, None);
        assert_eq!(erased.version, p.version + 1);
    }
}
