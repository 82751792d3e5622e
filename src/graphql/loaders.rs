//! DataLoaders for nested lists: each level of a query costs a fixed number of database
//! queries, whatever the number of rows. Built per request, with the caller's identity.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use async_graphql::ErrorExtensions;
use uuid::Uuid;

use crate::domain::identity::Principal;
use crate::domain::membership::Membership;
use crate::domain::opportunity::{EvidenceSummary, Opportunity};
use crate::domain::session::{Attendance, Decision, Session};
use crate::service::{members, opportunities, sessions, Services};

/// One loader type, keyed differently for each kind of nested list.
pub struct Loaders {
    pub services: Services,
    pub principal: Principal,
}

/// An opportunity, and whether the caller runs it (which decides what nested lists show).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MembersOf(pub Uuid, pub bool);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionsOf(pub Uuid, pub bool);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttendanceAt(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecisionsAt(pub Uuid);
/// The evidence of an opportunity the caller can see (carried whole, so no re-read).
#[derive(Clone)]
pub struct EvidenceOf(pub Opportunity);

impl PartialEq for EvidenceOf {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}
impl Eq for EvidenceOf {}
impl std::hash::Hash for EvidenceOf {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}

type Failure = async_graphql::Error;

/// Hands each key its list from a service answer keyed by id (an empty list when absent).
fn spread<K: Copy + Eq + std::hash::Hash, V>(
    keys: &[K],
    found: Result<HashMap<Uuid, Vec<V>>, crate::error::AppError>,
    id: impl Fn(&K) -> Uuid,
) -> Result<HashMap<K, Vec<V>>, Failure> {
    let mut found = found.map_err(|e| e.extend())?;
    Ok(keys
        .iter()
        .map(|k| (*k, found.remove(&id(k)).unwrap_or_default()))
        .collect())
}

impl Loader<MembersOf> for Loaders {
    type Value = Vec<Membership>;
    type Error = Failure;

    async fn load(&self, keys: &[MembersOf]) -> Result<HashMap<MembersOf, Self::Value>, Failure> {
        let pairs = keys.iter().map(|k| (k.0, k.1)).collect();
        spread(
            keys,
            members::for_many(&self.services, &self.principal, pairs).await,
            |k| k.0,
        )
    }
}

impl Loader<SessionsOf> for Loaders {
    type Value = Vec<Session>;
    type Error = Failure;

    async fn load(&self, keys: &[SessionsOf]) -> Result<HashMap<SessionsOf, Self::Value>, Failure> {
        let pairs = keys.iter().map(|k| (k.0, k.1)).collect();
        spread(
            keys,
            sessions::for_many(&self.services, &self.principal, pairs).await,
            |k| k.0,
        )
    }
}

impl Loader<AttendanceAt> for Loaders {
    type Value = Vec<Attendance>;
    type Error = Failure;

    async fn load(
        &self,
        keys: &[AttendanceAt],
    ) -> Result<HashMap<AttendanceAt, Self::Value>, Failure> {
        let ids = keys.iter().map(|k| k.0).collect();
        spread(
            keys,
            sessions::attendance_for_many(&self.services, ids).await,
            |k| k.0,
        )
    }
}

impl Loader<DecisionsAt> for Loaders {
    type Value = Vec<Decision>;
    type Error = Failure;

    async fn load(
        &self,
        keys: &[DecisionsAt],
    ) -> Result<HashMap<DecisionsAt, Self::Value>, Failure> {
        let ids = keys.iter().map(|k| k.0).collect();
        spread(
            keys,
            sessions::decisions_for_many(&self.services, ids).await,
            |k| k.0,
        )
    }
}

impl Loader<EvidenceOf> for Loaders {
    type Value = EvidenceSummary;
    type Error = Failure;

    async fn load(&self, keys: &[EvidenceOf]) -> Result<HashMap<EvidenceOf, Self::Value>, Failure> {
        let list = keys.iter().map(|k| k.0.clone()).collect();
        let mut found = opportunities::evidence_many(&self.services, list)
            .await
            .map_err(|e| e.extend())?;
        Ok(keys
            .iter()
            .filter_map(|k| found.remove(&k.0.id).map(|v| (k.clone(), v)))
            .collect())
    }
}
