//! Around claims: receipts, bank details, recognition that is not money, the finance lists and
//! payment runs.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::claim::PaymentMethod;
use super::id::{
    ClaimId, OpportunityId, OrganisationId, ParticipantId, PaymentRunId, ReceiptId, RecognitionId,
};
use super::money::Money;
use super::time::Rfc3339;
use super::validation::{FieldError, Problems};

/// The largest receipt taken.
pub const RECEIPT_MAX_BYTES: usize = 5 * 1024 * 1024;

/// An uploaded receipt (its content is read on its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct Receipt {
    pub id: ReceiptId,
    pub claim_id: ClaimId,
    /// What its content is: `image/png`, `image/jpeg`, `image/webp` or `application/pdf`.
    pub content_type: String,
    pub size_bytes: i32,
    /// SHA-256 of the content, in hex.
    pub sha256: String,
    pub uploaded_by: String,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "uploaded_at", into = "Rfc3339", owned))]
    pub uploaded_at: DateTime<Utc>,
}

/// What a receipt is, by its first bytes (not its name or declared type).
pub fn receipt_type(content: &[u8]) -> Option<&'static str> {
    if content.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if content.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if content.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if content.len() >= 12 && &content[..4] == b"RIFF" && &content[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

domain_enum! {
    /// Recognition that is not money.
    pub enum RecognitionKind as "recognition kind" {
        Voucher = "voucher",
        TrainingPlace = "training_place",
        VolunteerRole = "volunteer_role",
        Award = "award",
    }
}

/// Recognition recorded against a person and a piece of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct Recognition {
    pub id: RecognitionId,
    pub participant_id: ParticipantId,
    pub opportunity_id: OpportunityId,
    pub kind: RecognitionKind,
    pub description: String,
    /// A voucher's value, when it has one.
    pub value: Option<Money>,
    pub recorded_by: String,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "recorded_at", into = "Rfc3339", owned))]
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct RecognitionInput {
    pub participant_id: ParticipantId,
    pub opportunity_id: OpportunityId,
    pub kind: RecognitionKind,
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub description: String,
    #[serde(default, deserialize_with = "super::validation::whole::option_i64")]
    #[schema(minimum = 0, maximum = 100000)]
    pub value_pence: Option<i64>,
}

impl RecognitionInput {
    /// The description and value, checked.
    pub fn parse(&self) -> Result<(String, Option<Money>), Vec<FieldError>> {
        let mut p = Problems::default();
        let description = p.required_text("description", &self.description, 500);
        let value = match self.value_pence {
            Some(v) if !(0..=100_000).contains(&v) => {
                p.add("value_pence", "must be between 0 and 100000 pence");
                None
            }
            v => v.map(Money::gbp),
        };
        p.finish_parsed(description.map(|d| (d, value)))
    }
}

/// Bank details as sent: kept encrypted, shown masked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct BankDetailsInput {
    #[schema(
        min_length = 1,
        max_length = 140,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub account_name: String,
    /// Six digits, with or without dashes or spaces (`12-34-56`).
    #[schema(max_length = 8, pattern = r"^[0-9]{2}[- ]?[0-9]{2}[- ]?[0-9]{2}$")]
    pub sort_code: String,
    /// Eight digits.
    #[schema(pattern = r"^[0-9]{8}$")]
    pub account_number: String,
}

/// Bank details checked and written the standard way.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, async_graphql::SimpleObject,
)]
#[graphql(serial)]
pub struct BankDetails {
    pub account_name: String,
    /// `12-34-56`.
    pub sort_code: String,
    pub account_number: String,
}

/// What paying staff see: the last four digits only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct MaskedBankDetails {
    pub account_number_last_four: String,
}

impl BankDetailsInput {
    pub fn parse(&self) -> Result<BankDetails, Vec<FieldError>> {
        let mut p = Problems::default();
        let account_name = p.required_text("account_name", &self.account_name, 140);
        let sort_code = if sort_code_shape(&self.sort_code) {
            let d: String = self
                .sort_code
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            Some(format!("{}-{}-{}", &d[0..2], &d[2..4], &d[4..6]))
        } else {
            p.add("sort_code", "must be six digits, such as 12-34-56");
            None
        };
        let number_ok = self.account_number.len() == 8
            && self.account_number.chars().all(|c| c.is_ascii_digit());
        if !number_ok {
            p.add("account_number", "must be eight digits");
        }
        match (account_name, sort_code) {
            (Some(account_name), Some(sort_code)) if number_ok => p.finish(BankDetails {
                account_name,
                sort_code,
                account_number: self.account_number.clone(),
            }),
            _ => Err(p.into_errors()),
        }
    }
}

/// `12-34-56`, `12 34 56` or `123456` (the OpenAPI pattern), and nothing else.
fn sort_code_shape(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |i: usize| {
        b.get(i).is_some_and(u8::is_ascii_digit) && b.get(i + 1).is_some_and(u8::is_ascii_digit)
    };
    let sep = |i: usize| b.get(i).is_some_and(|c| *c == b'-' || *c == b' ');
    match b.len() {
        6 => digits(0) && digits(2) && digits(4),
        7 => {
            digits(0) && ((sep(2) && digits(3) && digits(5)) || (digits(2) && sep(4) && digits(5)))
        }
        8 => digits(0) && sep(2) && digits(3) && sep(5) && digits(6),
        _ => false,
    }
}

/// A payment run: the approved claims of one organisation due by a day, paid together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct PaymentRun {
    pub id: PaymentRunId,
    pub organisation_id: OrganisationId,
    pub due_by: NaiveDate,
    /// How many claims it paid.
    pub claims: i32,
    pub total: Money,
    pub created_by: String,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "created_at", into = "Rfc3339", owned))]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct PaymentRunInput {
    /// Pays the approved claims due on or before this day.
    pub due_by: NaiveDate,
    pub method: PaymentMethod,
}

/// Staff recording a payment.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct PayInput {
    pub method: PaymentMethod,
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub reference: Option<String>,
}

/// Staff rejecting a claim, with the reason the person will see.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct RejectInput {
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub reason: String,
}

/// Which finance list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinanceView {
    /// Unpaid and past their due day.
    Overdue { today: NaiveDate },
    /// Unpaid and due between today and `until`.
    DueSoon { today: NaiveDate, until: NaiveDate },
    /// Paid in a period (days inclusive).
    Paid { from: NaiveDate, to: NaiveDate },
    /// Paid by one run.
    Run(PaymentRunId),
}

/// One CSV cell: quoted when it needs to be, and a text a spreadsheet would run as a formula
/// (`=`, `+`, `-`, `@`, tab, carriage return first) is neutralised with a leading apostrophe.
pub fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) || text.starts_with(' ') || text.ends_with(' ') {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Pence as pounds with two decimals, as a spreadsheet reads them (`34.00`).
pub fn csv_pounds(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let p = pence.unsigned_abs();
    format!("{sign}{}.{:02}", p / 100, p % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_are_known_by_their_first_bytes() {
        assert_eq!(receipt_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(receipt_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(receipt_type(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(
            receipt_type(b"RIFF\x00\x00\x00\x00WEBPVP8 "),
            Some("image/webp")
        );
        assert_eq!(receipt_type(b"MZ\x90\x00 an exe named receipt.pdf"), None);
        assert_eq!(receipt_type(b""), None);
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a, b"), "\"a, b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+44 7700"), "'+44 7700");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_pounds(3400), "34.00");
        assert_eq!(csv_pounds(5), "0.05");
    }

    #[test]
    fn bank_details_are_checked_and_written_the_standard_way() {
        let input = BankDetailsInput {
            account_name: " A Lovelace ".into(),
            sort_code: "12 34 56".into(),
            account_number: "12345678".into(),
        };
        let b = input.parse().expect("valid");
        assert_eq!(b.sort_code, "12-34-56");
        assert_eq!(b.account_name, "A Lovelace");
        for bad in ["1234567", "12-3456-", "ab-cd-ef", "12--3456", "12-34-5"] {
            let i = BankDetailsInput {
                sort_code: bad.into(),
                ..input.clone()
            };
            assert!(i.parse().is_err(), "{bad}");
        }
        let i = BankDetailsInput {
            account_number: "1234567".into(),
            ..input
        };
        assert_eq!(i.parse().expect_err("short")[0].field, "account_number");
    }
}
