//! Rows and queries for organisations and their payment policies.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{organisations, payment_policies, payment_policy_rates};
use super::{from_db_time, parse_id, to_db_time, DbConnection};
use crate::domain::id::{OrganisationId, PaymentPolicyId};
use crate::domain::money::Money;
use crate::domain::organisation::{Organisation, OrganisationContact, OrganisationKind};
use crate::domain::page::PageRequest;
use crate::domain::payment_policy::{PaymentPolicy, PaymentRates};
use crate::error::AppError;

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = organisations)]
pub struct OrganisationRow {
    pub id: String,
    pub name: String,
    pub kinds: String,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub default_payment_policy_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

/// Kinds are stored as a comma-separated list of their snake_case names.
pub fn kinds_to_text(kinds: &[OrganisationKind]) -> String {
    kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn kinds_from_text(text: &str) -> Result<Vec<OrganisationKind>, AppError> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(AppError::internal))
        .collect()
}

impl OrganisationRow {
    pub fn from_domain(o: &Organisation) -> Self {
        Self {
            id: o.id.to_string(),
            name: o.name.clone(),
            kinds: kinds_to_text(&o.kinds),
            contact_name: o.contact.name.clone(),
            contact_email: o.contact.email.clone(),
            contact_phone: o.contact.phone.clone(),
            default_payment_policy_id: o.default_payment_policy_id.map(|id| id.to_string()),
            created_at: to_db_time(o.created_at),
            updated_at: to_db_time(o.updated_at),
            version: o.version,
        }
    }

    pub fn into_domain(self) -> Result<Organisation, AppError> {
        Ok(Organisation {
            id: parse_id(&self.id)?,
            name: self.name,
            kinds: kinds_from_text(&self.kinds)?,
            contact: OrganisationContact {
                name: self.contact_name,
                email: self.contact_email,
                phone: self.contact_phone,
            },
            default_payment_policy_id: self
                .default_payment_policy_id
                .as_deref()
                .map(parse_id)
                .transpose()?,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

pub fn insert(conn: &mut DbConnection, org: &Organisation) -> Result<(), AppError> {
    diesel::insert_into(organisations::table)
        .values(OrganisationRow::from_domain(org))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: OrganisationId) -> Result<Option<Organisation>, AppError> {
    organisations::table
        .find(id.to_string())
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?
        .map(OrganisationRow::into_domain)
        .transpose()
}

/// One page of organisations in id order; `only` limits the list to one organisation.
pub fn list(
    conn: &mut DbConnection,
    only: Option<OrganisationId>,
    page: PageRequest,
) -> Result<Vec<Organisation>, AppError> {
    let mut query = keyset_page!(
        organisations::table.select(OrganisationRow::as_select()),
        organisations::id,
        page
    );
    if let Some(id) = only {
        query = query.filter(organisations::id.eq(id.to_string()));
    }
    query
        .load(conn)?
        .into_iter()
        .map(OrganisationRow::into_domain)
        .collect()
}

/// Writes the new state only if the stored version is still `expected_version`; returns
/// whether it did.
pub fn update_if_version(
    conn: &mut DbConnection,
    org: &Organisation,
    expected_version: i32,
) -> Result<bool, AppError> {
    let row = OrganisationRow::from_domain(org);
    let changed = diesel::update(
        organisations::table
            .filter(organisations::id.eq(&row.id))
            .filter(organisations::version.eq(expected_version)),
    )
    .set((
        organisations::name.eq(&row.name),
        organisations::kinds.eq(&row.kinds),
        organisations::contact_name.eq(&row.contact_name),
        organisations::contact_email.eq(&row.contact_email),
        organisations::contact_phone.eq(&row.contact_phone),
        organisations::updated_at.eq(row.updated_at),
        organisations::version.eq(row.version),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = payment_policies)]
pub struct PaymentPolicyRow {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub fares_need_receipt: bool,
    pub travel_time_paid: bool,
    pub pay_within_days: i32,
    pub is_default: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = payment_policy_rates)]
pub struct PaymentRatesRow {
    pub id: String,
    pub policy_id: String,
    pub effective_from: chrono::NaiveDate,
    pub hourly_rate_pence: i64,
    pub mileage_rate_pence: i64,
    pub currency: String,
}

pub fn insert_policy(conn: &mut DbConnection, policy: &PaymentPolicy) -> Result<(), AppError> {
    diesel::insert_into(payment_policies::table)
        .values(PaymentPolicyRow {
            id: policy.id.to_string(),
            organisation_id: policy.organisation_id.to_string(),
            name: policy.name.clone(),
            fares_need_receipt: policy.fares_need_receipt,
            travel_time_paid: policy.travel_time_paid,
            pay_within_days: policy.pay_within_days,
            is_default: policy.is_default,
            created_at: to_db_time(policy.created_at),
        })
        .execute(conn)?;
    // One insert per rate: multi-row inserts do not compile for the two-backend connection.
    for r in &policy.rates {
        insert_rates(conn, policy.id, r)?;
    }
    Ok(())
}

/// Rates from a day on; a second set starting the same day is refused.
pub fn insert_rates(
    conn: &mut DbConnection,
    policy_id: crate::domain::id::PaymentPolicyId,
    r: &PaymentRates,
) -> Result<(), AppError> {
    let row = PaymentRatesRow {
        id: crate::domain::new_id::<uuid::Uuid>().to_string(),
        policy_id: policy_id.to_string(),
        effective_from: r.effective_from,
        hourly_rate_pence: r.hourly_rate.amount_pence,
        mileage_rate_pence: r.mileage_rate.amount_pence,
        currency: r.hourly_rate.currency.clone(),
    };
    match diesel::insert_into(payment_policy_rates::table)
        .values(row)
        .execute(conn)
    {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(AppError::Conflict(format!(
            "the policy already has rates starting on {}",
            r.effective_from
        ))),
        Err(e) => Err(e.into()),
    }
}

/// One page of payment policies with their rates; `only_org` limits them to one organisation.
pub fn list_policies(
    conn: &mut DbConnection,
    only_org: Option<OrganisationId>,
    page: PageRequest,
) -> Result<Vec<PaymentPolicy>, AppError> {
    let mut query = keyset_page!(
        payment_policies::table.select(PaymentPolicyRow::as_select()),
        payment_policies::id,
        page
    );
    if let Some(org) = only_org {
        query = query.filter(payment_policies::organisation_id.eq(org.to_string()));
    }
    let policies = query.load(conn)?;
    with_rates(conn, policies)
}

pub fn find_policy(
    conn: &mut DbConnection,
    id: PaymentPolicyId,
) -> Result<Option<PaymentPolicy>, AppError> {
    let rows = payment_policies::table
        .find(id.to_string())
        .select(PaymentPolicyRow::as_select())
        .load(conn)?;
    Ok(with_rates(conn, rows)?.into_iter().next())
}

/// Attaches every policy's rates with one query for the whole list.
fn with_rates(
    conn: &mut DbConnection,
    policies: Vec<PaymentPolicyRow>,
) -> Result<Vec<PaymentPolicy>, AppError> {
    if policies.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = policies.iter().map(|p| p.id.as_str()).collect();
    let rates: Vec<PaymentRatesRow> = payment_policy_rates::table
        .filter(payment_policy_rates::policy_id.eq_any(&ids))
        .order((
            payment_policy_rates::policy_id.asc(),
            payment_policy_rates::effective_from.asc(),
        ))
        .select(PaymentRatesRow::as_select())
        .load(conn)?;
    policies
        .into_iter()
        .map(|p| {
            Ok(PaymentPolicy {
                id: parse_id(&p.id)?,
                organisation_id: parse_id(&p.organisation_id)?,
                rates: rates
                    .iter()
                    .filter(|r| r.policy_id == p.id)
                    .map(|r| PaymentRates {
                        effective_from: r.effective_from,
                        hourly_rate: Money {
                            amount_pence: r.hourly_rate_pence,
                            currency: r.currency.clone(),
                        },
                        mileage_rate: Money {
                            amount_pence: r.mileage_rate_pence,
                            currency: r.currency.clone(),
                        },
                    })
                    .collect(),
                name: p.name,
                fares_need_receipt: p.fares_need_receipt,
                travel_time_paid: p.travel_time_paid,
                pay_within_days: p.pay_within_days,
                is_default: p.is_default,
                created_at: from_db_time(p.created_at),
            })
        })
        .collect()
}
