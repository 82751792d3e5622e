//! Who sees what of a piece of work (API.md), tried through both doors by a member, another
//! organisation's staff and a participant of other work: the evidence is for those who run the
//! work, its members and admins; a member's experience and conflict-of-interest details are for
//! the person and the staff who run the work.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::opportunities::{advertised_work, apply, participant, provider, work, Person, Staff};
use crate::sessions::{days_ago, held, sessions_path};

/// An advertised interview panel with two accepted members who have declared their interests
/// (the first with a conflict), and one past session.
async fn panel(app: &TestApp) -> (Staff, String, Vec<Person>) {
    let staff = provider(app, "Provider").await;
    let id = advertised_work(
        app,
        &staff.token,
        &work(
            "Interview panel",
            json!({ "kind": "interview_panel", "paid": true, "claimed_mode": "involvement" }),
        ),
    )
    .await;
    let mut people = Vec::new();
    for (i, conflict) in [true, false].into_iter().enumerate() {
        let p = participant(app).await;
        let res = apply(app, &p, &id).await;
        assert_eq!(res.status, 201, "{}", res.text);
        let member = res.body["id"].as_str().expect("id").to_owned();
        let details = conflict.then_some("The candidate is my sister");
        let res = app
            .post(
                &format!("/api/v1/opportunities/{id}/members/{member}/interests"),
                &p.token,
                &json!({ "has_conflict": conflict, "details": details }),
            )
            .await;
        assert_eq!(res.status, 200, "member {i}: {}", res.text);
        people.push(p);
    }
    let res = app
        .post(
            &sessions_path(&id),
            &staff.token,
            &json!({ "starts_at": chrono::Utc::now() + chrono::Duration::hours(1),
                     "duration_minutes": 60, "format": "virtual" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    (staff, id, people)
}

fn by_participant<'a>(items: &'a Value, person: &Person) -> &'a Value {
    items
        .as_array()
        .and_then(|list| {
            list.iter()
                .find(|m| m["participant_id"] == person.id.to_string())
        })
        .unwrap_or_else(|| panic!("{} listed in {items}", person.id))
}

#[tokio::test]
async fn the_evidence_of_advertised_work_is_only_for_those_who_run_it_its_members_and_admins() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(&app, &staff.token, &work("Open", json!({ "paid": true }))).await;
    let member = participant(&app).await;
    assert_eq!(apply(&app, &member, &id).await.status, 201);
    held(
        &app,
        &staff,
        &id,
        days_ago(0),
        std::slice::from_ref(&member),
        &[],
    )
    .await;
    let other_staff = provider(&app, "Other").await;
    let stranger = participant(&app).await;

    let path = format!("/api/v1/opportunities/{id}");
    let query = "query($id: UUID!) { opportunity(id: $id) { title evidence { evidencedLevel } } }";
    for (who, token, sees) in [
        ("its staff", &staff.token, true),
        ("a member", &member.token, true),
        ("an admin", &app.admin_token, true),
        ("another organisation's staff", &other_staff.token, false),
        ("a participant of other work", &stranger.token, false),
    ] {
        let res = app.get(&path, token).await;
        assert_eq!(res.status, 200, "{who}: {}", res.text);
        assert_eq!(res.body["title"], "Open", "{who} sees the advert");
        assert_eq!(
            res.body["evidence"].is_object(),
            sees,
            "{who}, REST: {}",
            res.text
        );
        let body = app.graphql(token, query, json!({ "id": id })).await;
        assert_eq!(
            body["data"]["opportunity"]["title"], "Open",
            "{who}: {body}"
        );
        assert_eq!(
            body["data"]["opportunity"]["evidence"].is_object(),
            sees,
            "{who}, GraphQL: {body}"
        );
        let list = app
            .graphql(
                token,
                "{ opportunities(first: 10) { edges { node { id evidence { evidencedLevel } } } } }",
                json!({}),
            )
            .await;
        let listed = list["data"]["opportunities"]["edges"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e["node"]["id"] == id))
            .unwrap_or_else(|| panic!("{who} lists the advert: {list}"));
        assert_eq!(
            listed["node"]["evidence"].is_object(),
            sees,
            "{who}: {list}"
        );
    }
}

#[tokio::test]
async fn members_see_each_others_roles_but_not_their_experience_or_interests() {
    let app = spawn_app().await;
    let (staff, id, people) = panel(&app).await;
    let path = format!("/api/v1/opportunities/{id}/members");

    // The member with no conflict looks at the group.
    let res = app.get(&path, &people[1].token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let other = by_participant(&res.body["items"], &people[0]);
    assert_eq!(other["role"], "member");
    assert_eq!(other["experience"], Value::Null, "{other}");
    assert_eq!(other["interests"], Value::Null, "{other}");
    assert_eq!(other["interests_declared"], Value::Null, "{other}");
    assert!(!res.text.contains("my sister"), "{}", res.text);
    let own = by_participant(&res.body["items"], &people[1]);
    assert_eq!(own["experience"], "lived_experience", "their own: {own}");
    assert_eq!(own["interests"]["has_conflict"], false);

    // The staff who run it see everything.
    let res = app.get(&path, &staff.token).await;
    let first = by_participant(&res.body["items"], &people[0]);
    assert_eq!(first["experience"], "lived_experience");
    assert_eq!(first["interests"]["details"], "The candidate is my sister");

    // GraphQL agrees.
    let query = "query($id: UUID!) { opportunity(id: $id) { members { edges { node {
        participantId role experience interestsDeclared hasConflictOfInterest conflictOfInterestDetails } } } } }";
    let body = app
        .graphql(&people[1].token, query, json!({ "id": id }))
        .await;
    let nodes: Vec<&Value> = body["data"]["opportunity"]["members"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| &e["node"])
        .collect();
    let other = nodes
        .iter()
        .find(|n| n["participantId"] == people[0].id.to_string())
        .expect("the other member");
    assert_eq!(other["role"], "MEMBER");
    for field in [
        "experience",
        "interestsDeclared",
        "hasConflictOfInterest",
        "conflictOfInterestDetails",
    ] {
        assert_eq!(other[field], Value::Null, "{field}: {body}");
    }
    let body = app.graphql(&staff.token, query, json!({ "id": id })).await;
    assert!(
        body.to_string().contains("The candidate is my sister"),
        "staff see it: {body}"
    );
    assert!(body.to_string().contains("\"hasConflictOfInterest\":true"));
}

#[tokio::test]
async fn members_sessions_attendance_and_decisions_come_a_page_at_a_time() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(&app, &staff.token, &work("Big group", json!({}))).await;
    let mut people = Vec::new();
    for _ in 0..3 {
        let p = participant(&app).await;
        assert_eq!(apply(&app, &p, &id).await.status, 201);
        people.push(p);
    }
    for days in [3, 2, 1] {
        held(
            &app,
            &staff,
            &id,
            days_ago(0) + chrono::Duration::hours(days),
            &people,
            &[("One", true), ("Two", true), ("Three", true)],
        )
        .await;
    }
    let sessions = app.get(&sessions_path(&id), &staff.token).await;
    let sid = sessions.body["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for path in [
        format!("/api/v1/opportunities/{id}/members"),
        sessions_path(&id),
        format!("/api/v1/sessions/{sid}/attendance"),
        format!("/api/v1/sessions/{sid}/decisions"),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}?limit=2&cursor={c}"),
                None => format!("{path}?limit=2"),
            };
            let res = app.get(&url, &staff.token).await;
            assert_eq!(res.status, 200, "{url}: {}", res.text);
            let items = res.body["items"].as_array().expect("items").clone();
            assert!(items.len() <= 2, "{url}");
            seen.extend(items.into_iter().map(|i| i["id"].clone()));
            match res.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 3, "{path}: every item once");
        // Every item once: three distinct ids (a repeat anywhere, not only in a row, fails).
        let distinct: std::collections::BTreeSet<String> =
            seen.iter().map(|v| v.to_string()).collect();
        assert_eq!(distinct.len(), 3, "{path}: {seen:?}");
        let res = app.get(&format!("{path}?limit=201"), &staff.token).await;
        assert_eq!(res.status, 422, "{path}: {}", res.text);
    }
    // GraphQL's nested pages follow `first` and `after`.
    let body = app
        .graphql(
            &staff.token,
            "query($id: UUID!) { opportunity(id: $id) { members(first: 2) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }",
            json!({ "id": id }),
        )
        .await;
    let members = &body["data"]["opportunity"]["members"];
    assert_eq!(members["edges"].as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(members["pageInfo"]["hasNextPage"], true);
    let body = app
        .graphql(
            &staff.token,
            "query($id: UUID!, $after: String) { opportunity(id: $id) { members(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage } } } }",
            json!({ "id": id, "after": members["pageInfo"]["endCursor"] }),
        )
        .await;
    let rest = &body["data"]["opportunity"]["members"];
    assert_eq!(rest["edges"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn one_session_takes_at_most_a_thousand_attendance_rows() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(&app, &staff.token, &work("Huge", json!({}))).await;
    let rows: Vec<Value> = (0..1001)
        .map(|_| json!({ "participant_id": uuid::Uuid::now_v7(), "minutes": 10, "participation": "attended" }))
        .collect();
    let res = app
        .post(
            &sessions_path(&id),
            &staff.token,
            &json!({ "starts_at": days_ago(1), "duration_minutes": 60, "format": "virtual",
                     "attendance": rows }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "attendance");
    assert!(res.text.contains("1000"), "{}", res.text);
}

#[tokio::test]
async fn costly_graphql_pages_are_refused_before_they_run() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    // 200 opportunities, each with 200 members and 200 sessions of 200 attendance rows.
    let body = app
        .graphql(
            &staff.token,
            "{ opportunities(first: 200) { edges { node { members(first: 200) { edges { node { id } } } sessions(first: 200) { edges { node { attendance(first: 200) { edges { node { id } } } } } } } } } }",
            json!({}),
        )
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("complex")),
        "{body}"
    );
}
