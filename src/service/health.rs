//! Readiness: the database answers and its migrations are current.

use serde::Serialize;
use utoipa::ToSchema;

use super::Services;
use crate::db;
use crate::error::AppError;

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `sqlite` or `postgres`.
    pub database: String,
    pub migrations_current: bool,
}

pub async fn readiness(services: &Services) -> Result<Readiness, AppError> {
    let current = services.db.read(db::migrations_current).await?;
    Ok(Readiness {
        database: services.backend().name().to_owned(),
        migrations_current: current,
    })
}
