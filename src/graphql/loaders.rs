//! DataLoaders for nested lists: each level of a query costs a fixed number of database
//! queries, whatever the number of rows. Built per request, with the caller's identity.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use async_graphql::ErrorExtensions;

use crate::domain::id::SessionId;
use crate::domain::identity::Principal;
use crate::domain::membership::MemberView;
use crate::domain::opportunity::{EvidenceSummary, Opportunity};
use crate::domain::session::{Attendance, Decision, Session};
use crate::service::{members, opportunities, sessions, Services};

/// One loader type, keyed differently for each kind of nested list.
pub struct Loaders {
    pub services: Services,
    pub principal: Principal,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttendanceAt(pub SessionId);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecisionsAt(pub SessionId);

/// Keys that carry an opportunity the caller can see, whole, so the service decides what the
/// caller may see of it without reading it again. Compared by id.
macro_rules! opportunity_key {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(pub Opportunity);

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.id == other.0.id
            }
        }
        impl Eq for $name {}
        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.0.id.hash(state);
            }
        }
    )*};
}

opportunity_key! {
    /// The members of an opportunity.
    MembersOf;
    /// The sessions of an opportunity.
    SessionsOf;
    /// The evidence of an opportunity.
    EvidenceOf;
}

fn opportunities_of<K>(keys: &[K], of: impl Fn(&K) -> &Opportunity) -> Vec<Opportunity> {
    keys.iter().map(|k| of(k).clone()).collect()
}

type Failure = async_graphql::Error;

/// Hands each key its list from a service answer keyed by id (an empty list when absent).
fn spread<K: Clone + Eq + std::hash::Hash, I: Eq + std::hash::Hash, V>(
    keys: &[K],
    found: Result<HashMap<I, Vec<V>>, crate::error::AppError>,
    id: impl Fn(&K) -> I,
) -> Result<HashMap<K, Vec<V>>, Failure> {
    let mut found = found.map_err(|e| e.extend())?;
    Ok(keys
        .iter()
        .map(|k| (k.clone(), found.remove(&id(k)).unwrap_or_default()))
        .collect())
}

impl Loader<MembersOf> for Loaders {
    type Value = Vec<MemberView>;
    type Error = Failure;

    async fn load(&self, keys: &[MembersOf]) -> Result<HashMap<MembersOf, Self::Value>, Failure> {
        let list = opportunities_of(keys, |k| &k.0);
        spread(
            keys,
            members::for_many(&self.services, &self.principal, list).await,
            |k| k.0.id,
        )
    }
}

impl Loader<SessionsOf> for Loaders {
    type Value = Vec<Session>;
    type Error = Failure;

    async fn load(&self, keys: &[SessionsOf]) -> Result<HashMap<SessionsOf, Self::Value>, Failure> {
        let list = opportunities_of(keys, |k| &k.0);
        spread(
            keys,
            sessions::for_many(&self.services, &self.principal, list).await,
            |k| k.0.id,
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
        let list = opportunities_of(keys, |k| &k.0);
        let mut found = opportunities::evidence_many(&self.services, &self.principal, list)
            .await
            .map_err(|e| e.extend())?;
        Ok(keys
            .iter()
            .filter_map(|k| found.remove(&k.0.id).map(|v| (k.clone(), v)))
            .collect())
    }
}
