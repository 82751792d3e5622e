//! Organisations: admins create and change them; staff see their own. Every new organisation
//! starts with the guide's payment policy as its default.

use super::identity::require_admin;
use super::Services;
use crate::db;
use crate::domain::id::OrganisationId;
use crate::domain::identity::Principal;
use crate::domain::organisation::{
    NewOrganisation, Organisation, OrganisationChanges, OrganisationInput, OrganisationPatch,
};
use crate::domain::page::{Page, PageRequest};
use crate::domain::payment_policy::{NewPaymentPolicy, PaymentPolicy, PaymentRates};
use crate::domain::{money::Money, new_id, now};
use crate::error::AppError;

pub async fn create(
    services: &Services,
    principal: &Principal,
    input: &OrganisationInput,
) -> Result<Organisation, AppError> {
    require_admin(principal, "create organisations")?;
    let new = NewOrganisation::parse(input)?;
    let at = now();
    let policy_id = new_id();
    let org = Organisation {
        id: new_id(),
        name: new.name,
        kinds: new.kinds,
        contact: new.contact,
        default_payment_policy_id: Some(policy_id),
        created_at: at,
        updated_at: at,
        version: 1,
    };
    let guide = NewPaymentPolicy::guide_default(crate::domain::payment_policy::guide_rates_from());
    let policy = PaymentPolicy {
        id: policy_id,
        organisation_id: org.id,
        name: guide.name,
        fares_need_receipt: guide.fares_need_receipt,
        travel_time_paid: guide.travel_time_paid,
        pay_within_days: guide.pay_within_days,
        is_default: true,
        rates: vec![PaymentRates {
            effective_from: guide.effective_from,
            hourly_rate: Money::gbp(guide.hourly_rate_pence),
            mileage_rate: Money::gbp(guide.mileage_rate_pence),
        }],
        created_at: at,
    };
    let stored = org.clone();
    services
        .db
        .transaction(move |conn| {
            db::organisations::insert(conn, &stored)?;
            db::organisations::insert_policy(conn, &policy)
        })
        .await?;
    Ok(org)
}

/// Admins see every organisation; anyone else sees only their own.
pub async fn list(
    services: &Services,
    principal: &Principal,
    page: PageRequest,
) -> Result<Page<Organisation>, AppError> {
    let only = if principal.is_admin() {
        None
    } else {
        match principal.organisation_id {
            Some(org) => Some(org),
            None => return Ok(Page::from_rows(Vec::new(), page, |o: &Organisation| o.id)),
        }
    };
    let rows = services
        .db
        .read(move |conn| db::organisations::list(conn, only, page))
        .await?;
    Ok(Page::from_rows(rows, page, |o| o.id))
}

pub async fn get(
    services: &Services,
    principal: &Principal,
    id: OrganisationId,
) -> Result<Organisation, AppError> {
    // Another organisation answers exactly as a missing one does.
    if !principal.is_admin() && !principal.belongs_to(id) {
        return Err(AppError::NotFound("organisation"));
    }
    services
        .db
        .read(move |conn| db::organisations::find(conn, id))
        .await?
        .ok_or(AppError::NotFound("organisation"))
}

/// Applies a change if the caller read the current version (`expected_version`, from `If-Match`).
pub async fn update(
    services: &Services,
    principal: &Principal,
    id: OrganisationId,
    expected_version: i32,
    patch: &OrganisationPatch,
) -> Result<Organisation, AppError> {
    if !principal.is_admin() && !principal.belongs_to(id) {
        return Err(AppError::NotFound("organisation"));
    }
    require_admin(principal, "change organisations")?;
    let changes = OrganisationChanges::parse(patch)?;
    services
        .db
        .transaction(move |conn| {
            let mut org =
                db::organisations::find(conn, id)?.ok_or(AppError::NotFound("organisation"))?;
            if org.version != expected_version {
                return Err(AppError::PreconditionFailed);
            }
            if let Some(name) = changes.name {
                org.name = name;
            }
            if let Some(kinds) = changes.kinds {
                org.kinds = kinds;
            }
            if let Some(contact) = changes.contact {
                org.contact = contact;
            }
            org.updated_at = now();
            org.version = expected_version + 1;
            if db::organisations::update_if_version(conn, &org, expected_version)? {
                Ok(org)
            } else {
                Err(AppError::PreconditionFailed)
            }
        })
        .await
}
