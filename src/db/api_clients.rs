//! Rows and queries for machine clients.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::api_clients;
use super::{from_db_time, parse_id, to_db_time, DbConnection};
use crate::domain::api_client::ApiClient;
use crate::domain::id::{ApiClientId, OrganisationId};
use crate::domain::identity::Role;
use crate::domain::page::PageRequest;
use crate::error::AppError;

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_clients)]
pub struct ApiClientRow {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub roles: String,
    pub secret_hash: String,
    pub created_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub version: i32,
}

impl ApiClientRow {
    pub fn into_domain(self) -> Result<(ApiClient, String), AppError> {
        let roles = self
            .roles
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<Role>().map_err(AppError::internal))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((
            ApiClient {
                id: parse_id(&self.id)?,
                organisation_id: parse_id(&self.organisation_id)?,
                name: self.name,
                roles,
                created_at: from_db_time(self.created_at),
                rotated_at: self.rotated_at.map(from_db_time),
                revoked_at: self.revoked_at.map(from_db_time),
                version: self.version,
            },
            self.secret_hash,
        ))
    }
}

pub fn insert(
    conn: &mut DbConnection,
    client: &ApiClient,
    secret_hash: &str,
) -> Result<(), AppError> {
    diesel::insert_into(api_clients::table)
        .values(ApiClientRow {
            id: client.id.to_string(),
            organisation_id: client.organisation_id.to_string(),
            name: client.name.clone(),
            roles: client
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(","),
            secret_hash: secret_hash.to_owned(),
            created_at: to_db_time(client.created_at),
            rotated_at: client.rotated_at.map(to_db_time),
            revoked_at: client.revoked_at.map(to_db_time),
            version: client.version,
        })
        .execute(conn)?;
    Ok(())
}

/// The client and its secret hash.
pub fn find(
    conn: &mut DbConnection,
    id: ApiClientId,
) -> Result<Option<(ApiClient, String)>, AppError> {
    api_clients::table
        .find(id.to_string())
        .select(ApiClientRow::as_select())
        .first(conn)
        .optional()?
        .map(ApiClientRow::into_domain)
        .transpose()
}

pub fn list(
    conn: &mut DbConnection,
    organisation_id: Option<OrganisationId>,
    page: PageRequest,
) -> Result<Vec<ApiClient>, AppError> {
    let mut query = keyset_page!(
        api_clients::table.select(ApiClientRow::as_select()),
        api_clients::id,
        page
    );
    if let Some(org) = organisation_id {
        query = query.filter(api_clients::organisation_id.eq(org.to_string()));
    }
    query
        .load(conn)?
        .into_iter()
        .map(|row| row.into_domain().map(|(client, _)| client))
        .collect()
}

/// Replaces the secret hash; returns whether the client existed and was not revoked.
pub fn set_secret(
    conn: &mut DbConnection,
    id: ApiClientId,
    secret_hash: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, AppError> {
    let changed = diesel::update(
        api_clients::table
            .filter(api_clients::id.eq(id.to_string()))
            .filter(api_clients::revoked_at.is_null()),
    )
    .set((
        api_clients::secret_hash.eq(secret_hash),
        api_clients::rotated_at.eq(Some(to_db_time(at))),
        api_clients::version.eq(api_clients::version + 1),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Replaces a legacy secret hash with its digest, only if it is still the one that was checked.
pub fn replace_hash(
    conn: &mut DbConnection,
    id: ApiClientId,
    old_hash: &str,
    new_hash: &str,
) -> Result<bool, AppError> {
    let changed = diesel::update(
        api_clients::table
            .filter(api_clients::id.eq(id.to_string()))
            .filter(api_clients::secret_hash.eq(old_hash)),
    )
    .set(api_clients::secret_hash.eq(new_hash))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Marks the client revoked (once: a second revoke keeps the first time).
pub fn revoke(
    conn: &mut DbConnection,
    id: ApiClientId,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    diesel::update(
        api_clients::table
            .filter(api_clients::id.eq(id.to_string()))
            .filter(api_clients::revoked_at.is_null()),
    )
    .set((
        api_clients::revoked_at.eq(Some(to_db_time(at))),
        api_clients::version.eq(api_clients::version + 1),
    ))
    .execute(conn)?;
    Ok(())
}

/// Whether a client may still use its tokens: it exists, belongs to `organisation_id`, and is
/// not revoked. One indexed lookup, made on every call that carries a client's token.
pub fn is_active(
    conn: &mut DbConnection,
    id: ApiClientId,
    organisation_id: OrganisationId,
) -> Result<bool, AppError> {
    let found: Option<String> = api_clients::table
        .filter(api_clients::id.eq(id.to_string()))
        .filter(api_clients::organisation_id.eq(organisation_id.to_string()))
        .filter(api_clients::revoked_at.is_null())
        .select(api_clients::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}
