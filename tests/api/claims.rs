//! Paying people properly: claims priced by the service with the guide's own numbers, receipts,
//! approval and payment at most once, the person's choice, warnings for people on benefits, bank
//! details, recognition, the finance lists, payment runs and the CSV export, through both doors.

use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{execute_sql, read, spawn_app, spawn_app_with, token, Answer, TestApp};
use crate::opportunities::{create_work, provider, work, Staff};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR receipt";

struct Payroll {
    app: TestApp,
    staff: Staff,
    person: Uuid,
    person_token: String,
    work: String,
    /// 10 March 2026, 150 minutes attended.
    march: String,
    policy: String,
}

async fn session(
    app: &TestApp,
    staff: &Staff,
    work: &str,
    starts_at: &str,
    person: Uuid,
    minutes: i32,
) -> String {
    let res = app
        .post(
            &format!("/api/v1/opportunities/{work}/sessions"),
            &staff.token,
            &json!({
                "starts_at": starts_at,
                "duration_minutes": 180,
                "format": "in_person",
                "lived_experience_agenda_slot": true,
                "attendance": [{ "participant_id": person, "minutes": minutes, "participation": "participated" }],
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.body["id"].as_str().expect("session id").to_owned()
}

async fn payroll() -> Payroll {
    let app = spawn_app().await;
    let staff = provider(&app, "Camden Recovery Network").await;
    let person = app
        .register_participant(
            &staff.token,
            json!({ "name": "Ada Lovelace", "roles": ["lived_experience"], "receives_benefits": true, "weekly_payment_limit_pence": 2000 }),
        )
        .await;
    let work = create_work(
        &app,
        &staff.token,
        &work("Peer panel", json!({ "paid": true })),
    )
    .await;
    let res = app
        .post(
            &format!("/api/v1/opportunities/{work}/members"),
            &staff.token,
            &json!({ "participant_id": person, "joined_at": "2026-02-01T09:00:00Z" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let march = session(&app, &staff, &work, "2026-03-10T10:00:00Z", person, 150).await;
    let org = app
        .get(
            &format!("/api/v1/organisations/{}", staff.org),
            &app.admin_token,
        )
        .await;
    let policy = org.body["default_payment_policy_id"]
        .as_str()
        .expect("policy")
        .to_owned();
    Payroll {
        person_token: token(&["participant"], None, Some(person)),
        app,
        staff,
        person,
        work,
        march,
        policy,
    }
}

impl Payroll {
    async fn claim(&self, as_token: &str, lines: Value) -> Answer {
        let mut body = json!({ "opportunity_id": self.work, "lines": lines });
        if as_token == self.staff.token {
            body["participant_id"] = json!(self.person);
        }
        self.app.post("/api/v1/claims", as_token, &body).await
    }

    async fn verb(&self, id: &str, verb: &str, as_token: &str, body: Value) -> Answer {
        self.app
            .post(&format!("/api/v1/claims/{id}/{verb}"), as_token, &body)
            .await
    }

    /// The guide's example, submitted and approved.
    async fn approved(&self) -> String {
        let res = self
            .claim(
                &self.person_token,
                json!([
                    { "kind": "participation", "session_id": self.march, "minutes": 150 },
                    { "kind": "mileage", "session_id": self.march, "miles_tenths": 200 }
                ]),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        let id = res.body["id"].as_str().expect("id").to_owned();
        assert_eq!(
            self.verb(&id, "submit", &self.person_token, json!({}))
                .await
                .status,
            200
        );
        assert_eq!(
            self.verb(&id, "approve", &self.staff.token, json!({}))
                .await
                .status,
            200
        );
        id
    }
}

#[tokio::test]
async fn two_and_a_half_hours_and_twenty_miles_is_thirty_four_pounds_due_fourteen_days_after_submission(
) {
    let p = payroll().await;
    let res = p
        .claim(&p.person_token, json!([
            { "kind": "participation", "session_id": p.march, "minutes": 150 },
            { "kind": "mileage", "session_id": p.march, "miles_tenths": 200, "description": "home to the hub" }
        ]))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["status"], "draft");
    assert_eq!(
        res.body["total"],
        json!({ "amount_pence": 3400, "currency": "GBP" })
    );
    assert_eq!(res.body["lines"][0]["amount"]["amount_pence"], 2500);
    assert_eq!(res.body["lines"][0]["rate"]["amount_pence"], 1000);
    assert_eq!(res.body["lines"][1]["amount"]["amount_pence"], 900);
    assert_eq!(res.body["lines"][1]["activity_on"], "2026-03-10");
    let id = res.body["id"].as_str().expect("id");
    let submitted = p.verb(id, "submit", &p.person_token, json!({})).await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    let due = (Utc::now() + Duration::days(14)).date_naive().to_string();
    assert_eq!(submitted.body["claim"]["due_on"], due);
    // The same claim through GraphQL.
    let body = p
        .app
        .graphql(&p.person_token, "query($id: UUID!) { claim(id: $id) { status total { amountPence } dueOn lines { kind amount { amountPence } } } }", json!({ "id": id }))
        .await;
    assert_eq!(
        body["data"]["claim"]["total"]["amountPence"], 3400,
        "{body}"
    );
    assert_eq!(body["data"]["claim"]["status"], "SUBMITTED");
}

#[tokio::test]
async fn a_bus_fare_is_paid_as_on_its_receipt_and_refused_without_one() {
    let p = payroll().await;
    let res = p
        .claim(
            &p.person_token,
            json!([{ "kind": "fare", "session_id": p.march, "receipt_amount_pence": 320 }]),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "lines[0].receipt_id");
    assert!(res.body["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("receipt")));
    // A draft with no lines, a receipt uploaded to it, then the fare naming it.
    let draft = p.claim(&p.person_token, json!([])).await;
    assert_eq!(draft.status, 201, "{}", draft.text);
    let id = draft.body["id"].as_str().expect("id");
    let upload = read(
        p.app
            .client
            .post(p.app.url(&format!("/api/v1/claims/{id}/receipts")))
            .bearer_auth(&p.person_token)
            .header("Content-Type", "application/octet-stream")
            .body(PNG.to_vec())
            .send()
            .await
            .expect("upload"),
    )
    .await;
    assert_eq!(upload.status, 201, "{}", upload.text);
    assert_eq!(upload.body["content_type"], "image/png");
    let receipt = upload.body["id"].as_str().expect("receipt id");
    let res = p
        .app
        .patch(&format!("/api/v1/claims/{id}"), &p.person_token, draft.header("etag").as_deref(), &json!({
            "lines": [{ "kind": "fare", "session_id": p.march, "receipt_amount_pence": 320, "receipt_id": receipt }]
        }))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["total"]["amount_pence"], 320);
    // The file reads back for the claimant and the paying staff, byte for byte.
    for t in [&p.person_token, &p.staff.token] {
        let file = p
            .app
            .client
            .get(
                p.app
                    .url(&format!("/api/v1/claims/{id}/receipts/{receipt}")),
            )
            .bearer_auth(t)
            .send()
            .await
            .expect("get");
        assert_eq!(file.status(), 200);
        assert_eq!(file.bytes().await.expect("bytes").as_ref(), PNG);
    }
    // Not even an admin reads someone's receipt.
    let res = p
        .app
        .get(
            &format!("/api/v1/claims/{id}/receipts/{receipt}"),
            &p.app.admin_token,
        )
        .await;
    assert_eq!(res.status, 404, "{}", res.text);
    let stranger = provider(&p.app, "Elsewhere Trust").await;
    let res = p
        .app
        .get(
            &format!("/api/v1/claims/{id}/receipts/{receipt}"),
            &stranger.token,
        )
        .await;
    assert_eq!(res.status, 404, "{}", res.text);
}

#[tokio::test]
async fn receipts_are_checked_by_their_content_and_size() {
    let p = payroll().await;
    let draft = p.claim(&p.person_token, json!([])).await;
    let id = draft.body["id"].as_str().expect("id");
    let upload = |bytes: Vec<u8>| {
        let req = p
            .app
            .client
            .post(p.app.url(&format!("/api/v1/claims/{id}/receipts")))
            .bearer_auth(&p.person_token)
            .header("Content-Type", "application/pdf")
            .body(bytes);
        async move { read(req.send().await.expect("upload")).await }
    };
    let res = upload(b"MZ\x90\x00 not a pdf at all".to_vec()).await;
    assert_eq!(
        res.status, 422,
        "a name or a declared type is not a receipt: {}",
        res.text
    );
    let res = upload(vec![b'%'; 5 * 1024 * 1024 + 1]).await;
    assert_eq!(res.status, 413, "{}", res.text);
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(5 * 1024 * 1024, b' ');
    let res = upload(pdf).await;
    assert_eq!(res.status, 201, "exactly 5 MiB is taken: {}", res.text);
    assert_eq!(res.body["content_type"], "application/pdf");
}

#[tokio::test]
async fn march_and_april_sessions_are_priced_at_the_rates_of_their_days() {
    let p = payroll().await;
    let march31 = session(
        &p.app,
        &p.staff,
        &p.work,
        "2026-03-31T10:00:00Z",
        p.person,
        60,
    )
    .await;
    let april1 = session(
        &p.app,
        &p.staff,
        &p.work,
        "2026-04-01T10:00:00Z",
        p.person,
        60,
    )
    .await;
    let before = p
        .claim(
            &p.person_token,
            json!([{ "kind": "participation", "session_id": april1, "minutes": 60 }]),
        )
        .await;
    assert_eq!(before.body["total"]["amount_pence"], 1000);
    let res = p
        .app
        .post(&format!("/api/v1/payment-policies/{}/rates", p.policy), &p.staff.token, &json!({ "effective_from": "2026-04-01", "hourly_rate_pence": 1200, "mileage_rate_pence": 45 }))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let again = p.app.post(&format!("/api/v1/payment-policies/{}/rates", p.policy), &p.staff.token, &json!({ "effective_from": "2026-04-01", "hourly_rate_pence": 1300, "mileage_rate_pence": 45 })).await;
    assert_eq!(again.status, 409, "{}", again.text);
    let res = p
        .claim(
            &p.person_token,
            json!([
                { "kind": "participation", "session_id": march31, "minutes": 60 },
                { "kind": "participation", "session_id": april1, "minutes": 60 }
            ]),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["lines"][0]["amount"]["amount_pence"], 1000);
    assert_eq!(res.body["lines"][1]["amount"]["amount_pence"], 1200);
    // The claim priced before the change keeps its price.
    let kept = p
        .app
        .get(
            &format!("/api/v1/claims/{}", before.body["id"].as_str().expect("id")),
            &p.person_token,
        )
        .await;
    assert_eq!(kept.body["total"]["amount_pence"], 1000);
}

#[tokio::test]
async fn travel_time_more_time_than_attended_and_an_amount_sent_for_time_are_refused() {
    let p = payroll().await;
    let res = p
        .claim(
            &p.person_token,
            json!([
                { "kind": "travel_time", "session_id": p.march, "minutes": 40 },
                { "kind": "participation", "session_id": p.march, "minutes": 151 }
            ]),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    let errors = res.body["errors"].as_array().expect("errors");
    assert_eq!(errors[0]["field"], "lines[0].kind");
    assert!(errors[0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("travel time is not paid")));
    assert_eq!(errors[1]["field"], "lines[1].minutes");
    let res = p
        .claim(&p.person_token, json!([{ "kind": "participation", "session_id": p.march, "minutes": 60, "amount_pence": 99999 }]))
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert!(res.text.contains("amount_pence"), "{}", res.text);
    let res = p.claim(&p.person_token, json!([{ "kind": "participation", "session_id": p.march, "minutes": 60, "receipt_amount_pence": 500 }])).await;
    assert_eq!(res.status, 422, "{}", res.text);
}

#[tokio::test]
async fn a_claim_is_paid_once_when_two_staff_press_pay_together_and_a_retry_gets_the_first_answer()
{
    let p = payroll().await;
    let id = p.approved().await;
    let path = format!("/api/v1/claims/{id}/pay");
    let body = json!({ "method": "bank_transfer", "reference": "BACS 42" });
    // Two instances of the service on one database, each asked to pay at the same moment.
    let url = p.app.database_url.clone();
    let other = spawn_app_with(move |vars| {
        vars.insert("DATABASE_URL".to_owned(), url);
    })
    .await;
    let (a, b) = tokio::join!(
        p.app.post(&path, &p.staff.token, &body),
        other.post(&path, &p.staff.token, &body)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
    let history = p
        .app
        .get(&format!("/api/v1/claims/{id}/history"), &p.person_token)
        .await;
    let paid: Vec<&Value> = history
        .body
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"] == "paid")
        .collect();
    assert_eq!(paid.len(), 1, "{}", history.text);
    // Another approved claim: a retry with the same key is the first answer again.
    let march2 = session(
        &p.app,
        &p.staff,
        &p.work,
        "2026-03-17T10:00:00Z",
        p.person,
        60,
    )
    .await;
    let res = p
        .claim(
            &p.person_token,
            json!([{ "kind": "participation", "session_id": march2, "minutes": 60 }]),
        )
        .await;
    let second = res.body["id"].as_str().expect("id").to_owned();
    p.verb(&second, "submit", &p.person_token, json!({})).await;
    p.verb(&second, "approve", &p.staff.token, json!({})).await;
    let path = format!("/api/v1/claims/{second}/pay");
    let first = p
        .app
        .post_with_key(&path, &p.staff.token, "pay-once-42", &body)
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let retry = p
        .app
        .post_with_key(&path, &p.staff.token, "pay-once-42", &body)
        .await;
    assert_eq!(retry.status, 200);
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(retry.body, first.body);
    let without_key = p.app.post(&path, &p.staff.token, &body).await;
    assert_eq!(without_key.status, 409, "{}", without_key.text);
}

#[tokio::test]
async fn the_person_chooses_how_to_be_paid_and_a_declined_claim_still_records_the_contribution() {
    let p = payroll().await;
    let res = p
        .claim(
            &p.person_token,
            json!([{ "kind": "participation", "session_id": p.march, "minutes": 150 }]),
        )
        .await;
    let id = res.body["id"].as_str().expect("id");
    let less = p
        .verb(
            id,
            "choice",
            &p.person_token,
            json!({ "choice": "take_less", "take_amount_pence": 1500 }),
        )
        .await;
    assert_eq!(less.status, 200, "{}", less.text);
    assert_eq!(less.body["claim"]["payable"]["amount_pence"], 1500);
    let too_much = p
        .verb(
            id,
            "choice",
            &p.person_token,
            json!({ "choice": "take_less", "take_amount_pence": 2501 }),
        )
        .await;
    assert_eq!(too_much.status, 422);
    let staff_choice = p
        .verb(id, "choice", &p.staff.token, json!({ "choice": "decline" }))
        .await;
    assert_eq!(staff_choice.status, 403, "only the person chooses");
    let declined = p
        .verb(
            id,
            "choice",
            &p.person_token,
            json!({ "choice": "decline" }),
        )
        .await;
    assert_eq!(declined.body["claim"]["payable"]["amount_pence"], 0);
    assert_eq!(
        declined.body["claim"]["total"]["amount_pence"], 2500,
        "the contribution is recorded"
    );
    assert_eq!(declined.body["claim"]["lines"][0]["minutes"], 150);
}

#[tokio::test]
async fn a_week_over_the_limit_a_person_on_benefits_set_is_warned_about_never_refused() {
    let p = payroll().await;
    let res = p
        .claim(
            &p.person_token,
            json!([{ "kind": "participation", "session_id": p.march, "minutes": 150 }]),
        )
        .await;
    let id = res.body["id"].as_str().expect("id");
    let submitted = p.verb(id, "submit", &p.person_token, json!({})).await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    let warning = &submitted.body["warnings"][0];
    assert_eq!(warning["code"], "benefits_limit", "{}", submitted.text);
    assert!(warning["message"].as_str().is_some_and(|m| m.contains(
        "it is your responsibility to ensure that any payment does not affect your benefits claims"
    )));
    let approved = p.verb(id, "approve", &p.staff.token, json!({})).await;
    assert_eq!(approved.status, 200);
    assert_eq!(approved.body["warnings"][0]["code"], "benefits_limit");
    // Under the limit: no warning.
    let small = session(
        &p.app,
        &p.staff,
        &p.work,
        "2026-05-05T10:00:00Z",
        p.person,
        60,
    )
    .await;
    let res = p
        .claim(
            &p.person_token,
            json!([{ "kind": "participation", "session_id": small, "minutes": 60 }]),
        )
        .await;
    let quiet = p
        .verb(
            res.body["id"].as_str().expect("id"),
            "submit",
            &p.person_token,
            json!({}),
        )
        .await;
    assert_eq!(quiet.body["warnings"], json!([]), "{}", quiet.text);
}

#[tokio::test]
async fn each_person_sees_only_their_own_claims_and_commissioners_see_none() {
    let p = payroll().await;
    let id = p.approved().await;
    let (_, other_person) = p.app.person().await;
    let stranger = provider(&p.app, "Elsewhere Trust").await;
    let nhs = p
        .app
        .create_organisation("Borough Commissioning", &["commissioner"])
        .await;
    let commissioner = token(&["commissioner"], Some(nhs), None);
    for (who, t, get, listed) in [
        ("the claimant", &p.person_token, 200, 1),
        ("another participant", &other_person, 404, 0),
        ("the paying staff", &p.staff.token, 200, 1),
        ("another organisation's staff", &stranger.token, 404, 0),
        ("an admin", &p.app.admin_token, 200, 1),
    ] {
        assert_eq!(
            p.app.get(&format!("/api/v1/claims/{id}"), t).await.status,
            get,
            "{who}"
        );
        let list = p.app.get("/api/v1/claims", t).await;
        assert_eq!(
            list.body["items"].as_array().map(Vec::len),
            Some(listed),
            "{who}: {}",
            list.text
        );
        let body = p
            .app
            .graphql(t, "{ claims { edges { node { id } } } }", json!({}))
            .await;
        assert_eq!(
            body["data"]["claims"]["edges"].as_array().map(Vec::len),
            Some(listed),
            "{who}: {body}"
        );
    }
    assert_eq!(
        p.app
            .get(&format!("/api/v1/claims/{id}"), &commissioner)
            .await
            .status,
        404
    );
    assert_eq!(p.app.get("/api/v1/claims", &commissioner).await.status, 403);
    // Only the paying staff approve and pay.
    assert_eq!(
        p.verb(&id, "pay", &p.person_token, json!({ "method": "cash" }))
            .await
            .status,
        403
    );
    assert_eq!(
        p.verb(&id, "pay", &stranger.token, json!({ "method": "cash" }))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn bank_details_are_encrypted_masked_for_staff_and_whole_only_in_the_finance_export() {
    let p = payroll().await;
    let res = read(
        p.app.client.put(p.app.url(&format!("/api/v1/participants/{}/bank-details", p.person))).bearer_auth(&p.person_token)
            .json(&json!({ "account_name": "=A Lovelace", "sort_code": "12-34-56", "account_number": "87654321" })).send().await.expect("put"),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["account_number_last_four"], "4321");
    let masked = p
        .app
        .get(
            &format!("/api/v1/participants/{}/bank-details", p.person),
            &p.staff.token,
        )
        .await;
    assert_eq!(masked.body, json!({ "account_number_last_four": "4321" }));
    let stranger = provider(&p.app, "Elsewhere Trust").await;
    assert_eq!(
        p.app
            .get(
                &format!("/api/v1/participants/{}/bank-details", p.person),
                &stranger.token
            )
            .await
            .status,
        404
    );
    let stored = crate::helpers::stored_text(
        &p.app.database_url,
        "SELECT last_four AS t FROM bank_details",
    );
    assert_eq!(stored, ["4321"]);
    // Paid in a run, then exported.
    let id = p.approved().await;
    let run = p.app.post("/api/v1/payment-runs", &p.staff.token, &json!({ "due_by": (Utc::now() + Duration::days(30)).date_naive(), "method": "bank_transfer" })).await;
    assert_eq!(run.status, 201, "{}", run.text);
    assert_eq!(run.body["claims"], 1);
    assert_eq!(run.body["total"]["amount_pence"], 3400);
    let paid = p
        .app
        .get(&format!("/api/v1/claims/{id}"), &p.person_token)
        .await;
    assert_eq!(paid.body["status"], "paid");
    let run_id = run.body["id"].as_str().expect("run id");
    let csv = p
        .app
        .client
        .get(
            p.app
                .url(&format!("/api/v1/finance/export.csv?run_id={run_id}")),
        )
        .bearer_auth(&p.staff.token)
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), 200);
    assert!(csv
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv")));
    let text = csv.text().await.expect("text");
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 3, "a header and one row per line: {text}");
    assert!(
        rows[1].contains(",25.00,") && rows[2].contains(",9.00,"),
        "{text}"
    );
    assert!(
        rows[1].contains("'=A Lovelace")
            && rows[1].contains("12-34-56")
            && rows[1].contains("87654321"),
        "{text}"
    );
    // The database holds no readable account number.
    let dump = crate::helpers::stored_text(
        &p.app.database_url,
        "SELECT COALESCE(payment_reference, '') || status AS t FROM claims",
    );
    assert!(!dump.concat().contains("87654321"));
}

#[tokio::test]
async fn overdue_due_soon_and_paid_lists_are_for_the_paying_organisation() {
    let p = payroll().await;
    let late = p.approved().await;
    execute_sql(
        &p.app.database_url,
        &format!("UPDATE claims SET due_on = '2026-01-01' WHERE id = '{late}'"),
    );
    let soon = p.approved().await;
    let overdue = p.app.get("/api/v1/finance/overdue", &p.staff.token).await;
    assert_eq!(overdue.status, 200, "{}", overdue.text);
    let ids: Vec<&str> = overdue
        .body
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, [late.as_str()]);
    let due = p
        .app
        .get("/api/v1/finance/due-soon?days=14", &p.staff.token)
        .await;
    let ids: Vec<&str> = due
        .body
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, [soon.as_str()]);
    let res = p
        .verb(
            &late,
            "pay",
            &p.staff.token,
            json!({ "method": "vouchers" }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let today = Utc::now().date_naive();
    let paid = p
        .app
        .get(
            &format!("/api/v1/finance/paid?from={today}&to={today}"),
            &p.staff.token,
        )
        .await;
    assert_eq!(paid.body.as_array().map(Vec::len), Some(1), "{}", paid.text);
    assert_eq!(
        p.app
            .get("/api/v1/finance/overdue", &p.person_token)
            .await
            .status,
        403
    );
    let stranger = provider(&p.app, "Elsewhere Trust").await;
    let theirs = p.app.get("/api/v1/finance/overdue", &stranger.token).await;
    assert_eq!(theirs.body, json!([]));
}

#[tokio::test]
async fn erasure_waits_while_a_claim_is_owed_and_the_history_is_the_claimants_to_see() {
    let p = payroll().await;
    let id = p.approved().await;
    let res = p
        .app
        .post(
            &format!("/api/v1/participants/{}/erasure", p.person),
            &p.person_token,
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert!(res.text.contains("not yet paid"), "{}", res.text);
    let res = p
        .verb(
            &id,
            "reject",
            &p.staff.token,
            json!({ "reason": "the session was cancelled" }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let history = p
        .app
        .get(&format!("/api/v1/claims/{id}/history"), &p.person_token)
        .await;
    let actions: Vec<&str> = history
        .body
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["created", "submitted", "approved", "rejected"]);
    assert_eq!(history.body[3]["detail"], "the session was cancelled");
    let mine = p
        .app
        .get(&format!("/api/v1/claims/{id}"), &p.person_token)
        .await;
    assert_eq!(mine.body["rejection_reason"], "the session was cancelled");
    // The person's export holds their claims, and their bank details only masked.
    let doc = p
        .app
        .get(
            &format!("/api/v1/participants/{}/export", p.person),
            &p.person_token,
        )
        .await;
    assert_eq!(doc.body["claims"][0]["id"], id.as_str(), "{}", doc.text);
    assert_eq!(doc.body["claims"][0]["total"]["amount_pence"], 3400);
    let res = p
        .app
        .post(
            &format!("/api/v1/participants/{}/erasure", p.person),
            &p.person_token,
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
}

#[tokio::test]
async fn recognition_that_is_not_money_is_recorded_against_the_person_and_the_work() {
    let p = payroll().await;
    let res = p
        .app
        .post("/api/v1/recognitions", &p.staff.token, &json!({ "participant_id": p.person, "opportunity_id": p.work, "kind": "training_place", "description": "Peer facilitation course" }))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let body = p
        .app
        .graphql(
            &p.person_token,
            "query($p: UUID!) { recognitions(participantId: $p) { kind description } }",
            json!({ "p": p.person }),
        )
        .await;
    assert_eq!(
        body["data"]["recognitions"][0]["kind"], "TRAINING_PLACE",
        "{body}"
    );
    let res = p.app.post("/api/v1/recognitions", &p.person_token, &json!({ "participant_id": p.person, "opportunity_id": p.work, "kind": "award", "description": "Self-awarded" })).await;
    assert_eq!(res.status, 403);
}

#[tokio::test]
async fn the_whole_lifecycle_runs_through_graphql_too() {
    let p = payroll().await;
    let body = p
        .app
        .graphql(&p.person_token, "mutation($o: UUID!, $s: UUID!) { createClaim(input: { opportunityId: $o, lines: [{ kind: PARTICIPATION, sessionId: $s, minutes: 150 }, { kind: MILEAGE, sessionId: $s, milesTenths: 200 }] }) { id total { amountPence } } }", json!({ "o": p.work, "s": p.march }))
        .await;
    assert_eq!(
        body["data"]["createClaim"]["total"]["amountPence"], 3400,
        "{body}"
    );
    let id = body["data"]["createClaim"]["id"].clone();
    let body = p
        .app
        .graphql(
            &p.person_token,
            "mutation($id: UUID!) { submitClaim(id: $id) { claim { status } warnings { code } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        body["data"]["submitClaim"]["claim"]["status"], "SUBMITTED",
        "{body}"
    );
    let body = p
        .app
        .graphql(
            &p.staff.token,
            "mutation($id: UUID!) { approveClaim(id: $id) { claim { status } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        body["data"]["approveClaim"]["claim"]["status"], "APPROVED",
        "{body}"
    );
    let body = p.app.graphql(&p.staff.token, "mutation($id: UUID!) { payClaim(id: $id, input: { method: BANK_TRANSFER }) { claim { status paymentMethod } } }", json!({ "id": id })).await;
    assert_eq!(
        body["data"]["payClaim"]["claim"]["status"], "PAID",
        "{body}"
    );
    let body = p.app.graphql(&p.staff.token, "mutation($id: UUID!) { payClaim(id: $id, input: { method: BANK_TRANSFER }) { claim { status } } }", json!({ "id": id })).await;
    assert_eq!(
        crate::helpers::gql_code(&body).as_deref(),
        Some("invalid_transition"),
        "{body}"
    );
    let body = p.app.graphql(&p.person_token, "mutation($id: UUID!) { uploadReceipt(claimId: $id, contentBase64: \"TVqQAA==\") { id } }", json!({ "id": id })).await;
    assert_eq!(
        crate::helpers::gql_code(&body).as_deref(),
        Some("validation_failed"),
        "{body}"
    );
}
