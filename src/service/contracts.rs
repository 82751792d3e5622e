//! Contracts: commissioners write co-production into what they fund.
//!
//! - A commissioner's staff create and change their organisation's contracts (admins any,
//!   naming the commissioner). The provider named must be a provider organisation.
//! - The commissioner's and the provider's staff read a contract; admins all; anyone else gets
//!   "not found", so ids leak nothing.
//! - Work links to a contract by `contract_id`: only work of the contract's provider may
//!   (checked in `opportunities`), and the commissioner then sees that work.

use super::Services;
use crate::db::{self, DbConnection};
use crate::domain::contract::{Contract, ContractInput, ContractPatch};
use crate::domain::id::{ContractId, OpportunityId, OrganisationId};
use crate::domain::identity::{Principal, Role};
use crate::domain::opportunity::Opportunity;
use crate::domain::organisation::OrganisationKind;
use crate::domain::page::{Page, PageRequest};
use crate::domain::{new_id, now};
use crate::error::AppError;

const NOT_FOUND: AppError = AppError::NotFound("contract");

/// The commissioner's staff and the provider's staff may read a contract; admins all.
pub fn can_read(principal: &Principal, c: &Contract) -> bool {
    principal.is_admin()
        || (principal.is_staff()
            && (principal.belongs_to(c.commissioner_id) || principal.belongs_to(c.provider_id)))
}

/// Only the commissioner's staff (acting as commissioners) change a contract; admins too.
pub fn can_change(principal: &Principal, c: &Contract) -> bool {
    principal.is_admin()
        || (principal.has(Role::Commissioner) && principal.belongs_to(c.commissioner_id))
}

/// The contract, when the caller may read it.
pub fn load_readable(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ContractId,
) -> Result<Contract, AppError> {
    match db::contracts::find(conn, id)? {
        Some(c) if can_read(principal, &c) => Ok(c),
        _ => Err(NOT_FOUND),
    }
}

/// Whether the caller commissions the contract this work is under: a commissioner sees the
/// work under their contracts, its sessions, attendance and decisions (API.md).
pub fn commissions(
    conn: &mut DbConnection,
    principal: &Principal,
    o: &Opportunity,
) -> Result<bool, AppError> {
    let (Some(contract), Some(org), true) = (
        o.contract_id,
        principal.organisation_id,
        principal.has(Role::Commissioner),
    ) else {
        return Ok(false);
    };
    Ok(db::contracts::commissioner_of(conn, contract)? == Some(org))
}

/// Of these pieces of work, those under contracts the caller commissions (one query).
pub fn commissioned_among(
    conn: &mut DbConnection,
    principal: &Principal,
    work: &[&Opportunity],
) -> Result<Vec<OpportunityId>, AppError> {
    let (Some(org), true) = (principal.organisation_id, principal.has(Role::Commissioner)) else {
        return Ok(Vec::new());
    };
    let mut contracts: Vec<ContractId> = work.iter().filter_map(|o| o.contract_id).collect();
    contracts.sort();
    contracts.dedup();
    let theirs = db::contracts::commissioned_among(conn, org, &contracts)?;
    Ok(work
        .iter()
        .filter(|o| o.contract_id.is_some_and(|c| theirs.contains(&c)))
        .map(|o| o.id)
        .collect())
}

/// A piece of work may name only a contract with the organisation that runs it.
pub fn check_link(
    conn: &mut DbConnection,
    contract: ContractId,
    provider: OrganisationId,
) -> Result<(), AppError> {
    match db::contracts::find(conn, contract)? {
        Some(c) if c.provider_id == provider => Ok(()),
        Some(_) => Err(AppError::validation(
            "contract_id",
            "is a contract with another provider, not the organisation that runs the work",
        )),
        None => Err(AppError::validation(
            "contract_id",
            "no contract has this id",
        )),
    }
}

pub async fn create(
    services: &Services,
    principal: &Principal,
    input: &ContractInput,
) -> Result<Contract, AppError> {
    let new = input.parse()?;
    let commissioner = if principal.is_admin() {
        new.commissioner_id
            .or(principal.organisation_id)
            .ok_or_else(|| {
                AppError::validation("commissioner_id", "name the commissioning organisation")
            })?
    } else if principal.has(Role::Commissioner) {
        let own = principal
            .organisation_id
            .ok_or_else(|| AppError::Forbidden("your token names no organisation".to_owned()))?;
        if new.commissioner_id.is_some_and(|c| c != own) {
            return Err(AppError::validation(
                "commissioner_id",
                "you can make contracts only for your own organisation",
            ));
        }
        own
    } else {
        return Err(AppError::Forbidden(
            "only commissioners make contracts".to_owned(),
        ));
    };
    let created_by = principal.subject.clone();
    services
        .db
        .transaction(move |conn| {
            match db::organisations::find(conn, commissioner)? {
                Some(org) if org.kinds.contains(&OrganisationKind::Commissioner) => {}
                Some(_) => {
                    return Err(AppError::validation(
                        "commissioner_id",
                        "that organisation is not a commissioner",
                    ))
                }
                None => {
                    return Err(AppError::validation(
                        "commissioner_id",
                        "no organisation has this id",
                    ))
                }
            }
            match db::organisations::find(conn, new.provider_id)? {
                Some(org) if org.kinds.contains(&OrganisationKind::Provider) => {}
                Some(_) => {
                    return Err(AppError::validation(
                        "provider_id",
                        "that organisation is not a provider",
                    ))
                }
                None => {
                    return Err(AppError::validation(
                        "provider_id",
                        "no organisation has this id",
                    ))
                }
            }
            let at = now();
            let c = Contract {
                id: new_id(),
                commissioner_id: commissioner,
                provider_id: new.provider_id,
                title: new.title,
                starts_on: new.starts_on,
                ends_on: new.ends_on,
                requirements: new.requirements,
                created_by,
                created_at: at,
                updated_at: at,
                version: 1,
            };
            db::contracts::insert(conn, &c)?;
            Ok(c)
        })
        .await
}

pub async fn get(
    services: &Services,
    principal: &Principal,
    id: ContractId,
) -> Result<Contract, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| load_readable(conn, &principal, id))
        .await
}

/// The contracts the caller's organisation commissions or provides; admins all.
pub async fn list(
    services: &Services,
    principal: &Principal,
    page: PageRequest,
) -> Result<Page<Contract>, AppError> {
    let party = if principal.is_admin() {
        None
    } else if let (true, Some(org)) = (principal.is_staff(), principal.organisation_id) {
        Some(org)
    } else {
        return Ok(Page::from_rows(Vec::new(), page, |c: &Contract| c.id));
    };
    let rows = services
        .db
        .read(move |conn| db::contracts::list(conn, party, page))
        .await?;
    Ok(Page::from_rows(rows, page, |c| c.id))
}

pub async fn update(
    services: &Services,
    principal: &Principal,
    id: ContractId,
    expected_version: i32,
    patch: &ContractPatch,
) -> Result<Contract, AppError> {
    let (principal, patch) = (principal.clone(), patch.clone());
    services
        .db
        .transaction(move |conn| {
            let mut c = load_readable(conn, &principal, id)?;
            if !can_change(&principal, &c) {
                return Err(AppError::Forbidden(
                    "only the commissioner changes a contract".to_owned(),
                ));
            }
            let stale = c.version != expected_version;
            c.apply(&patch)?;
            if stale {
                return Err(AppError::PreconditionFailed);
            }
            c.updated_at = now();
            c.version = expected_version + 1;
            if db::contracts::update_if_version(conn, &c, expected_version)? {
                Ok(c)
            } else {
                Err(AppError::PreconditionFailed)
            }
        })
        .await
}
