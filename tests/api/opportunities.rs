//! Opportunities (pieces of work) through REST: creating and reading them back, who may see
//! and change them, their lifecycle, and browsing with filters and pages.
//!
//! The small builders at the top are shared with the members, sessions and inclusion tests.

use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app, token, Answer, TestApp};

/// Staff of one provider organisation.
pub(crate) struct Staff {
    pub org: Uuid,
    pub token: String,
}

/// Creates a provider organisation and returns a staff token for it.
pub(crate) async fn provider(app: &TestApp, name: &str) -> Staff {
    let org = app.create_organisation(name, &["provider"]).await;
    Staff {
        org,
        token: token(&["provider"], Some(org), None),
    }
}

/// A person with lived experience, signed in as a participant.
pub(crate) struct Person {
    pub id: Uuid,
    pub token: String,
}

/// Registers a person with lived experience (through a peer-support facilitator) and signs
/// in as them.
pub(crate) async fn participant(app: &TestApp) -> Person {
    let (id, token) = app.person().await;
    Person { id, token }
}

/// Registers a person with lived experience through these staff's organisation, so the staff
/// can invite them; returns their id.
pub(crate) async fn registered_by(app: &TestApp, staff: &Staff) -> Uuid {
    app.register_participant(&staff.token, json!({ "roles": ["lived_experience"] }))
        .await
}

/// Registers a person with this profile through these staff's organisation, so the staff can
/// invite them, and signs in as them.
pub(crate) async fn registered_person(app: &TestApp, staff: &Staff, profile: Value) -> Person {
    let id = app.register_participant(&staff.token, profile).await;
    Person {
        id,
        token: token(&["participant"], None, Some(id)),
    }
}

/// The smallest valid piece of work, with `extra` fields laid over it.
pub(crate) fn work(title: &str, extra: Value) -> Value {
    let mut body = json!({
        "title": title,
        "description": "Help us plan a new drop-in cafe.",
        "kind": "workshop",
        "claimed_mode": "involvement",
        "format": "hybrid",
    });
    if let (Some(base), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    body
}

/// Creates a piece of work and returns its id.
pub(crate) async fn create_work(app: &TestApp, token: &str, body: &Value) -> String {
    let res = app.post("/api/v1/opportunities", token, body).await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.body["id"].as_str().expect("an id").to_owned()
}

/// A status change by its verb: `advertise`, `start`, `end` or `cancel`.
pub(crate) async fn move_work(app: &TestApp, token: &str, id: &str, verb: &str) -> Answer {
    app.post(
        &format!("/api/v1/opportunities/{id}/{verb}"),
        token,
        &json!({}),
    )
    .await
}

/// Creates a piece of work and advertises it; returns its id.
pub(crate) async fn advertised_work(app: &TestApp, token: &str, body: &Value) -> String {
    let id = create_work(app, token, body).await;
    let res = move_work(app, token, &id, "advertise").await;
    assert_eq!(res.status, 200, "{}", res.text);
    id
}

/// A participant applies, saying they bring lived experience (nothing unstated counts).
pub(crate) async fn apply(app: &TestApp, person: &Person, id: &str) -> Answer {
    app.post(
        &format!("/api/v1/opportunities/{id}/members"),
        &person.token,
        &json!({ "experience": "lived_experience" }),
    )
    .await
}

/// The `field` of each item of a list answer.
pub(crate) fn field_of(answer: &Answer, field: &str) -> Vec<String> {
    answer.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {}", answer.text))
        .iter()
        .map(|o| o[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The `field` of each validation error, in order.
pub(crate) fn error_fields(answer: &Answer) -> Vec<String> {
    assert_eq!(
        answer.problem_code(),
        "validation_failed",
        "{}",
        answer.text
    );
    answer.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors: {}", answer.text))
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect()
}

// --- Creating and reading -------------------------------------------------------------------

#[tokio::test]
async fn a_provider_creates_work_with_every_field_and_reads_it_back() {
    let app = spawn_app().await;
    let staff = provider(&app, "Camden Recovery Network").await;
    let facilitator = app
        .create_organisation("Peer Voices", &["facilitator"])
        .await;
    let org = app
        .get(
            &format!("/api/v1/organisations/{}", staff.org),
            &app.admin_token,
        )
        .await;
    let default_policy = org.body["default_payment_policy_id"]
        .as_str()
        .expect("a default policy")
        .to_owned();

    let body = json!({
        "title": "  Shape the new crisis line ",
        "description": "Tell us what a good crisis line sounds like.",
        "easy_read_description": "Help us make the crisis phone line better.",
        "kind": "workshop",
        "claimed_mode": "co_production",
        "starts_on": "2030-03-02",
        "ends_on": "2030-06-30",
        "format": "in_person",
        "venue": "Town Hall, Room 2",
        "places": 8,
        "time_commitment": "2 hours a month for 4 months",
        "paid": true,
        "other_recognition": "A certificate and a reference",
        "support_offered": ["carer_cover", "travel", "easy_read"],
        "lived_experience_areas": ["homelessness", "mental_health", "mental_health"],
        "for_carers": true,
        "admission": "staff_review",
        "closing_on": "2030-02-15",
        "facilitator_organisation_id": facilitator,
    });
    let res = app.post("/api/v1/opportunities", &staff.token, &body).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        res.header("location"),
        Some(format!("/api/v1/opportunities/{id}"))
    );
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));

    let read = app
        .get(&format!("/api/v1/opportunities/{id}"), &staff.token)
        .await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.header("etag").as_deref(), Some("\"1\""));
    let o = &read.body;
    let expected = json!({
        "id": id,
        "organisation_id": staff.org,
        "contract_id": null,
        "facilitator_organisation_id": facilitator,
        "title": "Shape the new crisis line",
        "description": "Tell us what a good crisis line sounds like.",
        "easy_read_description": "Help us make the crisis phone line better.",
        "kind": "workshop",
        "claimed_mode": "co_production",
        "status": "draft",
        "starts_on": "2030-03-02",
        "ends_on": "2030-06-30",
        "format": "in_person",
        "venue": "Town Hall, Room 2",
        "places": 8,
        "places_taken": 0,
        "time_commitment": "2 hours a month for 4 months",
        "paid": true,
        "payment_policy_id": default_policy,
        "other_recognition": "A certificate and a reference",
        // Kept in the guide's order, each once.
        "support_offered": ["travel", "easy_read", "carer_cover"],
        "lived_experience_areas": ["mental_health", "homelessness"],
        "for_carers": true,
        "admission": "staff_review",
        "advertised_on": null,
        "closing_on": "2030-02-15",
        "version": 1,
    });
    for (field, value) in expected.as_object().expect("object") {
        assert_eq!(&o[field], value, "field {field}: {}", read.text);
        assert_eq!(&res.body[field], value, "created {field}: {}", res.text);
    }
    // A single read carries the honest classification: nothing has happened yet.
    assert_eq!(o["evidence"]["claimed_mode"], "co_production");
    assert_eq!(o["evidence"]["evidenced_level"], "no_engagement");
    assert_eq!(o["evidence"]["claim_check"], "overclaimed");

    // The facilitating organisation's staff see the draft too.
    let facilitator_staff = token(&["facilitator"], Some(facilitator), None);
    let read = app
        .get(&format!("/api/v1/opportunities/{id}"), &facilitator_staff)
        .await;
    assert_eq!(read.status, 200, "{}", read.text);
}

#[tokio::test]
async fn unpaid_work_names_no_payment_policy() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let res = app
        .post(
            "/api/v1/opportunities",
            &staff.token,
            &work("Unpaid", json!({ "paid": false })),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["paid"], false);
    assert_eq!(res.body["payment_policy_id"], Value::Null);
}

#[tokio::test]
async fn invalid_work_gets_every_field_error_at_once_and_nothing_is_stored() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let policy = Uuid::now_v7();
    let res = app
        .post(
            "/api/v1/opportunities",
            &staff.token,
            &work(
                " ",
                json!({
                    "description": "",
                    "paid": false,
                    "payment_policy_id": policy,
                    "starts_on": "2030-03-10",
                    "ends_on": "2030-03-01",
                    "closing_on": "2030-03-05",
                    "places": 0,
                }),
            ),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(
        error_fields(&res),
        [
            "title",
            "description",
            "payment_policy_id",
            "ends_on",
            "closing_on",
            "places"
        ]
    );
    let list = app.get("/api/v1/opportunities", &staff.token).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(field_of(&list, "id").is_empty(), "{}", list.text);
}

#[tokio::test]
async fn a_kind_outside_the_guides_list_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let res = app
        .post(
            "/api/v1/opportunities",
            &staff.token,
            &work("Odd kind", json!({ "kind": "focus_group" })),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["kind"]);
}

#[tokio::test]
async fn the_facilitator_must_be_another_organisation_that_facilitates() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let not_a_facilitator = app.create_organisation("Other", &["provider"]).await;
    for facilitator in [not_a_facilitator, staff.org, Uuid::now_v7()] {
        let res = app
            .post(
                "/api/v1/opportunities",
                &staff.token,
                &work(
                    "Facilitated",
                    json!({ "facilitator_organisation_id": facilitator }),
                ),
            )
            .await;
        assert_eq!(res.status, 422, "{facilitator}: {}", res.text);
        assert_eq!(error_fields(&res), ["facilitator_organisation_id"]);
    }
}

#[tokio::test]
async fn a_participant_cannot_create_work() {
    let app = spawn_app().await;
    let person = participant(&app).await;
    let res = app
        .post(
            "/api/v1/opportunities",
            &person.token,
            &work("Mine", json!({})),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert_eq!(res.problem_code(), "forbidden");
}

#[tokio::test]
async fn another_organisations_draft_is_not_found() {
    let app = spawn_app().await;
    let owner = provider(&app, "Owner").await;
    let other = provider(&app, "Other").await;
    let id = create_work(&app, &owner.token, &work("Secret plans", json!({}))).await;
    let path = format!("/api/v1/opportunities/{id}");

    let res = app.get(&path, &other.token).await;
    assert_eq!(res.status, 404, "{}", res.text);
    assert_eq!(res.problem_code(), "not_found");
    let missing = app
        .get(
            &format!("/api/v1/opportunities/{}", Uuid::now_v7()),
            &other.token,
        )
        .await;
    assert_eq!(
        missing.body["detail"], res.body["detail"],
        "ids leak nothing"
    );
    let res = app
        .patch(
            &path,
            &other.token,
            Some("\"1\""),
            &json!({ "title": "Ours" }),
        )
        .await;
    assert_eq!(res.status, 404, "{}", res.text);
    let res = move_work(&app, &other.token, &id, "advertise").await;
    assert_eq!(res.status, 404, "{}", res.text);
    let list = app.get("/api/v1/opportunities", &other.token).await;
    assert!(field_of(&list, "id").is_empty(), "{}", list.text);

    // Once advertised they may read it, but still not change it.
    assert_eq!(
        move_work(&app, &owner.token, &id, "advertise").await.status,
        200
    );
    let res = app.get(&path, &other.token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = app
        .patch(
            &path,
            &other.token,
            Some("\"2\""),
            &json!({ "title": "Ours" }),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    let res = move_work(&app, &other.token, &id, "cancel").await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert_eq!(
        app.get(&path, &owner.token).await.body["status"],
        "advertised"
    );
}

// --- Lifecycle -------------------------------------------------------------------------------

#[tokio::test]
async fn work_moves_from_draft_through_advertised_and_running_to_ended() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = create_work(&app, &staff.token, &work("Lifecycle", json!({}))).await;

    let before = Utc::now().date_naive();
    let res = move_work(&app, &staff.token, &id, "advertise").await;
    let after = Utc::now().date_naive();
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "advertised");
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    let advertised_on: chrono::NaiveDate = res.body["advertised_on"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("advertised_on is set: {}", res.text));
    assert!(before <= advertised_on && advertised_on <= after);

    let res = move_work(&app, &staff.token, &id, "start").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "running");
    let res = move_work(&app, &staff.token, &id, "end").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "ended");
    assert_eq!(res.body["version"], 4);
    // The advertised date stays what it was.
    assert_eq!(res.body["advertised_on"], advertised_on.to_string());

    let read = app
        .get(&format!("/api/v1/opportunities/{id}"), &staff.token)
        .await;
    assert_eq!(read.body["status"], "ended");
}

async fn refused(app: &TestApp, token: &str, id: &str, verb: &str, allowed: Value) {
    let before = app.get(&format!("/api/v1/opportunities/{id}"), token).await;
    let res = move_work(app, token, id, verb).await;
    assert_eq!(res.status, 409, "{verb}: {}", res.text);
    assert_eq!(res.problem_code(), "invalid_transition");
    assert_eq!(res.body["allowed"], allowed, "{verb}: {}", res.text);
    let after = app.get(&format!("/api/v1/opportunities/{id}"), token).await;
    assert_eq!(after.body["status"], before.body["status"]);
    assert_eq!(after.body["version"], before.body["version"]);
}

#[tokio::test]
async fn each_refused_move_names_the_moves_that_are_allowed() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let t = &staff.token;
    let id = create_work(&app, t, &work("Moves", json!({}))).await;

    refused(&app, t, &id, "start", json!(["advertised", "cancelled"])).await;
    refused(&app, t, &id, "end", json!(["advertised", "cancelled"])).await;
    assert_eq!(move_work(&app, t, &id, "advertise").await.status, 200);
    refused(&app, t, &id, "advertise", json!(["running", "cancelled"])).await;
    refused(&app, t, &id, "end", json!(["running", "cancelled"])).await;
    assert_eq!(move_work(&app, t, &id, "start").await.status, 200);
    refused(&app, t, &id, "start", json!(["ended", "cancelled"])).await;
    refused(&app, t, &id, "advertise", json!(["ended", "cancelled"])).await;
    assert_eq!(move_work(&app, t, &id, "end").await.status, 200);
    refused(&app, t, &id, "cancel", json!([])).await;
    refused(&app, t, &id, "start", json!([])).await;
    refused(&app, t, &id, "end", json!([])).await;
}

#[tokio::test]
async fn work_that_has_not_ended_can_be_cancelled() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let t = &staff.token;
    let draft = create_work(&app, t, &work("Draft", json!({}))).await;
    let advertised = advertised_work(&app, t, &work("Advertised", json!({}))).await;
    let running = advertised_work(&app, t, &work("Running", json!({}))).await;
    assert_eq!(move_work(&app, t, &running, "start").await.status, 200);

    for id in [&draft, &advertised, &running] {
        let res = move_work(&app, t, id, "cancel").await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(res.body["status"], "cancelled");
        refused(&app, t, id, "advertise", json!([])).await;
        refused(&app, t, id, "cancel", json!([])).await;
    }
    // Cancelling a draft does not pretend it was advertised.
    let read = app.get(&format!("/api/v1/opportunities/{draft}"), t).await;
    assert_eq!(read.body["advertised_on"], Value::Null);
}

#[tokio::test]
async fn a_change_needs_the_current_etag_and_a_stale_one_is_refused() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = create_work(
        &app,
        &staff.token,
        &work("Before", json!({ "venue": "Town Hall", "places": 4 })),
    )
    .await;
    let path = format!("/api/v1/opportunities/{id}");

    let res = app
        .patch(&path, &staff.token, None, &json!({ "title": "No tag" }))
        .await;
    assert_eq!(res.status, 428, "{}", res.text);
    assert_eq!(res.problem_code(), "precondition_required");

    let res = app
        .patch(
            &path,
            &staff.token,
            Some("\"1\""),
            &json!({ "title": "After", "venue": null }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(res.body["title"], "After");
    assert_eq!(res.body["venue"], Value::Null, "null clears a field");
    assert_eq!(res.body["places"], 4, "absent fields stay");

    let res = app
        .patch(
            &path,
            &staff.token,
            Some("\"1\""),
            &json!({ "title": "Lost update" }),
        )
        .await;
    assert_eq!(res.status, 412, "{}", res.text);
    assert_eq!(res.problem_code(), "precondition_failed");
    assert_eq!(app.get(&path, &staff.token).await.body["title"], "After");

    // A status change may carry If-Match too; a stale one is refused.
    let res = app
        .client
        .post(app.url(&format!("{path}/advertise")))
        .bearer_auth(&staff.token)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .expect("request");
    let res = crate::helpers::read(res).await;
    assert_eq!(res.status, 412, "{}", res.text);
    assert_eq!(app.get(&path, &staff.token).await.body["status"], "draft");

    // A change that breaks the rules is refused as a whole.
    let res = app
        .patch(
            &path,
            &staff.token,
            Some("\"2\""),
            &json!({ "title": "Kept?", "places": 0 }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["places"]);
    assert_eq!(app.get(&path, &staff.token).await.body["title"], "After");
}

#[tokio::test]
async fn ended_work_can_no_longer_be_changed() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(&app, &staff.token, &work("Done", json!({}))).await;
    assert_eq!(
        move_work(&app, &staff.token, &id, "start").await.status,
        200
    );
    let ended = move_work(&app, &staff.token, &id, "end").await;
    let tag = ended.header("etag").expect("etag");
    let res = app
        .patch(
            &format!("/api/v1/opportunities/{id}"),
            &staff.token,
            Some(&tag),
            &json!({ "title": "Rewritten history" }),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.problem_code(), "conflict");
}

// --- Browsing --------------------------------------------------------------------------------

#[tokio::test]
async fn everyone_signed_in_sees_advertised_work_but_not_drafts() {
    let app = spawn_app().await;
    let owner = provider(&app, "Owner").await;
    let other = provider(&app, "Other").await;
    let advertised = advertised_work(&app, &owner.token, &work("Open", json!({}))).await;
    let draft = create_work(&app, &owner.token, &work("Not yet", json!({}))).await;
    let person = participant(&app).await;

    for (who, caller) in [
        ("participant", &person.token),
        ("other provider", &other.token),
    ] {
        let list = app.get("/api/v1/opportunities", caller).await;
        assert_eq!(list.status, 200, "{who}: {}", list.text);
        assert_eq!(
            field_of(&list, "id"),
            std::slice::from_ref(&advertised),
            "{who}"
        );
        let res = app
            .get(&format!("/api/v1/opportunities/{advertised}"), caller)
            .await;
        assert_eq!(res.status, 200, "{who}: {}", res.text);
        let res = app
            .get(&format!("/api/v1/opportunities/{draft}"), caller)
            .await;
        assert_eq!(res.status, 404, "{who}: {}", res.text);
    }
    // The owner sees both.
    let list = app.get("/api/v1/opportunities", &owner.token).await;
    assert_eq!(field_of(&list, "id"), [advertised, draft]);
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn each_filter_narrows_the_list_to_the_matching_work() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let t = &staff.token;
    advertised_work(
        &app,
        t,
        &work(
            "Autism workshop",
            json!({ "kind": "workshop", "format": "in_person", "lived_experience_areas": ["autism"],
                    "paid": true, "support_offered": ["easy_read"], "starts_on": "2030-01-10",
                    "places": 3 }),
        ),
    )
    .await;
    advertised_work(
        &app,
        t,
        &work(
            "Virtual survey",
            json!({ "kind": "survey", "format": "virtual", "lived_experience_areas": ["mental_health"],
                    "other_recognition": "Shopping vouchers", "support_offered": ["it_loan"],
                    "starts_on": "2030-02-10" }),
        ),
    )
    .await;
    let panel = advertised_work(
        &app,
        t,
        &work(
            "Hybrid panel",
            json!({ "kind": "interview_panel", "format": "hybrid",
                    "lived_experience_areas": ["drugs_and_alcohol", "autism"], "paid": true,
                    "support_offered": ["travel", "easy_read"], "starts_on": "2030-03-10",
                    "places": 1 }),
        ),
    )
    .await;
    advertised_work(
        &app,
        t,
        &work(
            "Homelessness board",
            json!({ "kind": "board", "format": "in_person",
                    "lived_experience_areas": ["homelessness"], "places": 10 }),
        ),
    )
    .await;
    // A draft matching most filters never shows to a participant.
    create_work(
        &app,
        t,
        &work(
            "Draft workshop",
            json!({ "kind": "workshop", "format": "virtual", "lived_experience_areas": ["autism"],
                    "paid": true, "support_offered": ["easy_read", "travel"],
                    "starts_on": "2030-02-01", "places": 2 }),
        ),
    )
    .await;
    // The panel's one place is taken.
    let applicant = participant(&app).await;
    assert_eq!(apply(&app, &applicant, &panel).await.status, 201);

    let browser = participant(&app).await;
    let cases: &[(&str, &[&str])] = &[
        (
            "",
            &[
                "Autism workshop",
                "Virtual survey",
                "Hybrid panel",
                "Homelessness board",
            ],
        ),
        ("kind=workshop", &["Autism workshop"]),
        ("kind=board", &["Homelessness board"]),
        ("format=virtual", &["Virtual survey"]),
        (
            "format=in_person",
            &["Autism workshop", "Homelessness board"],
        ),
        (
            "lived_experience_area=autism",
            &["Autism workshop", "Hybrid panel"],
        ),
        ("lived_experience_area=drugs_and_alcohol", &["Hybrid panel"]),
        ("lived_experience_area=learning_disability", &[]),
        ("paid=true", &["Autism workshop", "Hybrid panel"]),
        ("paid=false", &["Virtual survey", "Homelessness board"]),
        ("support=easy_read", &["Autism workshop", "Hybrid panel"]),
        ("support=travel", &["Hybrid panel"]),
        ("support=carer_cover", &[]),
        (
            "starts_after=2030-02-01",
            &["Virtual survey", "Hybrid panel"],
        ),
        ("starts_after=2030-03-10", &["Hybrid panel"]),
        (
            "starts_before=2030-02-10",
            &["Autism workshop", "Virtual survey"],
        ),
        (
            "starts_after=2030-02-01&starts_before=2030-02-28",
            &["Virtual survey"],
        ),
        (
            "has_places=true",
            &["Autism workshop", "Virtual survey", "Homelessness board"],
        ),
        ("has_places=false", &["Hybrid panel"]),
        ("kind=workshop&paid=false", &[]),
        ("status=draft", &[]),
    ];
    for (query, expected) in cases {
        let list = app
            .get(&format!("/api/v1/opportunities?{query}"), &browser.token)
            .await;
        assert_eq!(list.status, 200, "{query}: {}", list.text);
        let expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(
            sorted(field_of(&list, "title")),
            sorted(expected),
            "?{query}"
        );
    }
}

#[tokio::test]
async fn an_unknown_or_malformed_filter_is_a_bad_request() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    for query in [
        "colour=blue",
        "kind=focus_group",
        "paid=maybe",
        "starts_after=next-week",
    ] {
        let res = app
            .get(&format!("/api/v1/opportunities?{query}"), &staff.token)
            .await;
        assert_eq!(res.status, 400, "{query}: {}", res.text);
        assert_eq!(res.problem_code(), "bad_request");
    }
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=nope", "cursor"),
    ] {
        let res = app
            .get(&format!("/api/v1/opportunities?{query}"), &staff.token)
            .await;
        assert_eq!(res.status, 422, "{query}: {}", res.text);
        assert_eq!(error_fields(&res), [field]);
    }
}

#[tokio::test]
async fn pages_follow_the_cursor_through_every_item_once() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(
            advertised_work(&app, &staff.token, &work(&format!("Work {i}"), json!({}))).await,
        );
    }
    let browser = participant(&app).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/opportunities?limit=2&cursor={c}"),
            None => "/api/v1/opportunities?limit=2".to_owned(),
        };
        let page = app.get(&path, &browser.token).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let ids = field_of(&page, "id");
        assert!(ids.len() <= 2, "{}", page.text);
        seen.extend(ids);
        pages += 1;
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "the cursor never ends");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created);
    // Filters and pages work together.
    let page = app
        .get(
            "/api/v1/opportunities?limit=2&kind=workshop",
            &browser.token,
        )
        .await;
    assert_eq!(field_of(&page, "id"), created[..2]);
}

#[tokio::test]
async fn work_starting_soon_and_far_off_is_told_apart_by_date() {
    // The date filters compare days, not text: a start a week away and one a year away.
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let today = Utc::now().date_naive();
    let soon = (today + Duration::days(7)).to_string();
    let later = (today + Duration::days(365)).to_string();
    advertised_work(
        &app,
        &staff.token,
        &work("Soon", json!({ "starts_on": soon })),
    )
    .await;
    advertised_work(
        &app,
        &staff.token,
        &work("Later", json!({ "starts_on": later })),
    )
    .await;
    advertised_work(&app, &staff.token, &work("Undated", json!({}))).await;
    let cutoff = today + Duration::days(30);
    let list = app
        .get(
            &format!("/api/v1/opportunities?starts_before={cutoff}"),
            &staff.token,
        )
        .await;
    assert_eq!(field_of(&list, "title"), ["Soon"]);
    let list = app
        .get(
            &format!("/api/v1/opportunities?starts_after={cutoff}"),
            &staff.token,
        )
        .await;
    assert_eq!(field_of(&list, "title"), ["Later"]);
}
