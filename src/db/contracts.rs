//! Rows and queries for contracts; the requirements are kept as a JSON array beside them,
//! since they are always read and replaced whole.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::contracts;
use super::{from_db_time, parse_id, to_db_time, DbConnection};
use crate::domain::contract::Contract;
use crate::domain::id::{ContractId, OrganisationId};
use crate::domain::page::PageRequest;
use crate::error::AppError;

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = contracts)]
struct ContractRow {
    id: String,
    commissioner_id: String,
    provider_id: String,
    title: String,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    requirements: String,
    created_by: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i32,
}

impl ContractRow {
    fn from_domain(c: &Contract) -> Result<Self, AppError> {
        Ok(Self {
            id: c.id.to_string(),
            commissioner_id: c.commissioner_id.to_string(),
            provider_id: c.provider_id.to_string(),
            title: c.title.clone(),
            starts_on: c.starts_on,
            ends_on: c.ends_on,
            requirements: serde_json::to_string(&c.requirements)
                .map_err(|e| AppError::internal(format!("contract requirements: {e}")))?,
            created_by: c.created_by.clone(),
            created_at: to_db_time(c.created_at),
            updated_at: to_db_time(c.updated_at),
            version: c.version,
        })
    }

    fn into_domain(self) -> Result<Contract, AppError> {
        Ok(Contract {
            id: parse_id(&self.id)?,
            commissioner_id: parse_id(&self.commissioner_id)?,
            provider_id: parse_id(&self.provider_id)?,
            title: self.title,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            requirements: serde_json::from_str(&self.requirements)
                .map_err(|e| AppError::internal(format!("stored contract requirements: {e}")))?,
            created_by: self.created_by,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

pub fn insert(conn: &mut DbConnection, c: &Contract) -> Result<(), AppError> {
    diesel::insert_into(contracts::table)
        .values(ContractRow::from_domain(c)?)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: ContractId) -> Result<Option<Contract>, AppError> {
    contracts::table
        .find(id.to_string())
        .select(ContractRow::as_select())
        .first(conn)
        .optional()?
        .map(ContractRow::into_domain)
        .transpose()
}

/// The commissioner of a contract, if there is one with this id.
pub fn commissioner_of(
    conn: &mut DbConnection,
    id: ContractId,
) -> Result<Option<OrganisationId>, AppError> {
    contracts::table
        .find(id.to_string())
        .select(contracts::commissioner_id)
        .first::<String>(conn)
        .optional()?
        .map(|c| parse_id(&c))
        .transpose()
}

/// Of these contracts, those the organisation commissions.
pub fn commissioned_among(
    conn: &mut DbConnection,
    commissioner: OrganisationId,
    ids: &[ContractId],
) -> Result<Vec<ContractId>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    contracts::table
        .filter(contracts::commissioner_id.eq(commissioner.to_string()))
        .filter(contracts::id.eq_any(ids))
        .select(contracts::id)
        .load::<String>(conn)?
        .iter()
        .map(|id| parse_id(id))
        .collect()
}

/// Whether the commissioner holds a contract with the provider.
pub fn holds_contract_with(
    conn: &mut DbConnection,
    commissioner: OrganisationId,
    provider: OrganisationId,
) -> Result<Vec<Contract>, AppError> {
    contracts::table
        .filter(contracts::commissioner_id.eq(commissioner.to_string()))
        .filter(contracts::provider_id.eq(provider.to_string()))
        .select(ContractRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ContractRow::into_domain)
        .collect()
}

/// One page of contracts: all of them, or those an organisation commissions or provides.
pub fn list(
    conn: &mut DbConnection,
    party: Option<OrganisationId>,
    page: PageRequest,
) -> Result<Vec<Contract>, AppError> {
    let mut query = keyset_page!(
        contracts::table.select(ContractRow::as_select()),
        contracts::id,
        page
    );
    if let Some(org) = party {
        let org = org.to_string();
        query = query.filter(
            contracts::commissioner_id
                .eq(org.clone())
                .or(contracts::provider_id.eq(org)),
        );
    }
    query
        .load(conn)?
        .into_iter()
        .map(ContractRow::into_domain)
        .collect()
}

/// Writes the contract's new state if the stored version is still `expected_version`.
pub fn update_if_version(
    conn: &mut DbConnection,
    c: &Contract,
    expected_version: i32,
) -> Result<bool, AppError> {
    let row = ContractRow::from_domain(c)?;
    let changed = diesel::update(
        contracts::table
            .filter(contracts::id.eq(&row.id))
            .filter(contracts::version.eq(expected_version)),
    )
    .set(&row)
    .execute(conn)?;
    Ok(changed == 1)
}
