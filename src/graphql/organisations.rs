//! Organisations and payment policies in GraphQL.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{caller, connection, page_request, services, GqlResult};
use crate::domain::money::Money;
use crate::domain::organisation::{
    Organisation, OrganisationContact, OrganisationInput, OrganisationKind, OrganisationPatch,
};
use crate::domain::payment_policy::{PaymentPolicy, PaymentRates};
use crate::service::{organisations, payment_policies};

#[derive(SimpleObject, InputObject, Clone, Default)]
#[graphql(input_name = "OrganisationContactInput", name = "OrganisationContact")]
pub struct ContactGql {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl From<OrganisationContact> for ContactGql {
    fn from(c: OrganisationContact) -> Self {
        Self {
            name: c.name,
            email: c.email,
            phone: c.phone,
        }
    }
}

impl From<ContactGql> for OrganisationContact {
    fn from(c: ContactGql) -> Self {
        Self {
            name: c.name,
            email: c.email,
            phone: c.phone,
        }
    }
}

pub struct OrganisationNode(pub Organisation);

/// A commissioner, provider or facilitator.
#[Object(name = "Organisation")]
impl OrganisationNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kinds(&self) -> Vec<OrganisationKind> {
        self.0.kinds.to_vec()
    }
    async fn contact(&self) -> ContactGql {
        self.0.contact.clone().into()
    }
    async fn default_payment_policy_id(&self) -> Option<Uuid> {
        self.0.default_payment_policy_id
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Send back as `expectedVersion` to update.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Money")]
pub struct MoneyGql {
    pub amount_pence: i64,
    pub currency: String,
}

impl From<Money> for MoneyGql {
    fn from(m: Money) -> Self {
        Self {
            amount_pence: m.amount_pence,
            currency: m.currency,
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "PaymentRates")]
pub struct PaymentRatesGql {
    pub effective_from: NaiveDate,
    pub hourly_rate: MoneyGql,
    pub mileage_rate: MoneyGql,
}

impl From<PaymentRates> for PaymentRatesGql {
    fn from(r: PaymentRates) -> Self {
        Self {
            effective_from: r.effective_from,
            hourly_rate: r.hourly_rate.into(),
            mileage_rate: r.mileage_rate.into(),
        }
    }
}

pub struct PaymentPolicyNode(pub PaymentPolicy);

/// What an organisation pays for taking part.
#[Object(name = "PaymentPolicy")]
impl PaymentPolicyNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn organisation_id(&self) -> Uuid {
        self.0.organisation_id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn fares_need_receipt(&self) -> bool {
        self.0.fares_need_receipt
    }
    async fn travel_time_paid(&self) -> bool {
        self.0.travel_time_paid
    }
    async fn pay_within_days(&self) -> i32 {
        self.0.pay_within_days
    }
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
    async fn rates(&self) -> Vec<PaymentRatesGql> {
        self.0.rates.iter().cloned().map(Into::into).collect()
    }
}

#[derive(InputObject)]
#[graphql(name = "OrganisationInput")]
pub struct OrganisationInputGql {
    pub name: String,
    pub kinds: Vec<OrganisationKind>,
    pub contact: Option<ContactGql>,
}

#[derive(InputObject)]
#[graphql(name = "OrganisationPatch")]
pub struct OrganisationPatchGql {
    pub name: Option<String>,
    pub kinds: Option<Vec<OrganisationKind>>,
    pub contact: Option<ContactGql>,
}

fn kinds(list: Vec<OrganisationKind>) -> Vec<OrganisationKind> {
    list.into_iter().collect()
}

#[derive(Default)]
pub struct OrganisationQuery;

#[Object]
impl OrganisationQuery {
    /// Admins see every organisation; others their own.
    #[graphql(complexity = "super::cost_of_page(first, child_complexity)")]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, OrganisationNode>> {
        let request = page_request(first, after)?;
        let page = organisations::list(services(ctx)?, caller(ctx)?, request)
            .await
            .gql()?;
        Ok(connection(page, request, |o| o.id, OrganisationNode))
    }

    async fn organisation(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<OrganisationNode> {
        organisations::get(services(ctx)?, caller(ctx)?, id)
            .await
            .gql()
            .map(OrganisationNode)
    }

    #[graphql(complexity = "super::cost_of_page(first, child_complexity)")]
    async fn payment_policies(
        &self,
        ctx: &Context<'_>,
        organisation_id: Option<Uuid>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, PaymentPolicyNode>> {
        let request = page_request(first, after)?;
        let page = payment_policies::list(services(ctx)?, caller(ctx)?, organisation_id, request)
            .await
            .gql()?;
        Ok(connection(page, request, |p| p.id, PaymentPolicyNode))
    }

    async fn payment_policy(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<PaymentPolicyNode> {
        payment_policies::get(services(ctx)?, caller(ctx)?, id)
            .await
            .gql()
            .map(PaymentPolicyNode)
    }
}

#[derive(Default)]
pub struct OrganisationMutation;

#[Object]
impl OrganisationMutation {
    /// Platform admins create organisations; each starts with the guide's payment policy.
    async fn create_organisation(
        &self,
        ctx: &Context<'_>,
        input: OrganisationInputGql,
    ) -> async_graphql::Result<OrganisationNode> {
        let input = OrganisationInput {
            name: input.name,
            kinds: kinds(input.kinds),
            contact: input.contact.map(Into::into),
        };
        organisations::create(services(ctx)?, caller(ctx)?, &input)
            .await
            .gql()
            .map(OrganisationNode)
    }

    /// `expectedVersion` is the `version` last read; a stale one is refused (precondition_failed).
    async fn update_organisation(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        expected_version: i32,
        input: OrganisationPatchGql,
    ) -> async_graphql::Result<OrganisationNode> {
        let patch = OrganisationPatch {
            name: input.name,
            kinds: input.kinds.map(kinds),
            contact: input.contact.map(Into::into),
        };
        organisations::update(services(ctx)?, caller(ctx)?, id, expected_version, &patch)
            .await
            .gql()
            .map(OrganisationNode)
    }
}
