//! Participants: registering people, their profiles, their contact details (sealed at rest and
//! shown only to those allowed, every read by someone else logged), consent to share them, the
//! group directory, the person's export of everything held, and erasure.
//!
//! Who may do what (API.md, and the rule that commissioners never see contact details):
//! - the person: everything about themselves;
//! - staff (provider or facilitator) of the organisation that registered the person: read and
//!   change the profile and contact details, record consent on the person's behalf;
//! - provider or facilitator staff who run work the person applied to or is a member of: read
//!   the profile and the contact details;
//! - admins: read everything, export, erase; they do not change a person's profile;
//! - everyone else: "not found", so ids leak nothing.

use std::collections::HashMap;

use uuid::Uuid;

use super::opportunities::{can_manage, load_visible, participant_of};
use super::{events, Services};
use crate::crypto::DataKeys;
use crate::db::participants::SealedContact;
use crate::db::{self, DbConnection};
use crate::domain::consent::{
    self, AudienceKind, ConsentEvent, ConsentInput, ConsentMethod, ConsentRecord,
};
use crate::domain::contact::{
    AccessLogEntry, ContactDetails, ContactDetailsInput, ContactField, DirectoryEntry,
    PostalAddress,
};
use crate::domain::event::{EventType, NewEvent};
use crate::domain::id::{OpportunityId, ParticipantId};
use crate::domain::identity::{Principal, Role};
use crate::domain::membership::MemberStatus;
use crate::domain::page::{Page, PageRequest};
use crate::domain::participant::{
    narrow, Participant, ParticipantExport, ParticipantFilter, ParticipantInput, ParticipantPatch,
};
use crate::domain::{new_id, now};
use crate::error::AppError;

const NOT_FOUND: AppError = AppError::NotFound("participant");

/// Staff who may hold people's contact details: providers and facilitators. A commissioner
/// never does, even one who also holds another role.
fn reads_contacts(principal: &Principal) -> bool {
    (principal.has(Role::Provider) || principal.has(Role::Facilitator))
        && !principal.has(Role::Commissioner)
}

/// How the caller stands to one person.
#[derive(Debug, Clone, Copy, Default)]
struct Standing {
    own: bool,
    admin: bool,
    /// Provider or facilitator staff of the organisation that registered the person.
    registrar: bool,
    /// Provider or facilitator staff who run work the person applied to or is a member of.
    works_with: bool,
}

impl Standing {
    fn reads_profile(self) -> bool {
        self.own || self.admin || self.registrar || self.works_with
    }

    fn changes_profile(self) -> bool {
        self.own || self.registrar
    }

    fn reads_contacts(self) -> bool {
        self.own || self.admin || self.registrar || self.works_with
    }

    fn reads_consents(self) -> bool {
        self.own || self.admin || self.registrar
    }
}

fn standing(
    conn: &mut DbConnection,
    principal: &Principal,
    p: &Participant,
) -> Result<Standing, AppError> {
    let mut s = Standing {
        own: participant_of(principal) == Some(p.id),
        admin: principal.is_admin(),
        registrar: reads_contacts(principal) && principal.belongs_to(p.organisation_id),
        works_with: false,
    };
    if !s.own && !s.admin && !s.registrar && reads_contacts(principal) {
        s.works_with = works_with(conn, principal, p.id)?;
    }
    Ok(s)
}

/// True when the caller runs work the person applied to or holds a place on.
fn works_with(
    conn: &mut DbConnection,
    principal: &Principal,
    participant_id: ParticipantId,
) -> Result<bool, AppError> {
    let memberships: Vec<OpportunityId> = db::members::of_participant(conn, participant_id)?
        .into_iter()
        .filter(|m| matches!(m.status, MemberStatus::Applied | MemberStatus::Accepted))
        .map(|m| m.opportunity_id)
        .collect();
    if memberships.is_empty() {
        return Ok(false);
    }
    Ok(db::opportunities::find_many(conn, &memberships)?
        .iter()
        .any(|o| can_manage(principal, o)))
}

/// Loads a person the caller may see, with how the caller stands to them.
fn load_readable(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ParticipantId,
) -> Result<(Participant, Standing), AppError> {
    let p = db::participants::find(conn, id)?.ok_or(NOT_FOUND)?;
    let s = standing(conn, principal, &p)?;
    if s.reads_profile() {
        Ok((p, s))
    } else {
        Err(NOT_FOUND)
    }
}

fn refuse_erased(p: &Participant) -> Result<(), AppError> {
    if p.is_erased() {
        Err(AppError::Conflict(
            "this person's data has been erased at their request".to_owned(),
        ))
    } else {
        Ok(())
    }
}

/// Staff of a provider or facilitator register a person, with their contact details if given.
pub async fn register(
    services: &Services,
    principal: &Principal,
    input: &ParticipantInput,
) -> Result<Participant, AppError> {
    let organisation_id = match principal.organisation_id {
        Some(org) if reads_contacts(principal) => org,
        _ => {
            return Err(AppError::Forbidden(
                "staff of a provider or facilitator register participants".to_owned(),
            ))
        }
    };
    let (participant, contact) = input.parse(new_id(), organisation_id, now())?;
    let sealed = match &contact {
        Some(c) => seal_all(&services.keys, participant.id, c)?,
        None => Vec::new(),
    };
    let stored = participant.clone();
    services
        .db
        .transaction(move |conn| {
            if db::organisations::find(conn, organisation_id)?.is_none() {
                return Err(AppError::Forbidden(
                    "the organisation named in the token does not exist".to_owned(),
                ));
            }
            db::participants::insert(conn, &stored)?;
            db::participants::replace_contacts(conn, stored.id, &sealed, stored.created_at)
        })
        .await?;
    Ok(participant)
}

/// One person's profile.
pub async fn get(
    services: &Services,
    principal: &Principal,
    id: ParticipantId,
) -> Result<Participant, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| load_readable(conn, &principal, id).map(|(p, _)| p))
        .await
}

/// Staff list and search the people their organisation registered; admins everyone (or one
/// organisation's). Only profile fields can be searched: contact details never.
pub async fn list(
    services: &Services,
    principal: &Principal,
    filter: ParticipantFilter,
    page: PageRequest,
) -> Result<Page<Participant>, AppError> {
    let organisation_id = if principal.is_admin() {
        filter.organisation_id
    } else {
        match principal.organisation_id {
            Some(org) if reads_contacts(principal) => {
                if filter.organisation_id.is_some_and(|o| o != org) {
                    return Ok(Page::from_rows(Vec::new(), page, |p: &Participant| p.id));
                }
                Some(org)
            }
            _ => {
                return Err(AppError::Forbidden(
                    "staff of a provider or facilitator list the participants they registered"
                        .to_owned(),
                ))
            }
        }
    };
    let rows = services
        .db
        .read(move |conn| db::participants::list(conn, organisation_id, &filter, page))
        .await?;
    Ok(Page::from_rows(rows, page, |p| p.id))
}

/// The person, or the staff who registered them, change the profile. A role taken out of the
/// profile stops counting in the person's memberships at once.
pub async fn update(
    services: &Services,
    principal: &Principal,
    id: ParticipantId,
    expected_version: i32,
    patch: &ParticipantPatch,
) -> Result<Participant, AppError> {
    let (principal, patch) = (principal.clone(), patch.clone());
    services
        .db
        .transaction(move |conn| {
            let (current, s) = load_readable(conn, &principal, id)?;
            if !s.changes_profile() {
                return Err(AppError::Forbidden(
                    "the person, or the staff who registered them, change a profile".to_owned(),
                ));
            }
            let next = patch.apply(&current, now())?;
            refuse_erased(&current)?;
            if current.version != expected_version {
                return Err(AppError::PreconditionFailed);
            }
            if !db::participants::update_if_version(conn, &next, expected_version)? {
                return Err(AppError::PreconditionFailed);
            }
            if next.roles != current.roles {
                for from in crate::domain::membership::Experience::ALL {
                    let to = narrow(from, &next.roles);
                    if to != from {
                        db::participants::narrow_memberships(conn, id, from, to)?;
                    }
                }
            }
            Ok(next)
        })
        .await
}

// --- Contact details ------------------------------------------------------------------------

fn context(participant_id: ParticipantId, field: ContactField) -> Vec<u8> {
    format!("contact/{participant_id}/{}", field.as_str()).into_bytes()
}

fn seal_all(
    keys: &DataKeys,
    participant_id: ParticipantId,
    c: &ContactDetails,
) -> Result<Vec<SealedContact>, AppError> {
    let mut out = Vec::new();
    let mut add = |field: ContactField, plain: Vec<u8>| -> Result<(), AppError> {
        out.push(SealedContact {
            participant_id,
            field,
            sealed: keys.seal(&plain, &context(participant_id, field))?,
        });
        Ok(())
    };
    if let Some(email) = &c.email {
        add(ContactField::Email, email.as_bytes().to_vec())?;
    }
    if let Some(phone) = &c.phone {
        add(ContactField::Phone, phone.as_bytes().to_vec())?;
    }
    if let Some(address) = &c.postal_address {
        let json = serde_json::to_vec(address)
            .map_err(|e| AppError::internal(format!("an address did not serialise: {e}")))?;
        add(ContactField::PostalAddress, json)?;
    }
    Ok(out)
}

/// Opens sealed values into contact details per person, keeping only the fields `wanted`
/// says (all when `None`).
fn open_all(
    keys: &DataKeys,
    sealed: &[SealedContact],
    wanted: impl Fn(ParticipantId, ContactField) -> bool,
) -> Result<HashMap<ParticipantId, ContactDetails>, AppError> {
    let mut out: HashMap<ParticipantId, ContactDetails> = HashMap::new();
    for s in sealed.iter().filter(|s| wanted(s.participant_id, s.field)) {
        let plain = keys.open(&s.sealed, &context(s.participant_id, s.field))?;
        let entry = out.entry(s.participant_id).or_default();
        let text = || {
            String::from_utf8(plain.clone())
                .map_err(|_| AppError::internal("a sealed contact detail is not text"))
        };
        match s.field {
            ContactField::Email => entry.email = Some(text()?),
            ContactField::Phone => entry.phone = Some(text()?),
            ContactField::PostalAddress => {
                entry.postal_address = Some(
                    serde_json::from_slice::<PostalAddress>(&plain).map_err(|e| {
                        AppError::internal(format!("a sealed address did not parse: {e}"))
                    })?,
                )
            }
        }
    }
    Ok(out)
}

fn access_entry(
    principal: &Principal,
    participant_id: ParticipantId,
    fields: Vec<ContactField>,
    purpose: &str,
) -> AccessLogEntry {
    AccessLogEntry {
        id: new_id(),
        participant_id,
        accessed_by: principal.subject.clone(),
        accessed_by_organisation_id: principal.organisation_id,
        accessed_by_roles: principal.roles.iter().copied().collect(),
        fields,
        purpose: purpose.to_owned(),
        accessed_at: now(),
    }
}

/// Opens a person's contact details for a caller already allowed to read them, logging the
/// read (which fields, and `purpose`) unless the caller is the person.
fn read_and_log(
    conn: &mut DbConnection,
    keys: &DataKeys,
    principal: &Principal,
    id: ParticipantId,
    s: Standing,
    purpose: &str,
) -> Result<ContactDetails, AppError> {
    let sealed = db::participants::contacts_of(conn, &[id])?;
    let details = open_all(keys, &sealed, |_, _| true)?
        .remove(&id)
        .unwrap_or_default();
    let fields = details.fields();
    if !s.own && !fields.is_empty() {
        db::participants::log_access(conn, &[access_entry(principal, id, fields, purpose)])?;
    }
    Ok(details)
}

/// A person's contact details, for those allowed; every read by someone other than the person
/// is logged with `purpose` (the endpoint that showed them).
pub async fn contact_details(
    services: &Services,
    principal: &Principal,
    id: ParticipantId,
    purpose: &'static str,
) -> Result<ContactDetails, AppError> {
    let principal = principal.clone();
    let keys = services.keys.clone();
    services
        .db
        .run(move |conn| {
            let (_, s) = load_readable(conn, &principal, id)?;
            if !s.reads_contacts() {
                return Err(AppError::Forbidden(
                    "contact details are for the person, the staff who registered them, the staff of work they take part in, and admins".to_owned(),
                ));
            }
            read_and_log(conn, &keys, &principal, id, s, purpose)
        })
        .await
}

/// The person, or the staff who registered them, replace the contact details.
pub async fn set_contact_details(
    services: &Services,
    principal: &Principal,
    id: ParticipantId,
    input: &ContactDetailsInput,
) -> Result<ContactDetails, AppError> {
    let details = input.parse()?;
    let sealed = seal_all(&services.keys, id, &details)?;
    let principal = principal.clone();
    services
        .db
        .transaction(move |conn| {
            let (p, s) = load_readable(conn, &principal, id)?;
            if !s.changes_profile() {
                return Err(AppError::Forbidden(
                    "the person, or the staff who registered them, change contact details"
                        .to_owned(),
                ));
            }
            refuse_erased(&p)?;
            db::participants::replace_contacts(conn, id, &sealed, now())
        })
        .await?;
    Ok(details)
}

// --- Consent --------------------------------------------------------------------------------

/// What is in force and the whole history, for the person, the staff who registered them and
/// admins.
pub async fn consents(
    services: &Services,
    principal: &Principal,
    id: ParticipantId,
) -> Result<ConsentRecord, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| {
            let (_, s) = load_readable(conn, &principal, id)?;
            if !s.reads_consents() {
                return Err(AppError::Forbidden(
                    "consents are for the person, the staff who registered them, and admins"
                        .to_owned(),
                ));
            }
            record_of(conn, id)
        })
        .await
}

fn record_of(conn: &mut DbConnection, id: ParticipantId) -> Result<ConsentRecord, AppError> {
    let history = db::participants::consents_of(conn, id)?;
    Ok(ConsentRecord {
        current: consent::current(&history),
        history,
    })
}

/// A grant or withdrawal, by the person (online) or by the staff who registered them, who say
/// how it was given. It takes effect on the next read, on every instance.
pub async fn record_consent(
    services: &Services,
    principal: &Principal,
    id: ParticipantId,
    input: &ConsentInput,
) -> Result<ConsentEvent, AppError> {
    let (principal, input) = (principal.clone(), input.clone());
    services
        .db
        .transaction(move |conn| {
            let (p, s) = load_readable(conn, &principal, id)?;
            let method = if s.own {
                match input.method {
                    None | Some(ConsentMethod::Online) => ConsentMethod::Online,
                    Some(_) => {
                        return Err(AppError::validation(
                            "method",
                            "a person recording their own consent gives it online",
                        ))
                    }
                }
            } else if s.registrar {
                match input.method {
                    Some(m @ (ConsentMethod::Written | ConsentMethod::Verbal)) => m,
                    _ => {
                        return Err(AppError::validation(
                            "method",
                            "staff recording consent on the person's behalf say how it was given: written or verbal",
                        ))
                    }
                }
            } else {
                return Err(AppError::Forbidden(
                    "the person, or the staff who registered them, record consent".to_owned(),
                ));
            };
            refuse_erased(&p)?;
            let audience_exists = match input.audience_kind {
                AudienceKind::Opportunity => {
                    db::opportunities::find(conn, crate::domain::id::OpportunityId::from_uuid(input.audience_id))?
                        .is_some()
                }
                AudienceKind::Organisation => db::organisations::find(
                    conn,
                    crate::domain::id::OrganisationId::from_uuid(input.audience_id),
                )?
                .is_some(),
            };
            if !audience_exists {
                return Err(AppError::validation(
                    "audience_id",
                    format!("names no {}", input.audience_kind.as_str()),
                ));
            }
            let event = ConsentEvent {
                id: new_id(),
                participant_id: id,
                field: input.field,
                audience_kind: input.audience_kind,
                audience_id: input.audience_id,
                granted: input.granted,
                method,
                recorded_by: principal.subject.clone(),
                recorded_by_organisation_id: if s.own {
                    None
                } else {
                    principal.organisation_id
                },
                recorded_at: now(),
            };
            db::participants::insert_consent(conn, &event)?;
            if !event.granted {
                let mut outward = NewEvent::new(EventType::ConsentWithdrawn, p.organisation_id)
                    .for_person(Some(id))
                    .with_data(serde_json::json!({
                        "participant_id": id,
                        "field": event.field,
                        "audience_kind": event.audience_kind,
                        "audience_id": event.audience_id,
                    }));
                if event.audience_kind == AudienceKind::Opportunity {
                    outward.opportunity_id = Some(OpportunityId::from_uuid(event.audience_id));
                }
                events::record(conn, outward)?;
            }
            Ok(event)
        })
        .await
}

// --- The group directory --------------------------------------------------------------------

/// A piece of work's group directory: each accepted member's name and role, and only the contact
/// fields they consented to share with the reader's audience (the work's members, or the
/// reader's organisation). For the work's accepted members and the staff who organise it;
/// commissioners see names only.
pub async fn directory(
    services: &Services,
    principal: &Principal,
    opportunity_id: OpportunityId,
    page: PageRequest,
) -> Result<Page<DirectoryEntry>, AppError> {
    let principal = principal.clone();
    let keys = services.keys.clone();
    let rows = services
        .db
        .read(move |conn| {
            let (o, own) = load_visible(conn, &principal, opportunity_id)?;
            let member = own.is_some_and(|m| m.status == MemberStatus::Accepted);
            let organiser = can_manage(&principal, &o);
            if !member && !organiser {
                return Err(AppError::Forbidden(
                    "the directory is for the group's members and the staff who organise the work"
                        .to_owned(),
                ));
            }
            let members = db::members::accepted_page_with_names(conn, opportunity_id, page)?;
            let shows_contacts = member || principal.is_admin() || reads_contacts(&principal);
            let mut audiences = vec![(AudienceKind::Opportunity, o.id.uuid())];
            if organiser {
                if let Some(org) = principal.organisation_id {
                    audiences.push((AudienceKind::Organisation, org.uuid()));
                }
            }
            // Every read joins on the group rather than listing its members: three queries
            // whatever the group's size, and contact details opened only where consented.
            let shared: HashMap<ParticipantId, Vec<ContactField>> =
                if shows_contacts && !members.is_empty() {
                    let audience_ids: Vec<Uuid> = audiences.iter().map(|(_, id)| *id).collect();
                    let events =
                        db::participants::consents_of_group(conn, opportunity_id, &audience_ids)?;
                    let mut by_person: HashMap<ParticipantId, Vec<ConsentEvent>> = HashMap::new();
                    for e in events {
                        by_person.entry(e.participant_id).or_default().push(e);
                    }
                    by_person
                        .into_iter()
                        .map(|(p, events)| (p, consent::shared_fields(&events, &audiences)))
                        .filter(|(_, fields)| !fields.is_empty())
                        .collect()
                } else {
                    HashMap::new()
                };
            let sealed = if shared.is_empty() {
                Vec::new()
            } else {
                db::participants::contacts_of_group(conn, opportunity_id)?
            };
            let mut contacts = open_all(&keys, &sealed, |p, f| {
                shared.get(&p).is_some_and(|fields| fields.contains(&f))
            })?;
            Ok(members
                .into_iter()
                .map(|(m, name)| {
                    let c = contacts.remove(&m.participant_id).unwrap_or_default();
                    DirectoryEntry {
                        membership_id: m.id,
                        participant_id: m.participant_id,
                        name,
                        role: m.role,
                        email: c.email,
                        phone: c.phone,
                        postal_address: c.postal_address,
                    }
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(Page::from_rows(rows, page, |e| e.membership_id))
}

// --- The access log, export and erasure -----------------------------------------------------

/// Who read the person's contact details, for the person and admins.
pub async fn access_log(
    services: &Services,
    principal: &Principal,
    id: ParticipantId,
    page: PageRequest,
) -> Result<Page<AccessLogEntry>, AppError> {
    let principal = principal.clone();
    let rows = services
        .db
        .read(move |conn| {
            let (_, s) = load_readable(conn, &principal, id)?;
            if !(s.own || s.admin) {
                return Err(AppError::Forbidden(
                    "the access log is for the person and admins".to_owned(),
                ));
            }
            db::participants::access_log(conn, id, page)
        })
        .await?;
    Ok(Page::from_rows(rows, page, |e| e.id))
}

/// Everything held about the person, for the person and admins (an admin's export is logged
/// as a read of the contact details).
pub async fn export(
    services: &Services,
    principal: &Principal,
    id: ParticipantId,
    purpose: &'static str,
) -> Result<ParticipantExport, AppError> {
    let principal = principal.clone();
    let keys = services.keys.clone();
    services
        .db
        .run(move |conn| {
            let (participant, s) = load_readable(conn, &principal, id)?;
            if !(s.own || s.admin) {
                return Err(AppError::Forbidden(
                    "the export is for the person and admins".to_owned(),
                ));
            }
            let contact_details = read_and_log(conn, &keys, &principal, id, s, purpose)?;
            let memberships = db::members::of_participant(conn, id)?;
            let membership_ids: Vec<_> = memberships.iter().map(|m| m.id).collect();
            let (feedback, evaluations) = db::feedback::given_by(conn, id)?;
            Ok(ParticipantExport {
                feedback,
                evaluations,
                exported_at: now(),
                consents: record_of(conn, id)?,
                attendance: db::sessions::attendance_of_memberships(conn, &membership_ids)?,
                memberships: memberships.into_iter().map(|m| m.view(true)).collect(),
                access_log: db::participants::whole_access_log(conn, id)?,
                claims: db::claims::of_participant(conn, id)?,
                bank_details: db::claims::bank_of(conn, id)?.map(|(_, last)| {
                    crate::domain::payment::MaskedBankDetails {
                        account_number_last_four: last,
                    }
                }),
                recognitions: db::claims::recognitions_of(conn, id)?,
                participant,
                contact_details,
            })
        })
        .await
}

/// Erases the person at their request (or an admin's, acting on one): name, contact details,
/// consents, free text and the identity link go; an anonymous stub keeps the roles, so the
/// memberships, attendance and hours in the evidence stay exactly as they were.
pub async fn erase(
    services: &Services,
    principal: &Principal,
    id: ParticipantId,
) -> Result<Participant, AppError> {
    let principal = principal.clone();
    services
        .db
        .transaction(move |conn| {
            let (p, s) = load_readable(conn, &principal, id)?;
            if !(s.own || s.admin) {
                return Err(AppError::Forbidden(
                    "erasure is asked for by the person, or an admin acting on their request"
                        .to_owned(),
                ));
            }
            if p.is_erased() {
                return Ok(p);
            }
            if db::claims::has_unpaid(conn, id)? {
                return Err(AppError::Conflict(
                    "a claim of this person's is submitted or approved but not yet paid: erasure waits until it is paid or rejected, so nobody loses money they are owed".to_owned(),
                ));
            }
            let expected = p.version;
            let erased = p.erased(now());
            if !db::participants::update_if_version(conn, &erased, expected)? {
                return Err(AppError::PreconditionFailed);
            }
            db::participants::delete_contacts(conn, id)?;
            db::claims::delete_bank(conn, id)?;
            db::participants::delete_consents(conn, id)?;
            db::participants::erase_membership_text(conn, id)?;
            db::feedback::detach_person(conn, id)?;
            Ok(erased)
        })
        .await
}

// --- Keys -----------------------------------------------------------------------------------

/// Refuses to start when stored values are sealed under a key this instance lacks: a wrong
/// or missing key is said plainly at start, never shown as garbage later.
pub async fn check_keys(services: &Services) -> Result<(), AppError> {
    let stored = services
        .db
        .read(|conn| {
            let mut ids = db::participants::contact_key_ids(conn)?;
            ids.extend(db::claims::bank_key_ids(conn)?);
            ids.extend(super::webhooks::secret_key_ids(conn)?);
            Ok(ids)
        })
        .await?;
    let missing: Vec<String> = stored
        .into_iter()
        .filter(|k| !services.keys.knows(k))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::internal(format!(
            "personal data is sealed under data key(s) {} which this instance does not have (current key {}): set COPRODUCE_DATA_KEY to the key in use, and COPRODUCE_DATA_KEY_PREVIOUS to keys being rotated away from",
            missing.join(", "),
            services.keys.current_id()
        )))
    }
}

/// Re-seals every stored value under the current key (`coproduce rotate-data-key`), in
/// batches, each value only if it is still as it was read. Returns how many were re-sealed.
pub fn reseal_all(conn: &mut DbConnection, keys: &DataKeys) -> Result<usize, AppError> {
    let mut done = 0;
    loop {
        let batch = db::participants::contacts_not_under(conn, keys.current_id(), 500)?;
        if batch.is_empty() {
            return Ok(done);
        }
        for old in &batch {
            let ctx = context(old.participant_id, old.field);
            let plain = keys.open(&old.sealed, &ctx)?;
            let new = keys.seal(&plain, &ctx)?;
            if db::participants::reseal(conn, old, &new)? {
                done += 1;
            }
        }
    }
}

/// The participant a sign-in's `sub` is linked to.
pub async fn linked_to(
    services: &Services,
    subject: &str,
) -> Result<Option<ParticipantId>, AppError> {
    let subject = subject.to_owned();
    services
        .db
        .read(move |conn| db::participants::id_for_subject(conn, &subject))
        .await
}
