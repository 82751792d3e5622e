//! Payment policies: read by the organisation's staff and by admins.

use super::Services;
use crate::db;
use crate::domain::id::{OrganisationId, PaymentPolicyId};
use crate::domain::identity::Principal;
use crate::domain::page::{Page, PageRequest};
use crate::domain::payment_policy::{PaymentPolicy, RatesInput};
use crate::error::AppError;

pub async fn list(
    services: &Services,
    principal: &Principal,
    organisation_id: Option<OrganisationId>,
    page: PageRequest,
) -> Result<Page<PaymentPolicy>, AppError> {
    let only = if principal.is_admin() {
        organisation_id
    } else {
        match (principal.organisation_id, organisation_id) {
            (Some(own), None) => Some(own),
            (Some(own), Some(asked)) if own == asked => Some(own),
            _ => return Ok(Page::from_rows(Vec::new(), page, |p: &PaymentPolicy| p.id)),
        }
    };
    let rows = services
        .db
        .read(move |conn| db::organisations::list_policies(conn, only, page))
        .await?;
    Ok(Page::from_rows(rows, page, |p| p.id))
}

pub async fn get(
    services: &Services,
    principal: &Principal,
    id: PaymentPolicyId,
) -> Result<PaymentPolicy, AppError> {
    let policy = services
        .db
        .read(move |conn| db::organisations::find_policy(conn, id))
        .await?
        .ok_or(AppError::NotFound("payment policy"))?;
    if principal.is_admin() || principal.belongs_to(policy.organisation_id) {
        Ok(policy)
    } else {
        Err(AppError::NotFound("payment policy"))
    }
}

/// Staff of the policy's organisation (or an admin) add rates that start on a day. Claim lines
/// already priced keep the rates they were priced at.
pub async fn add_rates(
    services: &Services,
    principal: &Principal,
    id: PaymentPolicyId,
    input: &RatesInput,
) -> Result<PaymentPolicy, AppError> {
    let rates = input.parse()?;
    let policy = get(services, principal, id).await?;
    if !(principal.is_admin() || principal.is_staff()) {
        return Err(AppError::Forbidden(
            "the organisation's staff set its payment rates".to_owned(),
        ));
    }
    services
        .db
        .transaction(move |conn| {
            db::organisations::insert_rates(conn, policy.id, &rates)?;
            db::organisations::find_policy(conn, policy.id)?
                .ok_or(AppError::NotFound("payment policy"))
        })
        .await
}
