//! Claims, receipts, bank details, recognition, the finance lists and payment runs in GraphQL;
//! the same service calls and rules as REST.

use async_graphql::{Context, Enum, Object};
use base64::Engine;
use chrono::NaiveDate;

use super::plain::PlainConnection;
use super::{caller, cost_of_page, page_request, plain_connection, services, GqlResult};
use crate::domain::claim::{
    ChoiceInput, Claim, ClaimAnswer, ClaimEvent, ClaimInput, ClaimPatch, ClaimStatus,
};
use crate::domain::id::{ClaimId, OrganisationId, ParticipantId, PaymentRunId};
use crate::domain::payment::{
    BankDetailsInput, FinanceView, MaskedBankDetails, PayInput, PaymentRun, PaymentRunInput,
    Receipt, Recognition, RecognitionInput, RejectInput, RECEIPT_MAX_BYTES,
};
use crate::error::AppError;
use crate::service::claims;

/// Which finance list.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum FinanceList {
    /// Unpaid and past the due day.
    Overdue,
    /// Unpaid and due within `days` (default 7).
    DueSoon,
    /// Paid between `from` and `to`, or by one `runId`.
    Paid,
}

#[derive(Default)]
pub struct ClaimQuery;

#[Object]
impl ClaimQuery {
    /// The person's own claims; the paying organisation's for its staff; all for admins.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn claims(
        &self,
        ctx: &Context<'_>,
        status: Option<ClaimStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<Claim>> {
        let request = page_request(first, after)?;
        let page = claims::list(services(ctx)?, caller(ctx)?, status, request)
            .await
            .gql()?;
        Ok(plain_connection(page, request, |c| c.id))
    }

    async fn claim(&self, ctx: &Context<'_>, id: ClaimId) -> async_graphql::Result<Claim> {
        claims::get(services(ctx)?, caller(ctx)?, id).await.gql()
    }

    /// Who did what to a claim, oldest first.
    async fn claim_history(
        &self,
        ctx: &Context<'_>,
        id: ClaimId,
    ) -> async_graphql::Result<Vec<ClaimEvent>> {
        claims::history(services(ctx)?, caller(ctx)?, id)
            .await
            .gql()
    }

    async fn claim_receipts(
        &self,
        ctx: &Context<'_>,
        claim_id: ClaimId,
    ) -> async_graphql::Result<Vec<Receipt>> {
        claims::receipts(services(ctx)?, caller(ctx)?, claim_id)
            .await
            .gql()
    }

    /// The paying organisation's finance lists (admins name the organisation), earliest due
    /// first, at most `limit` (1 to 200).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "cost_of_page(limit, child_complexity)")]
    async fn finance_claims(
        &self,
        ctx: &Context<'_>,
        list: FinanceList,
        organisation_id: Option<OrganisationId>,
        days: Option<i32>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        run_id: Option<PaymentRunId>,
        limit: Option<i32>,
    ) -> async_graphql::Result<Vec<Claim>> {
        let today = claims::today();
        let view = match (list, run_id, from, to) {
            (FinanceList::Overdue, ..) => FinanceView::Overdue { today },
            (FinanceList::DueSoon, ..) => {
                let days = days.unwrap_or(7);
                if !(0..=366).contains(&days) {
                    return Err(AppError::validation("days", "must be between 0 and 366")).gql();
                }
                FinanceView::DueSoon {
                    today,
                    until: today + chrono::Duration::days(i64::from(days)),
                }
            }
            (FinanceList::Paid, Some(run), _, _) => FinanceView::Run(run),
            (FinanceList::Paid, None, Some(from), Some(to)) if from <= to => {
                FinanceView::Paid { from, to }
            }
            (FinanceList::Paid, ..) => {
                return Err(AppError::validation(
                    "from",
                    "give `from` and `to` (from <= to), or a `runId`",
                ))
                .gql()
            }
        };
        let limit = match limit {
            None => 200,
            Some(n @ 1..=200) => n.unsigned_abs(),
            Some(_) => {
                return Err(AppError::validation("limit", "must be between 1 and 200")).gql()
            }
        };
        claims::finance(services(ctx)?, caller(ctx)?, organisation_id, view, limit)
            .await
            .gql()
    }

    /// A person's bank details, masked to the last four digits.
    async fn bank_details(
        &self,
        ctx: &Context<'_>,
        participant_id: ParticipantId,
    ) -> async_graphql::Result<Option<MaskedBankDetails>> {
        claims::bank_details(services(ctx)?, caller(ctx)?, participant_id)
            .await
            .gql()
    }

    /// A person's recognition that is not money.
    async fn recognitions(
        &self,
        ctx: &Context<'_>,
        participant_id: ParticipantId,
    ) -> async_graphql::Result<Vec<Recognition>> {
        claims::recognitions(services(ctx)?, caller(ctx)?, participant_id)
            .await
            .gql()
    }
}

#[derive(Default)]
pub struct ClaimMutation;

#[Object]
impl ClaimMutation {
    /// A draft claim, priced by the service.
    async fn create_claim(
        &self,
        ctx: &Context<'_>,
        input: ClaimInput,
    ) -> async_graphql::Result<Claim> {
        claims::create(services(ctx)?, caller(ctx)?, &input)
            .await
            .gql()
    }

    /// Changes a draft's lines or choice; `expectedVersion` is the version last read.
    async fn update_claim(
        &self,
        ctx: &Context<'_>,
        id: ClaimId,
        expected_version: i32,
        input: ClaimPatch,
    ) -> async_graphql::Result<Claim> {
        claims::update(services(ctx)?, caller(ctx)?, id, expected_version, &input)
            .await
            .gql()
    }

    async fn submit_claim(
        &self,
        ctx: &Context<'_>,
        id: ClaimId,
    ) -> async_graphql::Result<ClaimAnswer> {
        claims::submit(services(ctx)?, caller(ctx)?, id).await.gql()
    }

    async fn approve_claim(
        &self,
        ctx: &Context<'_>,
        id: ClaimId,
    ) -> async_graphql::Result<ClaimAnswer> {
        claims::approve(services(ctx)?, caller(ctx)?, id)
            .await
            .gql()
    }

    async fn reject_claim(
        &self,
        ctx: &Context<'_>,
        id: ClaimId,
        input: RejectInput,
    ) -> async_graphql::Result<ClaimAnswer> {
        claims::reject(services(ctx)?, caller(ctx)?, id, &input)
            .await
            .gql()
    }

    /// Pays an approved claim, at most once.
    async fn pay_claim(
        &self,
        ctx: &Context<'_>,
        id: ClaimId,
        input: PayInput,
    ) -> async_graphql::Result<ClaimAnswer> {
        claims::pay(services(ctx)?, caller(ctx)?, id, &input)
            .await
            .gql()
    }

    async fn choose_claim_payment(
        &self,
        ctx: &Context<'_>,
        id: ClaimId,
        input: ChoiceInput,
    ) -> async_graphql::Result<ClaimAnswer> {
        claims::choose(services(ctx)?, caller(ctx)?, id, &input)
            .await
            .gql()
    }

    /// A receipt, as base64 of the file (an image or a PDF, at most 5 MiB).
    async fn upload_receipt(
        &self,
        ctx: &Context<'_>,
        claim_id: ClaimId,
        content_base64: String,
    ) -> async_graphql::Result<Receipt> {
        if content_base64.len() > RECEIPT_MAX_BYTES / 3 * 4 + 4 {
            return Err(AppError::PayloadTooLarge(RECEIPT_MAX_BYTES)).gql();
        }
        let content = base64::engine::general_purpose::STANDARD
            .decode(content_base64.trim())
            .map_err(|_| AppError::validation("contentBase64", "is not base64"))
            .gql()?;
        claims::upload_receipt(services(ctx)?, caller(ctx)?, claim_id, content)
            .await
            .gql()
    }

    async fn set_bank_details(
        &self,
        ctx: &Context<'_>,
        participant_id: ParticipantId,
        input: BankDetailsInput,
    ) -> async_graphql::Result<MaskedBankDetails> {
        claims::set_bank_details(services(ctx)?, caller(ctx)?, participant_id, &input)
            .await
            .gql()
    }

    async fn record_recognition(
        &self,
        ctx: &Context<'_>,
        input: RecognitionInput,
    ) -> async_graphql::Result<Recognition> {
        claims::recognise(services(ctx)?, caller(ctx)?, &input)
            .await
            .gql()
    }

    /// Pays every approved claim due by a day, together.
    async fn run_payments(
        &self,
        ctx: &Context<'_>,
        input: PaymentRunInput,
    ) -> async_graphql::Result<PaymentRun> {
        claims::run_payments(services(ctx)?, caller(ctx)?, &input)
            .await
            .gql()
    }
}
