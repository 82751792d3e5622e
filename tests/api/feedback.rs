//! The feedback loop ("You said - We did") through both doors: items are recorded, answered and
//! closed only once the answer was communicated back; closure figures follow what was recorded;
//! evaluations score the Five Values; self-assessments are kept over time; recent feedback keeps
//! running work's evidence alive; and what people said is read only by those allowed.

use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{gql_code, read, spawn_app, token, Answer, TestApp};
use crate::opportunities::{
    advertised_work, error_fields, field_of, move_work, participant, provider, registered_person,
    work,
};
use crate::sessions::verdict;

fn days_ago(days: i64) -> String {
    (Utc::now() - Duration::days(days)).to_rfc3339()
}

/// Feedback said about an organisation, `extra` laid over it.
fn said(org: Uuid, what: &str, extra: Value) -> Value {
    let mut body = json!({ "organisation_id": org, "said": what, "channel": "meeting" });
    if let (Some(base), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    body
}

/// Records an item and returns it.
async fn record(app: &TestApp, token: &str, body: &Value) -> Value {
    let res = app.post("/api/v1/feedback", token, body).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.body["id"].as_str().expect("an id");
    assert_eq!(
        res.header("location").as_deref(),
        Some(format!("/api/v1/feedback/{id}").as_str())
    );
    res.body
}

fn id_of(item: &Value) -> String {
    item["id"].as_str().expect("an id").to_owned()
}

async fn put(app: &TestApp, path: &str, token: &str, if_match: &str, body: &Value) -> Answer {
    read(
        app.client
            .put(app.url(path))
            .bearer_auth(token)
            .header("If-Match", if_match)
            .json(body)
            .send()
            .await
            .expect("request"),
    )
    .await
}

/// Answers an item, sending the `ETag` the caller last read (as an admin would see it).
pub(crate) async fn respond(app: &TestApp, token: &str, id: &str, we_did: &str) -> Answer {
    let current = app
        .get(&format!("/api/v1/feedback/{id}"), &app.admin_token)
        .await;
    let tag = current.header("etag").unwrap_or_else(|| "\"0\"".to_owned());
    put(
        app,
        &format!("/api/v1/feedback/{id}/response"),
        token,
        &tag,
        &json!({ "outcome": "acted", "we_did": we_did }),
    )
    .await
}

pub(crate) async fn close(app: &TestApp, token: &str, id: &str) -> Answer {
    app.post(
        &format!("/api/v1/feedback/{id}/close"),
        token,
        &json!({ "communicated_how": "Told the group at the next meeting" }),
    )
    .await
}

async fn stats(app: &TestApp, token: &str, query: &str) -> Answer {
    app.get(&format!("/api/v1/feedback/stats?{query}"), token)
        .await
}

fn close_to(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-9)
}

// --- Closing the loop -----------------------------------------------------------------------

#[tokio::test]
async fn a_response_communicated_back_closes_the_item_and_the_closure_rate_moves() {
    let app = spawn_app().await;
    let staff = provider(&app, "Camden Recovery Network").await;
    let mut ids = Vec::new();
    for (days, what) in [
        (10, "The room was hard to reach"),
        (6, "Agendas came too late"),
        (2, "Please meet in the evening too"),
    ] {
        let item = record(
            &app,
            &staff.token,
            &said(staff.org, what, json!({ "received_at": days_ago(days) })),
        )
        .await;
        assert_eq!(item["status"], "open", "{item}");
        ids.push(id_of(&item));
    }
    let query = format!("organisation_id={}&within_days=14", staff.org);
    let before = stats(&app, &staff.token, &query).await;
    assert_eq!(before.status, 200, "{}", before.text);
    assert_eq!(before.body["received"], 3);
    assert_eq!(before.body["closed"], 0);
    assert!(
        close_to(&before.body["closure_rate"], 0.0),
        "{}",
        before.text
    );
    assert_eq!(before.body["median_days_to_close"], Value::Null);
    assert_eq!(before.body["open_now"], 3);
    assert_eq!(before.body["oldest_open_days"], 10);

    // A response alone does not close the loop.
    let res = respond(&app, &staff.token, &ids[0], "We moved to the library").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "responded");
    assert_eq!(res.body["version"], 2);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    let mid = stats(&app, &staff.token, &query).await;
    assert_eq!(mid.body["closed"], 0, "{}", mid.text);
    assert_eq!(mid.body["open_now"], 3);

    // Communicated back: closed.
    let res = close(&app, &staff.token, &ids[0]).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "closed");
    assert_eq!(res.body["days_to_close"], 10);
    assert_eq!(res.body["we_did"], "We moved to the library");
    let after = stats(&app, &staff.token, &query).await;
    assert_eq!(after.body["received"], 3, "{}", after.text);
    assert_eq!(after.body["closed"], 1);
    assert!(
        close_to(&after.body["closure_rate"], 1.0 / 3.0),
        "{}",
        after.text
    );
    assert!(close_to(&after.body["median_days_to_close"], 10.0));
    assert_eq!(after.body["within_days"], 14);
    assert_eq!(after.body["closed_within"], 1);
    assert!(close_to(&after.body["closed_within_rate"], 1.0 / 3.0));
    assert_eq!(after.body["open_now"], 2);
    assert_eq!(after.body["oldest_open_days"], 6);

    // GraphQL closes the second the same way, and reads the same figures.
    let body = app
        .graphql(
            &staff.token,
            r#"mutation($id: UUID!) {
                respondToFeedback(id: $id, input: { outcome: NOT_ACTED, weDid: "The funder sets the date, so papers cannot go out sooner." }) { status }
                closeFeedback(id: $id, input: { communicatedHow: "Newsletter" }) { status daysToClose }
            }"#,
            json!({ "id": ids[1] }),
        )
        .await;
    assert_eq!(
        body["data"]["respondToFeedback"]["status"], "RESPONDED",
        "{body}"
    );
    assert_eq!(body["data"]["closeFeedback"]["status"], "CLOSED", "{body}");
    assert_eq!(body["data"]["closeFeedback"]["daysToClose"], 6, "{body}");
    let body = app
        .graphql(
            &staff.token,
            "query($org: UUID!) { feedbackStats(organisationId: $org, withinDays: 7) { received closed closureRate medianDaysToClose closedWithin openNow oldestOpenDays } }",
            json!({ "org": staff.org }),
        )
        .await;
    let s = &body["data"]["feedbackStats"];
    assert_eq!(s["received"], 3, "{body}");
    assert_eq!(s["closed"], 2, "{body}");
    assert!(close_to(&s["closureRate"], 2.0 / 3.0), "{body}");
    assert!(close_to(&s["medianDaysToClose"], 8.0), "{body}");
    assert_eq!(
        s["closedWithin"], 1,
        "only the item closed in 6 days: {body}"
    );
    assert_eq!(s["openNow"], 1, "{body}");
    assert_eq!(s["oldestOpenDays"], 2, "{body}");

    // A period in which nothing was received says "no data", not 0 %.
    let empty = stats(
        &app,
        &staff.token,
        &format!(
            "organisation_id={}&from=2020-01-01&to=2020-02-01",
            staff.org
        ),
    )
    .await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(empty.body["received"], 0);
    assert_eq!(empty.body["closure_rate"], Value::Null);
    assert_eq!(
        empty.body["open_now"], 1,
        "open now counts whenever received"
    );
}

#[tokio::test]
async fn an_item_without_a_response_stays_open_and_open_items_list_oldest_first() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let mut by_name = std::collections::HashMap::new();
    for (name, days) in [
        ("recent", 3),
        ("oldest", 20),
        ("answered", 7),
        ("middle", 5),
    ] {
        let item = record(
            &app,
            &staff.token,
            &said(staff.org, name, json!({ "received_at": days_ago(days) })),
        )
        .await;
        by_name.insert(name, id_of(&item));
    }
    let answered = &by_name["answered"];
    assert_eq!(
        respond(&app, &staff.token, answered, "Done").await.status,
        200
    );

    let open = app.get("/api/v1/feedback?status=open", &staff.token).await;
    assert_eq!(open.status, 200, "{}", open.text);
    assert_eq!(field_of(&open, "said"), ["oldest", "middle", "recent"]);
    let responded = app
        .get("/api/v1/feedback?status=responded", &staff.token)
        .await;
    assert_eq!(field_of(&responded, "said"), ["answered"]);

    // Page by page, by age.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/feedback?status=open&limit=2&cursor={c}"),
            None => "/api/v1/feedback?status=open&limit=2".to_owned(),
        };
        let page = app.get(&path, &staff.token).await;
        assert_eq!(page.status, 200, "{}", page.text);
        seen.extend(field_of(&page, "said"));
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["oldest", "middle", "recent"]);

    // GraphQL lists the same open items, oldest first.
    let body = app
        .graphql(
            &staff.token,
            "{ feedbackItems(filter: { status: OPEN }) { edges { node { said status } } } }",
            json!({}),
        )
        .await;
    let said: Vec<&str> = body["data"]["feedbackItems"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("edges: {body}"))
        .iter()
        .filter_map(|e| e["node"]["said"].as_str())
        .collect();
    assert_eq!(said, ["oldest", "middle", "recent"], "{body}");

    // Closing needs a response first.
    let res = close(&app, &staff.token, &by_name["oldest"]).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.problem_code(), "conflict");
    assert!(
        res.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("respond first"),
        "{}",
        res.text
    );
    let item = app
        .get(
            &format!("/api/v1/feedback/{}", by_name["oldest"]),
            &staff.token,
        )
        .await;
    assert_eq!(item.body["status"], "open", "{}", item.text);

    // Once closed, the response stands.
    assert_eq!(close(&app, &staff.token, answered).await.status, 200);
    let again = respond(&app, &staff.token, answered, "Changed our mind").await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(close(&app, &staff.token, answered).await.status, 409);
    let body = app
        .graphql(
            &staff.token,
            r#"mutation($id: UUID!) { respondToFeedback(id: $id, input: { outcome: ACTED, weDid: "Again" }) { status } }"#,
            json!({ "id": answered }),
        )
        .await;
    assert_eq!(gql_code(&body).as_deref(), Some("conflict"), "{body}");
}

#[tokio::test]
async fn a_stale_if_match_on_a_response_is_refused() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = id_of(&record(&app, &staff.token, &said(staff.org, "Too far", json!({}))).await);
    let path = format!("/api/v1/feedback/{id}/response");
    let body = json!({ "outcome": "acted", "we_did": "Moved" });
    let send = |tag: &'static str| {
        app.client
            .put(app.url(&path))
            .bearer_auth(&staff.token)
            .header("If-Match", tag)
            .json(&body)
            .send()
    };
    let res = read(send("\"1\"").await.expect("request")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = read(send("\"1\"").await.expect("request")).await;
    assert_eq!(res.status, 412, "{}", res.text);
    // Without If-Match, nothing is written.
    let res = read(
        app.client
            .put(app.url(&path))
            .bearer_auth(&staff.token)
            .json(&body)
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(res.status, 428, "{}", res.text);
}

// --- Who records, and about what --------------------------------------------------------------

#[tokio::test]
async fn feedback_about_work_belongs_to_the_organisation_that_runs_it() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let facilitator_org = app
        .create_organisation("Peer Voices", &["facilitator"])
        .await;
    let facilitator = token(&["facilitator"], Some(facilitator_org), None);
    let id = advertised_work(
        &app,
        &staff.token,
        &work(
            "Panel",
            json!({ "facilitator_organisation_id": facilitator_org }),
        ),
    )
    .await;
    // The facilitator records it; the item is the provider's, and both read and answer it.
    let item = record(
        &app,
        &facilitator,
        &json!({ "opportunity_id": id, "said": "More breaks", "channel": "meeting",
                 "themes": ["Access", "access", "time"] }),
    )
    .await;
    assert_eq!(item["organisation_id"], staff.org.to_string());
    assert_eq!(item["opportunity_id"], id);
    assert_eq!(item["themes"], json!(["access", "time"]));
    let item_id = id_of(&item);
    for t in [&staff.token, &facilitator] {
        let res = app.get(&format!("/api/v1/feedback/{item_id}"), t).await;
        assert_eq!(res.status, 200, "{}", res.text);
        let list = app.get("/api/v1/feedback", t).await;
        assert_eq!(field_of(&list, "id"), [item_id.as_str()]);
    }
    assert_eq!(
        respond(&app, &facilitator, &item_id, "Breaks hourly")
            .await
            .status,
        200
    );

    // A given organisation must be the work's or its facilitator's.
    let other = provider(&app, "Other").await;
    let res = app
        .post(
            "/api/v1/feedback",
            &staff.token,
            &json!({ "organisation_id": other.org, "opportunity_id": id, "said": "x", "channel": "survey" }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["organisation_id"]);
    // Staff of another organisation cannot name the work, nor another organisation.
    let res = app
        .post(
            "/api/v1/feedback",
            &other.token,
            &json!({ "opportunity_id": id, "said": "x", "channel": "survey" }),
        )
        .await;
    assert_eq!(error_fields(&res), ["opportunity_id"]);
    let res = app
        .post(
            "/api/v1/feedback",
            &other.token,
            &said(staff.org, "x", json!({})),
        )
        .await;
    assert_eq!(error_fields(&res), ["organisation_id"]);
    // Work and organisations that do not exist.
    let res = app
        .post(
            "/api/v1/feedback",
            &app.admin_token,
            &json!({ "opportunity_id": Uuid::now_v7(), "said": "x", "channel": "survey" }),
        )
        .await;
    assert_eq!(error_fields(&res), ["opportunity_id"]);
    let res = app
        .post(
            "/api/v1/feedback",
            &app.admin_token,
            &said(Uuid::now_v7(), "x", json!({})),
        )
        .await;
    assert_eq!(error_fields(&res), ["organisation_id"]);
    // A person the organisation did not register.
    let (stranger, _) = app.person().await;
    let res = app
        .post(
            "/api/v1/feedback",
            &staff.token,
            &said(staff.org, "x", json!({ "participant_id": stranger })),
        )
        .await;
    assert_eq!(error_fields(&res), ["participant_id"]);
}

#[tokio::test]
async fn a_repeated_post_with_the_same_idempotency_key_records_one_item() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let body = said(staff.org, "Once only", json!({}));
    let first = app
        .post_with_key("/api/v1/feedback", &staff.token, "fb-1", &body)
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = app
        .post_with_key("/api/v1/feedback", &staff.token, "fb-1", &body)
        .await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.body["id"], first.body["id"]);
    let list = app.get("/api/v1/feedback", &staff.token).await;
    assert_eq!(field_of(&list, "said"), ["Once only"]);
}

// --- Privacy --------------------------------------------------------------------------------

#[tokio::test]
async fn what_people_said_is_read_only_by_their_organisation_themselves_and_admins() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let sam = registered_person(&app, &staff, json!({ "roles": ["lived_experience"] })).await;
    let named = id_of(
        &record(
            &app,
            &staff.token,
            &said(
                staff.org,
                "Sam said the forms are long",
                json!({ "participant_id": sam.id }),
            ),
        )
        .await,
    );
    let own = record(
        &app,
        &sam.token,
        &said(staff.org, "My own words", json!({})),
    )
    .await;
    assert_eq!(own["participant_id"], sam.id.to_string());
    let anonymous = record(
        &app,
        &sam.token,
        &said(staff.org, "Nobody listens", json!({ "anonymous": true })),
    )
    .await;
    assert_eq!(anonymous["participant_id"], Value::Null);
    let anonymous = id_of(&anonymous);

    let other = provider(&app, "Other provider").await;
    let other_commissioner = token(
        &["commissioner"],
        Some(
            app.create_organisation("Other council", &["commissioner"])
                .await,
        ),
        None,
    );
    let someone = participant(&app).await;

    // Staff of another organisation, and another person: not found, and nothing listed.
    for t in [&other.token, &other_commissioner, &someone.token] {
        for id in [&named, &anonymous] {
            let res = app.get(&format!("/api/v1/feedback/{id}"), t).await;
            assert_eq!(res.status, 404, "{}", res.text);
        }
        let list = app.get("/api/v1/feedback", t).await;
        assert_eq!(list.status, 200, "{}", list.text);
        assert!(field_of(&list, "id").is_empty(), "{}", list.text);
        let body = app
            .graphql(
                t,
                "query($id: UUID!) { feedbackItem(id: $id) { said } }",
                json!({ "id": named }),
            )
            .await;
        assert_eq!(gql_code(&body).as_deref(), Some("not_found"), "{body}");
        let body = app
            .graphql(
                t,
                "{ feedbackItems { edges { node { said } } } }",
                json!({}),
            )
            .await;
        assert_eq!(body["data"]["feedbackItems"]["edges"], json!([]), "{body}");
    }
    assert_eq!(respond(&app, &other.token, &named, "x").await.status, 404);

    // The person reads what carries their name, never the anonymous item (nothing ties it to
    // them).
    let res = app
        .get(&format!("/api/v1/feedback/{named}"), &sam.token)
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = app
        .get(&format!("/api/v1/feedback/{anonymous}"), &sam.token)
        .await;
    assert_eq!(res.status, 404, "{}", res.text);
    let mine = app.get("/api/v1/feedback", &sam.token).await;
    assert_eq!(
        field_of(&mine, "said"),
        ["Sam said the forms are long", "My own words"]
    );
    // A person cannot answer it, nor give feedback in someone else's name.
    assert_eq!(respond(&app, &sam.token, &named, "x").await.status, 403);
    let res = app
        .post(
            "/api/v1/feedback",
            &sam.token,
            &said(staff.org, "x", json!({ "participant_id": someone.id })),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);

    // The organisation's own staff and admins read all three.
    for t in [&staff.token, &app.admin_token] {
        let list = app.get("/api/v1/feedback", t).await;
        assert_eq!(field_of(&list, "id").len(), 3, "{}", list.text);
    }

    // Figures are for the organisation's staff and admins only.
    let query = format!("organisation_id={}", staff.org);
    for t in [&other_commissioner, &other.token] {
        let res = stats(&app, t, &query).await;
        assert_eq!(res.status, 404, "{}", res.text);
        let res = app
            .get(&format!("/api/v1/evaluations/averages?{query}"), t)
            .await;
        assert_eq!(res.status, 404, "{}", res.text);
    }
    assert_eq!(stats(&app, &sam.token, &query).await.status, 403);
    let body = app
        .graphql(
            &other_commissioner,
            "query($org: UUID!) { feedbackStats(organisationId: $org) { received } }",
            json!({ "org": staff.org }),
        )
        .await;
    assert_eq!(gql_code(&body).as_deref(), Some("not_found"), "{body}");
    for t in [&staff.token, &app.admin_token] {
        let res = stats(&app, t, &query).await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(res.body["received"], 3);
    }
}

#[tokio::test]
async fn a_response_is_written_as_an_event_without_what_was_said() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let sam = registered_person(&app, &staff, json!({ "roles": ["lived_experience"] })).await;
    let id = id_of(
        &record(
            &app,
            &staff.token,
            &said(
                staff.org,
                "A private remark",
                json!({ "participant_id": sam.id }),
            ),
        )
        .await,
    );
    assert_eq!(
        respond(&app, &staff.token, &id, "We changed the rota")
            .await
            .status,
        200
    );
    assert_eq!(close(&app, &staff.token, &id).await.status, 200);

    let events = app
        .get("/api/v1/events?type=feedback.responded", &staff.token)
        .await;
    assert_eq!(events.status, 200, "{}", events.text);
    let items = events.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{}", events.text);
    assert_eq!(items[0]["type"], "feedback.responded");
    assert_eq!(items[0]["participant_id"], sam.id.to_string());
    assert_eq!(items[0]["data"]["feedback_item_id"], id);
    assert_eq!(items[0]["data"]["outcome"], "acted");
    assert_eq!(items[0]["data"]["we_did"], "We changed the rota");
    assert!(!events.text.contains("A private remark"), "{}", events.text);
    let closed = app
        .get("/api/v1/events?type=feedback.closed", &staff.token)
        .await;
    assert_eq!(
        closed.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        closed.text
    );
    // Another organisation's staff do not see it.
    let other = provider(&app, "Other").await;
    let theirs = app
        .get("/api/v1/events?type=feedback.responded", &other.token)
        .await;
    assert_eq!(theirs.body["items"], json!([]), "{}", theirs.text);
}

// --- Evidence -------------------------------------------------------------------------------

#[tokio::test]
async fn running_work_with_feedback_in_the_last_90_days_has_continuous_feedback() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(&app, &staff.token, &work("Service review", json!({}))).await;
    assert_eq!(
        move_work(&app, &staff.token, &id, "start").await.status,
        200
    );
    let criterion = "clear_ending_or_continuous_feedback";

    let v = verdict(&app, &staff.token, &id).await;
    assert!(v.failing.contains(&criterion.to_owned()), "{}", v.evidence);

    // Feedback from long ago does not keep the work alive.
    record(
        &app,
        &staff.token,
        &json!({ "opportunity_id": id, "said": "Old", "channel": "survey", "received_at": days_ago(120) }),
    )
    .await;
    let v = verdict(&app, &staff.token, &id).await;
    assert!(v.failing.contains(&criterion.to_owned()), "{}", v.evidence);
    assert!(
        v.reason(criterion).contains("120 days ago"),
        "{}",
        v.reason(criterion)
    );

    // Feedback in the last 90 days does.
    record(
        &app,
        &staff.token,
        &json!({ "opportunity_id": id, "said": "Recent", "channel": "survey", "received_at": days_ago(10) }),
    )
    .await;
    let v = verdict(&app, &staff.token, &id).await;
    assert!(!v.failing.contains(&criterion.to_owned()), "{}", v.evidence);
    assert!(
        v.reason(criterion).contains("10 days ago"),
        "{}",
        v.reason(criterion)
    );
    let body = app
        .graphql(
            &staff.token,
            "query($id: UUID!) { opportunity(id: $id) { evidence { criteria { criterion met } } } }",
            json!({ "id": id }),
        )
        .await;
    let met = body["data"]["opportunity"]["evidence"]["criteria"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["criterion"] == "CLEAR_ENDING_OR_CONTINUOUS_FEEDBACK")
        })
        .map(|c| c["met"].clone());
    assert_eq!(met, Some(json!(true)), "{body}");
}

// --- Evaluations ----------------------------------------------------------------------------

fn scores(org: Uuid, s: [i64; 5]) -> Value {
    json!({ "organisation_id": org, "empathy": s[0], "inclusion": s[1], "honesty": s[2],
            "working_together": s[3], "personalisation": s[4] })
}

#[tokio::test]
async fn a_score_outside_one_to_five_is_refused_naming_the_value() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let res = app
        .post(
            "/api/v1/evaluations",
            &staff.token,
            &scores(staff.org, [0, 3, 3, 3, 3]),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["empathy"]);
    let res = app
        .post(
            "/api/v1/evaluations",
            &staff.token,
            &scores(staff.org, [3, 3, 6, 3, 3]),
        )
        .await;
    assert_eq!(error_fields(&res), ["honesty"]);
    let body = app
        .graphql(
            &staff.token,
            "mutation($org: UUID!) { recordEvaluation(input: { organisationId: $org, empathy: 3, inclusion: 3, honesty: 3, workingTogether: 3, personalisation: 6 }) { id } }",
            json!({ "org": staff.org }),
        )
        .await;
    assert_eq!(
        gql_code(&body).as_deref(),
        Some("validation_failed"),
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["errors"][0]["field"], "personalisation",
        "{body}"
    );
    let list = app.get("/api/v1/evaluations", &staff.token).await;
    assert!(
        field_of(&list, "id").is_empty(),
        "nothing stored: {}",
        list.text
    );
}

#[tokio::test]
async fn averages_are_per_value_over_the_evaluations_of_the_period() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let person = participant(&app).await;
    let res = app
        .post(
            "/api/v1/evaluations",
            &staff.token,
            &scores(staff.org, [5, 4, 3, 2, 1]),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let mut theirs = scores(staff.org, [3, 4, 5, 2, 2]);
    theirs["anonymous"] = json!(true);
    theirs["comment"] = json!("Kind people");
    let res = app
        .post("/api/v1/evaluations", &person.token, &theirs)
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["participant_id"], Value::Null);

    let res = app
        .get(
            &format!("/api/v1/evaluations/averages?organisation_id={}", staff.org),
            &staff.token,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let a = &res.body;
    assert_eq!(a["count"], 2);
    for (field, expected) in [
        ("empathy", 4.0),
        ("inclusion", 4.0),
        ("honesty", 4.0),
        ("working_together", 2.0),
        ("personalisation", 1.5),
        ("overall", 3.1),
    ] {
        assert!(close_to(&a[field], expected), "{field}: {}", res.text);
    }
    let list = app.get("/api/v1/evaluations", &staff.token).await;
    assert_eq!(field_of(&list, "id").len(), 2, "{}", list.text);
    // The anonymous giver does not read it back: nothing ties it to them.
    let mine = app.get("/api/v1/evaluations", &person.token).await;
    assert!(field_of(&mine, "id").is_empty(), "{}", mine.text);

    // A period with none: no data, not zeros.
    let res = app
        .get(
            &format!(
                "/api/v1/evaluations/averages?organisation_id={}&from=2020-01-01&to=2020-07-01",
                staff.org
            ),
            &staff.token,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["count"], 0);
    for field in [
        "empathy",
        "inclusion",
        "honesty",
        "working_together",
        "personalisation",
        "overall",
    ] {
        assert_eq!(res.body[field], Value::Null, "{field}: {}", res.text);
    }

    let body = app
        .graphql(
            &staff.token,
            "{ evaluationAverages { count empathy personalisation overall } evaluations { edges { node { empathy } } } }",
            json!({}),
        )
        .await;
    let a = &body["data"]["evaluationAverages"];
    assert_eq!(a["count"], 2, "{body}");
    assert!(close_to(&a["personalisation"], 1.5), "{body}");
    assert!(close_to(&a["overall"], 3.1), "{body}");
    assert_eq!(
        body["data"]["evaluations"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{body}"
    );
}

// --- Self-assessment ------------------------------------------------------------------------

fn answers(commitment: i64) -> Value {
    json!({
        "period_from": "2025-04-01", "period_to": "2026-04-01",
        "current_level": "involvement", "staff_knowledge": 3, "staff_confidence": 2,
        "opportunities_completed": 4, "successes": "The peer panel",
        "barriers": ["jargon", "no_time", "jargon"], "commitment": commitment,
        "prepared_to_pay": "partly", "target_level": "co_production"
    })
}

fn assessments_path(org: Uuid) -> String {
    format!("/api/v1/organisations/{org}/self-assessments")
}

#[tokio::test]
async fn each_self_assessment_is_kept_and_the_latest_is_the_newest() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let path = assessments_path(staff.org);
    let none = app.get(&format!("{path}/latest"), &staff.token).await;
    assert_eq!(none.status, 404, "{}", none.text);

    let first = app.post(&path, &staff.token, &answers(6)).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["barriers"], json!(["no_time", "jargon"]));
    let second = app.post(&path, &staff.token, &answers(8)).await;
    assert_eq!(second.status, 201, "{}", second.text);
    let location = second.header("location").expect("a location");
    assert_eq!(app.get(&location, &staff.token).await.body["commitment"], 8);

    let all = app.get(&path, &staff.token).await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(
        field_of(&all, "id"),
        [
            first.body["id"].as_str().unwrap_or_default(),
            second.body["id"].as_str().unwrap_or_default()
        ]
    );
    let latest = app.get(&format!("{path}/latest"), &staff.token).await;
    assert_eq!(latest.status, 200, "{}", latest.text);
    assert_eq!(latest.body["id"], second.body["id"]);
    assert_eq!(latest.body["commitment"], 8);

    let res = app.post(&path, &staff.token, &answers(11)).await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["commitment"]);

    // Another organisation's staff see nothing of it.
    let other = provider(&app, "Other").await;
    for p in [path.clone(), format!("{path}/latest")] {
        assert_eq!(app.get(&p, &other.token).await.status, 404);
    }
    assert_eq!(app.post(&path, &other.token, &answers(5)).await.status, 404);
    assert_eq!(app.get(&path, &app.admin_token).await.status, 200);

    // GraphQL: the same list, and the same refusal.
    let body = app
        .graphql(
            &staff.token,
            "query($org: UUID!) { selfAssessments(organisationId: $org) { edges { node { commitment barriers } } } latestSelfAssessment(organisationId: $org) { commitment } }",
            json!({ "org": staff.org }),
        )
        .await;
    let commitments: Vec<i64> = body["data"]["selfAssessments"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter_map(|e| e["node"]["commitment"].as_i64())
        .collect();
    assert_eq!(commitments, [6, 8], "{body}");
    assert_eq!(
        body["data"]["latestSelfAssessment"]["commitment"], 8,
        "{body}"
    );
    let body = app
        .graphql(
            &staff.token,
            r#"mutation($org: UUID!) { submitSelfAssessment(organisationId: $org, input: {
                periodFrom: "2025-04-01", periodTo: "2026-04-01", currentLevel: INVOLVEMENT,
                staffKnowledge: 3, staffConfidence: 3, opportunitiesCompleted: 1, commitment: 11,
                preparedToPay: YES, targetLevel: CO_PRODUCTION }) { id } }"#,
            json!({ "org": staff.org }),
        )
        .await;
    assert_eq!(
        gql_code(&body).as_deref(),
        Some("validation_failed"),
        "{body}"
    );
    let body = app
        .graphql(
            &other.token,
            "query($org: UUID!) { selfAssessments(organisationId: $org) { edges { node { commitment } } } }",
            json!({ "org": staff.org }),
        )
        .await;
    assert_eq!(gql_code(&body).as_deref(), Some("not_found"), "{body}");
}

#[tokio::test]
async fn a_persons_feedback_is_in_their_export_and_stays_anonymous_after_erasure() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let (person, person_token) = app.person().await;
    let item = id_of(
        &record(
            &app,
            &person_token,
            &said(staff.org, "The letters are hard to read", json!({})),
        )
        .await,
    );
    let res = app
        .post(
            "/api/v1/evaluations",
            &person_token,
            &json!({ "organisation_id": staff.org, "empathy": 4, "inclusion": 3, "honesty": 5, "working_together": 4, "personalisation": 2 }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let export = app
        .get(
            &format!("/api/v1/participants/{person}/export"),
            &person_token,
        )
        .await;
    assert_eq!(export.status, 200, "{}", export.text);
    assert_eq!(export.body["feedback"][0]["id"], item, "{}", export.text);
    assert_eq!(
        export.body["evaluations"][0]["honesty"], 5,
        "{}",
        export.text
    );
    let res = app
        .post(
            &format!("/api/v1/participants/{person}/erasure"),
            &person_token,
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    // The organisation keeps what was said, no longer linked to anyone.
    let kept = app
        .get(&format!("/api/v1/feedback/{item}"), &staff.token)
        .await;
    assert_eq!(kept.status, 200, "{}", kept.text);
    assert_eq!(kept.body["said"], "The letters are hard to read");
    assert!(kept.body["participant_id"].is_null(), "{}", kept.text);
    let evaluations = app
        .get(
            &format!("/api/v1/evaluations?organisation_id={}", staff.org),
            &staff.token,
        )
        .await;
    assert!(
        evaluations.body["items"][0]["participant_id"].is_null(),
        "{}",
        evaluations.text
    );
}

#[tokio::test]
async fn the_person_who_gave_feedback_is_told_what_was_done_in_their_updates() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let (person, person_token) = app.person().await;
    let item = id_of(
        &record(
            &app,
            &person_token,
            &said(staff.org, "Nobody tells us what happens next", json!({})),
        )
        .await,
    );
    let res = respond(
        &app,
        &staff.token,
        &item,
        "A newsletter after every meeting",
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(close(&app, &staff.token, &item).await.status, 200);
    let updates = app
        .get(
            &format!("/api/v1/participants/{person}/updates"),
            &person_token,
        )
        .await;
    assert_eq!(updates.status, 200, "{}", updates.text);
    let items = updates.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let kinds: Vec<&str> = items.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        kinds,
        ["feedback.responded", "feedback.closed"],
        "{}",
        updates.text
    );
    assert_eq!(items[0]["data"]["feedback_item_id"], item);
    assert_eq!(
        items[0]["data"]["we_did"],
        "A newsletter after every meeting"
    );
    // Someone else sees none of it.
    let (_, other_token) = app.person().await;
    let theirs = app.get("/api/v1/events", &other_token).await;
    assert_eq!(theirs.body["items"].as_array().map(Vec::len), Some(0));
}
