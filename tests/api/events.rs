//! Events: every change that matters outside is written to the outbox with the change, read back
//! by those who may see it (staff of the organisation, the person it concerns, admins), and a
//! person's updates tell them what happened to their places, claims and work.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{execute_sql, spawn_app, stored_text, token, TestApp};
use crate::opportunities::{create_work, move_work, provider, work, Staff};

const EMAIL: &str = "ada@example.org";

struct World {
    app: TestApp,
    staff: Staff,
    work: String,
    ada: Uuid,
    ada_token: String,
    bea: Uuid,
    bea_token: String,
}

/// Paid work with two people who took a place, a session, and one claim of Ada's paid.
async fn world() -> World {
    let app = spawn_app().await;
    let staff = provider(&app, "Camden Recovery Network").await;
    let ada = app
        .register_participant(
            &staff.token,
            json!({ "name": "Ada Lovelace", "roles": ["lived_experience"], "contact_details": { "email": EMAIL } }),
        )
        .await;
    let bea = app
        .register_participant(
            &staff.token,
            json!({ "name": "Bea Smith", "roles": ["lived_experience"] }),
        )
        .await;
    let work = create_work(
        &app,
        &staff.token,
        &work("Peer panel", json!({ "paid": true })),
    )
    .await;
    assert_eq!(
        move_work(&app, &staff.token, &work, "advertise")
            .await
            .status,
        200
    );
    for person in [ada, bea] {
        let res = app
            .post(
                &format!("/api/v1/opportunities/{work}/members"),
                &staff.token,
                &json!({ "participant_id": person, "joined_at": "2026-02-01T09:00:00Z" }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    assert_eq!(
        move_work(&app, &staff.token, &work, "start").await.status,
        200
    );
    let res = app
        .post(
            &format!("/api/v1/opportunities/{work}/sessions"),
            &staff.token,
            &json!({
                "starts_at": "2026-03-10T10:00:00Z",
                "duration_minutes": 120,
                "format": "in_person",
                "attendance": [
                    { "participant_id": ada, "minutes": 120, "participation": "participated" },
                    { "participant_id": bea, "minutes": 120, "participation": "participated" }
                ],
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let session = res.body["id"].as_str().expect("session").to_owned();
    let ada_token = token(&["participant"], None, Some(ada));
    let res = app
        .post(
            "/api/v1/claims",
            &ada_token,
            &json!({ "opportunity_id": work, "lines": [{ "kind": "participation", "session_id": session, "minutes": 120 }] }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let claim = res.body["id"].as_str().expect("claim").to_owned();
    for (verb, who, body) in [
        ("submit", &ada_token, json!({})),
        ("approve", &staff.token, json!({})),
        ("pay", &staff.token, json!({ "method": "bank_transfer" })),
    ] {
        let res = app
            .post(&format!("/api/v1/claims/{claim}/{verb}"), who, &body)
            .await;
        assert_eq!(res.status, 200, "{verb}: {}", res.text);
    }
    World {
        app,
        staff,
        work,
        ada,
        ada_token,
        bea,
        bea_token: token(&["participant"], None, Some(bea)),
    }
}

fn types(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|e| e["type"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn every_change_that_matters_is_written_to_the_outbox_in_order() {
    let w = world().await;
    // Ada withdraws consent she gave to the work's members.
    for granted in [true, false] {
        let res = w
            .app
            .post(
                &format!("/api/v1/participants/{}/consents", w.ada),
                &w.ada_token,
                &json!({ "field": "email", "audience_kind": "opportunity", "audience_id": w.work, "granted": granted }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    assert_eq!(
        move_work(&w.app, &w.staff.token, &w.work, "end")
            .await
            .status,
        200
    );
    let list = w.app.get("/api/v1/events?limit=200", &w.staff.token).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(
        types(&list.body),
        [
            "opportunity.advertised",
            "membership.accepted",
            "membership.accepted",
            "opportunity.started",
            "session.posted",
            "claim.submitted",
            "claim.approved",
            "claim.paid",
            "consent.withdrawn",
            "opportunity.ended",
        ],
        "{}",
        list.text
    );
    let items = list.body["items"].as_array().cloned().unwrap_or_default();
    let paid = items
        .iter()
        .find(|e| e["type"] == "claim.paid")
        .expect("claim.paid");
    assert_eq!(paid["participant_id"], w.ada.to_string());
    assert_eq!(paid["organisation_id"], w.staff.org.to_string());
    assert_eq!(paid["data"]["status"], "paid");
    assert_eq!(paid["data"]["payable_pence"], 2000);
    // No body, anywhere in the outbox, holds a contact detail.
    assert!(!list.text.contains(EMAIL), "{}", list.text);
    let stored = stored_text(&w.app.database_url, "SELECT data AS t FROM events");
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|d| !d.contains(EMAIL)));
    // Filters narrow it.
    let paid_only = w
        .app
        .get("/api/v1/events?type=claim.paid", &w.staff.token)
        .await;
    assert_eq!(types(&paid_only.body), ["claim.paid"]);
    // Pages follow the cursor through every event once.
    let mut seen = Vec::new();
    let mut path = "/api/v1/events?limit=3".to_owned();
    loop {
        let page = w.app.get(&path, &w.staff.token).await;
        assert_eq!(page.status, 200, "{}", page.text);
        seen.extend(types(&page.body));
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/events?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, types(&list.body));
}

#[tokio::test]
async fn a_refused_or_failed_change_writes_no_event() {
    let w = world().await;
    let count = |app: &TestApp| stored_text(&app.database_url, "SELECT id AS t FROM events").len();
    let before = count(&w.app);
    // Refused moves and a second payment leave the outbox as it was.
    assert_eq!(
        move_work(&w.app, &w.staff.token, &w.work, "advertise")
            .await
            .status,
        409
    );
    let claim = stored_text(&w.app.database_url, "SELECT id AS t FROM claims");
    let res = w
        .app
        .post(
            &format!("/api/v1/claims/{}/pay", claim[0]),
            &w.staff.token,
            &json!({ "method": "bank_transfer" }),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(count(&w.app), before);
    // When the event cannot be written, the change is not stored either.
    execute_sql(
        &w.app.database_url,
        "ALTER TABLE events RENAME TO events_away",
    );
    let res = move_work(&w.app, &w.staff.token, &w.work, "end").await;
    assert_eq!(res.status, 500, "{}", res.text);
    execute_sql(
        &w.app.database_url,
        "ALTER TABLE events_away RENAME TO events",
    );
    let work = w
        .app
        .get(&format!("/api/v1/opportunities/{}", w.work), &w.staff.token)
        .await;
    assert_eq!(work.body["status"], "running", "{}", work.text);
    assert_eq!(count(&w.app), before);
}

#[tokio::test]
async fn a_person_sees_what_happened_to_them_and_their_work_and_nothing_of_anyone_else() {
    let w = world().await;
    let ada = w
        .app
        .get(
            &format!("/api/v1/participants/{}/updates", w.ada),
            &w.ada_token,
        )
        .await;
    assert_eq!(ada.status, 200, "{}", ada.text);
    assert_eq!(
        types(&ada.body),
        [
            "membership.accepted",
            "opportunity.started",
            "session.posted",
            "claim.submitted",
            "claim.approved",
            "claim.paid",
        ],
        "{}",
        ada.text
    );
    let items = ada.body["items"].as_array().cloned().unwrap_or_default();
    assert!(items
        .iter()
        .filter(|e| e["participant_id"].is_string())
        .all(|e| e["participant_id"] == w.ada.to_string()));
    let bea = w
        .app
        .get(
            &format!("/api/v1/participants/{}/updates", w.bea),
            &w.bea_token,
        )
        .await;
    assert_eq!(
        types(&bea.body),
        [
            "membership.accepted",
            "opportunity.started",
            "session.posted"
        ],
        "{}",
        bea.text
    );
    // Bea cannot read Ada's updates, nor can staff; /events shows a participant only theirs.
    for t in [&w.bea_token, &w.staff.token] {
        let res = w
            .app
            .get(&format!("/api/v1/participants/{}/updates", w.ada), t)
            .await;
        assert_eq!(res.status, 404, "{}", res.text);
    }
    let own = w.app.get("/api/v1/events", &w.bea_token).await;
    assert_eq!(types(&own.body), types(&bea.body));
    let admin = w
        .app
        .get(
            &format!("/api/v1/participants/{}/updates", w.ada),
            &w.app.admin_token,
        )
        .await;
    assert_eq!(types(&admin.body), types(&ada.body));
    // The same through GraphQL.
    let query = "query($id: UUID!) { participantUpdates(participantId: $id, first: 50) { edges { node { type participantId data } } } }";
    let body = w
        .app
        .graphql(&w.ada_token, query, json!({ "id": w.ada }))
        .await;
    let nodes = body["data"]["participantUpdates"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(nodes.len(), 6, "{body}");
    assert_eq!(nodes[5]["node"]["type"], "CLAIM_PAID", "{body}");
    let body = w
        .app
        .graphql(&w.bea_token, query, json!({ "id": w.ada }))
        .await;
    assert_eq!(
        crate::helpers::gql_code(&body).as_deref(),
        Some("not_found"),
        "{body}"
    );
}

#[tokio::test]
async fn another_organisation_sees_none_of_the_events() {
    let w = world().await;
    let other = provider(&w.app, "Elsewhere Trust").await;
    let commissioner_org = w
        .app
        .create_organisation("Borough Commissioning", &["commissioner"])
        .await;
    let commissioner = token(&["commissioner"], Some(commissioner_org), None);
    for t in [&other.token, &commissioner] {
        let list = w.app.get("/api/v1/events", t).await;
        assert_eq!(list.status, 200, "{}", list.text);
        assert_eq!(types(&list.body), Vec::<String>::new(), "{}", list.text);
        let res = w
            .app
            .get(
                &format!("/api/v1/events?organisation_id={}", w.staff.org),
                t,
            )
            .await;
        assert_eq!(res.status, 403, "{}", res.text);
        let body = w
            .app
            .graphql(
                t,
                "{ events(first: 50) { edges { node { id type } } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            body["data"]["events"]["edges"].as_array().map(Vec::len),
            Some(0),
            "{body}"
        );
    }
    // Staff of the organisation see them through GraphQL too, with the type's GraphQL name.
    let body = w
        .app
        .graphql(
            &w.staff.token,
            "{ events(first: 50, filter: { type: CLAIM_PAID }) { edges { node { type organisationId data } } } }",
            json!({}),
        )
        .await;
    let edges = body["data"]["events"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(edges.len(), 1, "{body}");
    assert_eq!(edges[0]["node"]["data"]["status"], "paid", "{body}");
}
