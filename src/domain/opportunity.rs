//! Involvement opportunities (pieces of work): what they offer, who they are for, their
//! lifecycle, and parsing of what clients send.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::id::{ContractId, OpportunityId, OrganisationId, PaymentPolicyId};

use super::inclusion::{Barrier, Format, Support};
use super::ladder::{ClaimCheck, Evidence, OpportunityKind, OpportunityStatus, WorkingMode};
use super::time::Rfc3339;
use super::validation::{FieldError, Problems};
use super::EnumList;

domain_enum! {
    /// Areas of lived experience the guide names.
    pub enum LivedExperienceArea as "lived experience area" {
        MentalHealth = "mental_health",
        DrugsAndAlcohol = "drugs_and_alcohol",
        LearningDisability = "learning_disability",
        Autism = "autism",
        Homelessness = "homelessness",
        Other = "other",
    }
}

domain_enum! {
    /// How people get a place.
    #[derive(Default)]
    pub enum Admission as "admission" {
        /// An application takes a place at once while places are left.
        #[default]
        FirstCome = "first_come",
        /// Staff accept or decline each application (panels, boards).
        StaffReview = "staff_review",
    }
}

/// A piece of work people with lived experience are invited into.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial, complex)]
pub struct Opportunity {
    pub id: OpportunityId,
    /// The organisation that runs the work.
    pub organisation_id: OrganisationId,
    pub contract_id: Option<ContractId>,
    /// The involvement organisation that sources and supports participants, if any.
    pub facilitator_organisation_id: Option<OrganisationId>,
    pub title: String,
    /// Plain English.
    pub description: String,
    pub easy_read_description: Option<String>,
    pub kind: OpportunityKind,
    /// What the service says this work is; compare `evidence`.
    pub claimed_mode: WorkingMode,
    pub status: OpportunityStatus,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub format: Format,
    pub venue: Option<String>,
    /// Empty (`null`): no limit.
    pub places: Option<i32>,
    /// Accepted members holding a place.
    pub places_taken: i32,
    /// For example "2 hours a month for 6 months".
    pub time_commitment: Option<String>,
    /// Participation is paid under the payment policy named here.
    pub paid: bool,
    pub payment_policy_id: Option<PaymentPolicyId>,
    /// Recognition other than payment: vouchers, training places, volunteer roles, awards.
    pub other_recognition: Option<String>,
    #[graphql(
        skip,
        derived(name = "support_offered", into = "EnumList<Support>", owned)
    )]
    pub support_offered: Vec<Support>,
    #[graphql(
        skip,
        derived(
            name = "lived_experience_areas",
            into = "EnumList<LivedExperienceArea>",
            owned
        )
    )]
    pub lived_experience_areas: Vec<LivedExperienceArea>,
    /// Open to carers.
    pub for_carers: bool,
    pub admission: Admission,
    pub advertised_on: Option<NaiveDate>,
    pub closing_on: Option<NaiveDate>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "created_at", into = "Rfc3339", owned))]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "updated_at", into = "Rfc3339", owned))]
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    /// The honest classification, on single reads: the evidenced level beside the claim and
    /// each co-production criterion with why it is or is not met.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[graphql(skip)]
    pub evidence: Option<EvidenceSummary>,
}

/// What the evidence shows, beside the claim.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EvidenceSummary {
    pub claimed_mode: WorkingMode,
    pub claim_check: ClaimCheck,
    #[serde(flatten)]
    pub evidence: Evidence,
}

impl Opportunity {
    pub fn places_left(&self) -> Option<i32> {
        self.places.map(|p| (p - self.places_taken).max(0))
    }
}

/// Filters for browsing opportunities, each named after a field.
#[derive(Debug, Clone, Default, PartialEq, Eq, async_graphql::InputObject)]
pub struct OpportunityFilter {
    pub status: Option<OpportunityStatus>,
    pub kind: Option<OpportunityKind>,
    pub format: Option<Format>,
    pub lived_experience_area: Option<LivedExperienceArea>,
    pub paid: Option<bool>,
    pub support: Option<Support>,
    pub starts_after: Option<NaiveDate>,
    pub starts_before: Option<NaiveDate>,
    pub has_places: Option<bool>,
    pub organisation_id: Option<OrganisationId>,
    /// Work under this contract.
    pub contract_id: Option<ContractId>,
    /// Work under way in a period from this day: not a draft, starting before `active_to` (or
    /// undated) and ending on or after `active_from` (or open-ended), as in an evidence report.
    pub active_from: Option<NaiveDate>,
    /// The day after that period.
    pub active_to: Option<NaiveDate>,
}

impl OpportunityFilter {
    /// A period must end after it starts.
    pub fn checked(self) -> Result<Self, Vec<FieldError>> {
        match (self.active_from, self.active_to) {
            (Some(from), Some(to)) if to <= from => Err(vec![FieldError::new(
                "active_to",
                "must be after active_from",
            )]),
            _ => Ok(self),
        }
    }
}

/// The guide's barriers that apply to one opportunity.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct InclusionReport {
    pub opportunity_id: OpportunityId,
    pub barriers: Vec<Barrier>,
}

/// The status changes allowed from a status: along draft -> advertised -> running -> ended,
/// or to cancelled from any but ended.
pub fn allowed_moves(from: OpportunityStatus) -> &'static [OpportunityStatus] {
    use OpportunityStatus as S;
    match from {
        S::Draft => &[S::Advertised, S::Cancelled],
        S::Advertised => &[S::Running, S::Cancelled],
        S::Running => &[S::Ended, S::Cancelled],
        S::Ended | S::Cancelled => &[],
    }
}

/// A status change is allowed, or the list of what is.
pub fn check_move(
    from: OpportunityStatus,
    to: OpportunityStatus,
) -> Result<(), &'static [OpportunityStatus]> {
    let allowed = allowed_moves(from);
    if allowed.contains(&to) {
        Ok(())
    } else {
        Err(allowed)
    }
}

/// What a client sends to create an opportunity.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct OpportunityInput {
    /// Admins name the organisation; staff create for their own.
    #[serde(default)]
    pub organisation_id: Option<OrganisationId>,
    #[serde(default)]
    pub contract_id: Option<ContractId>,
    #[serde(default)]
    pub facilitator_organisation_id: Option<OrganisationId>,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub title: String,
    #[schema(
        min_length = 1,
        max_length = 20000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub description: String,
    #[serde(default)]
    #[schema(max_length = 20000, pattern = r"^[^\x00]*$")]
    pub easy_read_description: Option<String>,
    pub kind: OpportunityKind,
    pub claimed_mode: WorkingMode,
    #[serde(default)]
    pub starts_on: Option<NaiveDate>,
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
    pub format: Format,
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub venue: Option<String>,
    #[serde(default, deserialize_with = "super::validation::whole::option_i32")]
    #[schema(minimum = 1)]
    pub places: Option<i32>,
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub time_commitment: Option<String>,
    #[serde(default)]
    #[graphql(default)]
    pub paid: bool,
    /// Defaults to the organisation's default policy when `paid`.
    #[serde(default)]
    pub payment_policy_id: Option<PaymentPolicyId>,
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub other_recognition: Option<String>,
    #[serde(default)]
    #[graphql(default)]
    pub support_offered: Vec<Support>,
    #[serde(default)]
    #[graphql(default)]
    pub lived_experience_areas: Vec<LivedExperienceArea>,
    #[serde(default)]
    #[graphql(default)]
    pub for_carers: bool,
    #[serde(default)]
    #[graphql(default)]
    pub admission: Admission,
    #[serde(default)]
    pub closing_on: Option<NaiveDate>,
    /// When the work was first advertised, for work recorded after the fact (a provider system
    /// posting history). Not in the future, and not after the work started. Advertising sets it
    /// otherwise.
    #[serde(default)]
    pub advertised_on: Option<NaiveDate>,
}

/// Reads a field that may be absent (leave it), `null` (clear it) or a value.
fn some_or_null<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// What a client sends to change an opportunity: absent fields stay; `null` clears a field
/// that may be empty. Status changes are verbs (`/advertise`, `/start`, `/end`, `/cancel`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpportunityPatch {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub title: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 20000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = r"^[^\x00]*$")]
    pub easy_read_description: Option<Option<String>>,
    pub kind: Option<OpportunityKind>,
    pub claimed_mode: Option<WorkingMode>,
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<NaiveDate>)]
    pub starts_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ends_on: Option<Option<NaiveDate>>,
    pub format: Option<Format>,
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^[^\x00]*$")]
    pub venue: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::validation::whole::patch_i32")]
    #[schema(value_type = Option<i32>, minimum = 1)]
    pub places: Option<Option<i32>>,
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^[^\x00]*$")]
    pub time_commitment: Option<Option<String>>,
    pub paid: Option<bool>,
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<Uuid>)]
    pub payment_policy_id: Option<Option<PaymentPolicyId>>,
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^[^\x00]*$")]
    pub other_recognition: Option<Option<String>>,
    pub support_offered: Option<Vec<Support>>,
    pub lived_experience_areas: Option<Vec<LivedExperienceArea>>,
    pub for_carers: Option<bool>,
    pub admission: Option<Admission>,
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<NaiveDate>)]
    pub closing_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<Uuid>)]
    pub facilitator_organisation_id: Option<Option<OrganisationId>>,
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<Uuid>)]
    pub contract_id: Option<Option<ContractId>>,
    /// When the work was first advertised (see `OpportunityInput.advertised_on`).
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<NaiveDate>)]
    pub advertised_on: Option<Option<NaiveDate>>,
}

const TITLE_MAX: usize = 200;
const TEXT_MAX: usize = 20_000;
const SHORT_MAX: usize = 500;

fn sorted<T: Ord + Copy>(items: &[T]) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort();
    v.dedup();
    v
}

impl Opportunity {
    /// A new draft from a client's input, owned by `organisation_id`.
    pub fn draft(
        input: &OpportunityInput,
        id: OpportunityId,
        organisation_id: OrganisationId,
        default_policy: Option<PaymentPolicyId>,
        at: DateTime<Utc>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut p = Problems::default();
        let title = p.required_text("title", &input.title, TITLE_MAX);
        let description = p.required_text("description", &input.description, TEXT_MAX);
        let opportunity = Opportunity {
            id,
            organisation_id,
            contract_id: input.contract_id,
            facilitator_organisation_id: input.facilitator_organisation_id,
            title: title.unwrap_or_default(),
            description: description.unwrap_or_default(),
            easy_read_description: p.optional_text(
                "easy_read_description",
                input.easy_read_description.as_deref(),
                TEXT_MAX,
            ),
            kind: input.kind,
            claimed_mode: input.claimed_mode,
            status: OpportunityStatus::Draft,
            starts_on: input.starts_on,
            ends_on: input.ends_on,
            format: input.format,
            venue: p.optional_text("venue", input.venue.as_deref(), SHORT_MAX),
            places: input.places,
            places_taken: 0,
            time_commitment: p.optional_text(
                "time_commitment",
                input.time_commitment.as_deref(),
                SHORT_MAX,
            ),
            paid: input.paid,
            payment_policy_id: if input.paid {
                input.payment_policy_id.or(default_policy)
            } else {
                None
            },
            other_recognition: p.optional_text(
                "other_recognition",
                input.other_recognition.as_deref(),
                SHORT_MAX,
            ),
            support_offered: sorted(&input.support_offered),
            lived_experience_areas: sorted(&input.lived_experience_areas),
            for_carers: input.for_carers,
            admission: input.admission,
            advertised_on: input.advertised_on,
            closing_on: input.closing_on,
            created_at: at,
            updated_at: at,
            version: 1,
            evidence: None,
        };
        if !input.paid && input.payment_policy_id.is_some() {
            p.add("payment_policy_id", "only paid work names a payment policy");
        }
        opportunity.check_consistency(&mut p, at.date_naive());
        p.finish(opportunity)
    }

    /// Applies a client's change, checking the result as a whole.
    pub fn apply(
        &mut self,
        patch: &OpportunityPatch,
        default_policy: Option<PaymentPolicyId>,
        today: NaiveDate,
    ) -> Result<(), Vec<FieldError>> {
        let mut p = Problems::default();
        if let Some(t) = &patch.title {
            if let Some(t) = p.required_text("title", t, TITLE_MAX) {
                self.title = t;
            }
        }
        if let Some(d) = &patch.description {
            if let Some(d) = p.required_text("description", d, TEXT_MAX) {
                self.description = d;
            }
        }
        if let Some(e) = &patch.easy_read_description {
            self.easy_read_description =
                p.optional_text("easy_read_description", e.as_deref(), TEXT_MAX);
        }
        if let Some(k) = patch.kind {
            self.kind = k;
        }
        if let Some(m) = patch.claimed_mode {
            self.claimed_mode = m;
        }
        if let Some(s) = patch.starts_on {
            self.starts_on = s;
        }
        if let Some(e) = patch.ends_on {
            self.ends_on = e;
        }
        if let Some(f) = patch.format {
            self.format = f;
        }
        if let Some(v) = &patch.venue {
            self.venue = p.optional_text("venue", v.as_deref(), SHORT_MAX);
        }
        if let Some(places) = patch.places {
            self.places = places;
        }
        if let Some(t) = &patch.time_commitment {
            self.time_commitment = p.optional_text("time_commitment", t.as_deref(), SHORT_MAX);
        }
        if let Some(paid) = patch.paid {
            self.paid = paid;
        }
        if let Some(policy) = patch.payment_policy_id {
            self.payment_policy_id = policy;
        }
        if self.paid {
            self.payment_policy_id = self.payment_policy_id.or(default_policy);
        } else {
            self.payment_policy_id = None;
        }
        if let Some(r) = &patch.other_recognition {
            self.other_recognition = p.optional_text("other_recognition", r.as_deref(), SHORT_MAX);
        }
        if let Some(s) = &patch.support_offered {
            self.support_offered = sorted(s);
        }
        if let Some(a) = &patch.lived_experience_areas {
            self.lived_experience_areas = sorted(a);
        }
        if let Some(c) = patch.for_carers {
            self.for_carers = c;
        }
        if let Some(a) = patch.admission {
            self.admission = a;
        }
        if let Some(c) = patch.closing_on {
            self.closing_on = c;
        }
        if let Some(f) = patch.facilitator_organisation_id {
            self.facilitator_organisation_id = f;
        }
        if let Some(c) = patch.contract_id {
            self.contract_id = c;
        }
        if let Some(a) = patch.advertised_on {
            self.advertised_on = a;
        }
        self.check_consistency(&mut p, today);
        p.finish(())
    }

    fn check_consistency(&self, p: &mut Problems, today: NaiveDate) {
        if let Some(advertised) = self.advertised_on {
            if advertised > today {
                p.add(
                    "advertised_on",
                    format!("must not be in the future (today is {today})"),
                );
            } else if let Some(start) = self.starts_on.filter(|s| advertised > *s) {
                p.add(
                    "advertised_on",
                    format!("must not be after the work started on {start}"),
                );
            }
        }
        if let (Some(start), Some(end)) = (self.starts_on, self.ends_on) {
            if end < start {
                p.add("ends_on", "must not be before starts_on");
            }
        }
        if let (Some(closing), Some(end)) = (self.closing_on, self.ends_on) {
            if closing > end {
                p.add("closing_on", "must not be after ends_on");
            }
        }
        if let Some(places) = self.places {
            if places < 1 {
                p.add("places", "must be at least 1, or left out for no limit");
            } else if places < self.places_taken {
                p.add(
                    "places",
                    format!(
                        "cannot be fewer than the {} places already taken",
                        self.places_taken
                    ),
                );
            }
        }
        if self.facilitator_organisation_id == Some(self.organisation_id) {
            p.add(
                "facilitator_organisation_id",
                "must be another organisation than the one running the work",
            );
        }
    }

    /// Payment or another recognition is on offer.
    pub fn offers_payment_or_recognition(&self) -> bool {
        self.paid || self.other_recognition.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OpportunityStatus as S;

    #[test]
    fn status_moves_only_forward_along_the_lifecycle() {
        assert!(check_move(S::Draft, S::Advertised).is_ok());
        assert!(check_move(S::Advertised, S::Running).is_ok());
        assert!(check_move(S::Running, S::Ended).is_ok());
        assert_eq!(
            check_move(S::Draft, S::Running),
            Err(&[S::Advertised, S::Cancelled][..])
        );
        assert_eq!(check_move(S::Ended, S::Running), Err(&[][..]));
        assert!(check_move(S::Advertised, S::Draft).is_err());
    }

    #[test]
    fn anything_but_ended_work_can_be_cancelled() {
        for from in [S::Draft, S::Advertised, S::Running] {
            assert!(check_move(from, S::Cancelled).is_ok(), "{from:?}");
        }
        assert!(check_move(S::Ended, S::Cancelled).is_err());
        assert!(check_move(S::Cancelled, S::Cancelled).is_err());
    }

    fn input() -> OpportunityInput {
        serde_json::from_value(serde_json::json!({
            "title": "Shape the new crisis line",
            "description": "Tell us what a good crisis line sounds like.",
            "kind": "workshop",
            "claimed_mode": "co_production",
            "format": "hybrid",
        }))
        .expect("input")
    }

    #[test]
    fn paid_work_takes_the_organisations_default_policy() {
        let mut i = input();
        i.paid = true;
        let policy = crate::domain::new_id();
        let o = Opportunity::draft(
            &i,
            crate::domain::new_id(),
            crate::domain::new_id(),
            Some(policy),
            Utc::now(),
        )
        .expect("valid");
        assert_eq!(o.payment_policy_id, Some(policy));
        assert_eq!(o.status, S::Draft);
    }

    #[test]
    fn dates_and_places_must_make_sense() {
        let mut i = input();
        i.starts_on = NaiveDate::from_ymd_opt(2027, 3, 1);
        i.ends_on = NaiveDate::from_ymd_opt(2027, 2, 1);
        i.places = Some(0);
        let errors = Opportunity::draft(
            &i,
            crate::domain::new_id(),
            crate::domain::new_id(),
            None,
            Utc::now(),
        )
        .expect_err("invalid");
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["ends_on", "places"]);
    }

    #[test]
    fn a_patch_can_clear_a_field_with_null_and_leave_absent_ones() {
        let mut o = Opportunity::draft(
            &input(),
            crate::domain::new_id(),
            crate::domain::new_id(),
            None,
            Utc::now(),
        )
        .expect("valid");
        o.venue = Some("Town hall".into());
        let patch: OpportunityPatch =
            serde_json::from_value(serde_json::json!({ "venue": null, "title": "New" }))
                .expect("patch");
        o.apply(&patch, None, Utc::now().date_naive())
            .expect("applies");
        assert_eq!(o.venue, None);
        assert_eq!(o.title, "New");
        assert_eq!(o.format, Format::Hybrid);
    }
}
