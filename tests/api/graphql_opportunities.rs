//! Opportunities through GraphQL: the same rules as REST, and nested lists that cost a fixed
//! number of database queries per level however many rows they hold.

use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{gql_code, spawn_app, spawn_app_with, token, TestApp};

async fn queries_so_far(app: &TestApp) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix("coproduce_db_queries_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the query counter is exported")
}

/// Creates advertised work with `members` accepted members and two past sessions each with
/// attendance and a decision, all through GraphQL. The first member applies today, so attends
/// neither past session; the others joined a month ago and attended both.
async fn busy_opportunity(app: &TestApp, provider: &str, members: usize) -> Uuid {
    let body = app
        .graphql(
            provider,
            r#"mutation { createOpportunity(input: { title: "Panel", description: "Plain words.",
                kind: WORKSHOP, claimedMode: CO_PRODUCTION, format: VIRTUAL, paid: true }) { id } }"#,
            json!({}),
        )
        .await;
    let id: Uuid = body["data"]["createOpportunity"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("created: {body}"));
    let body = app
        .graphql(
            provider,
            "mutation($id: UUID!) { advertiseOpportunity(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        body["data"]["advertiseOpportunity"]["status"], "ADVERTISED",
        "{body}"
    );
    let mut people = Vec::new();
    for i in 0..members {
        let person = if i == 0 {
            // One applies today...
            let (person, participant) = app.person().await;
            let body = app
                .graphql(
                    &participant,
                    "mutation($id: UUID!) { applyToOpportunity(opportunityId: $id, experience: LIVED_EXPERIENCE) { status } }",
                    json!({ "id": id }),
                )
                .await;
            assert_eq!(
                body["data"]["applyToOpportunity"]["status"], "ACCEPTED",
                "{body}"
            );
            person
        } else {
            // ...the others, registered by the provider, are recorded by its system as having
            // joined a month ago.
            let person = app
                .register_participant(provider, json!({ "roles": ["lived_experience"] }))
                .await;
            let body = app
                .graphql(
                    provider,
                    "mutation($id: UUID!, $p: UUID!, $at: DateTime!) { inviteMember(opportunityId: $id, participantId: $p, joinedAt: $at, experience: LIVED_EXPERIENCE) { status } }",
                    json!({ "id": id, "p": person, "at": (Utc::now() - Duration::days(30)).to_rfc3339() }),
                )
                .await;
            assert_eq!(body["data"]["inviteMember"]["status"], "ACCEPTED", "{body}");
            person
        };
        people.push(person);
    }
    for days_ago in [20, 10] {
        let attendance: Vec<Value> = people[1..]
            .iter()
            .map(|p| json!({ "participantId": p, "minutes": 60, "participation": "PARTICIPATED" }))
            .collect();
        let body = app
            .graphql(
                provider,
                "mutation($id: UUID!, $input: SessionInput!) { createSession(opportunityId: $id, input: $input) { session { id } } }",
                json!({ "id": id, "input": {
                    "startsAt": (Utc::now() - Duration::days(days_ago)).to_rfc3339(),
                    "durationMinutes": 90, "format": "VIRTUAL", "livedExperienceAgendaSlot": true,
                    "attendance": attendance,
                    "decisions": [{ "description": "Agree the questions", "sharedWithLivedExperience": true }]
                } }),
            )
            .await;
        assert!(
            body["data"]["createSession"]["session"]["id"].is_string(),
            "{body}"
        );
    }
    id
}

const NESTED: &str = r#"{ opportunities(first: 10) { edges { node {
    id
    members(first: 10) { edges { node { id status } } }
    sessions(first: 5) { edges { node {
        id
        attendance(first: 10) { edges { node { participantId minutes } } }
        decisions(first: 5) { edges { node { description } } }
    } } }
    evidence { evidencedLevel criteria { criterion met } }
} } } }"#;

#[tokio::test]
async fn nested_lists_cost_the_same_queries_for_two_or_six_opportunities() {
    // The counter is the whole process's: the webhook deliverer, which polls the outbox, waits
    // an hour after its first look so its queries never fall inside a measurement.
    let app = spawn_app_with(|vars| {
        vars.insert("COPRODUCE_WEBHOOK_POLL_MS".to_owned(), "3600000".to_owned());
    })
    .await;
    let org = app.create_organisation("Trust", &["provider"]).await;
    let provider = token(&["provider"], Some(org), None);
    for _ in 0..2 {
        busy_opportunity(&app, &provider, 2).await;
    }
    let before = queries_so_far(&app).await;
    let body = app.graphql(&provider, NESTED, json!({})).await;
    let small = queries_so_far(&app).await - before;
    let edges = body["data"]["opportunities"]["edges"]
        .as_array()
        .expect("edges");
    assert_eq!(edges.len(), 2, "{body}");
    assert_eq!(
        edges[0]["node"]["members"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(
        edges[0]["node"]["sessions"]["edges"][0]["node"]["attendance"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    for _ in 0..4 {
        busy_opportunity(&app, &provider, 3).await;
    }
    let before = queries_so_far(&app).await;
    let body = app.graphql(&provider, NESTED, json!({})).await;
    let large = queries_so_far(&app).await - before;
    assert_eq!(
        body["data"]["opportunities"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(6),
        "{body}"
    );
    assert_eq!(
        small, large,
        "queries must not grow with rows: {small} for 2, {large} for 6"
    );
    // One for the page; two for the members (with the sessions that say who joined from the
    // start); one each for sessions, attendance and decisions; and five for the evidence of
    // the whole page (its sessions, members, attendance, decisions and latest feedback).
    assert_eq!(large, 11, "{body}");
}

#[tokio::test]
async fn the_evidence_through_graphql_matches_rest() {
    let app = spawn_app().await;
    let org = app.create_organisation("Trust", &["provider"]).await;
    let provider = token(&["provider"], Some(org), None);
    let id = busy_opportunity(&app, &provider, 2).await;
    let body = app
        .graphql(
            &provider,
            "mutation($id: UUID!) { startOpportunity(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        body["data"]["startOpportunity"]["status"], "RUNNING",
        "{body}"
    );
    let body = app
        .graphql(
            &provider,
            "mutation($id: UUID!) { endOpportunity(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(body["data"]["endOpportunity"]["status"], "ENDED", "{body}");
    let rest = app
        .get(&format!("/api/v1/opportunities/{id}"), &provider)
        .await;
    let body = app
        .graphql(&provider, "query($id: UUID!) { opportunity(id: $id) { evidence { evidencedLevel claimCheck criteria { criterion met } } } }", json!({ "id": id }))
        .await;
    let evidence = &body["data"]["opportunity"]["evidence"];
    assert_eq!(
        rest.body["evidence"]["evidenced_level"], "co_production",
        "{}",
        rest.text
    );
    assert_eq!(evidence["evidencedLevel"], "CO_PRODUCTION", "{body}");
    assert_eq!(evidence["claimCheck"], "MATCHES");
    let met: Vec<bool> = evidence["criteria"]
        .as_array()
        .expect("criteria")
        .iter()
        .map(|c| c["met"] == true)
        .collect();
    assert_eq!(met, vec![true; 5]);
}

#[tokio::test]
async fn a_refused_move_names_the_allowed_ones_in_extensions() {
    let app = spawn_app().await;
    let org = app.create_organisation("Trust", &["provider"]).await;
    let provider = token(&["provider"], Some(org), None);
    let body = app
        .graphql(&provider, r#"mutation { createOpportunity(input: { title: "T", description: "D", kind: SURVEY, claimedMode: CONSULTATION, format: VIRTUAL }) { id } }"#, json!({}))
        .await;
    let id = body["data"]["createOpportunity"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let body = app
        .graphql(
            &provider,
            "mutation($id: UUID!) { endOpportunity(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        gql_code(&body).as_deref(),
        Some("invalid_transition"),
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["allowed"],
        json!(["advertised", "cancelled"])
    );
}

#[tokio::test]
async fn outsiders_see_no_members_or_sessions_of_advertised_work() {
    let app = spawn_app().await;
    let org = app.create_organisation("Trust", &["provider"]).await;
    let provider = token(&["provider"], Some(org), None);
    let id = busy_opportunity(&app, &provider, 2).await;
    let (_, outsider) = app.person().await;
    let other_provider = token(
        &["provider"],
        Some(app.create_organisation("Other", &["provider"]).await),
        None,
    );
    for who in [&outsider, &other_provider] {
        let body = app
            .graphql(who, "query($id: UUID!) { opportunity(id: $id) { title members { edges { node { id } } } sessions { edges { node { id } } } evidence { evidencedLevel } } }", json!({ "id": id }))
            .await;
        assert_eq!(
            body["data"]["opportunity"]["title"], "Panel",
            "advertised work is open: {body}"
        );
        let o = &body["data"]["opportunity"];
        assert_eq!(o["members"]["edges"], json!([]), "{body}");
        assert_eq!(o["sessions"]["edges"], json!([]), "{body}");
        assert_eq!(o["evidence"], Value::Null, "the advert only: {body}");
    }
    let rest = app
        .get(&format!("/api/v1/opportunities/{id}/members"), &outsider)
        .await;
    assert_eq!(rest.status, 404);
}

#[tokio::test]
async fn browsing_filters_work_through_graphql() {
    let app = spawn_app().await;
    let org = app.create_organisation("Trust", &["provider"]).await;
    let provider = token(&["provider"], Some(org), None);
    for (kind, format) in [
        ("SURVEY", "VIRTUAL"),
        ("BOARD", "IN_PERSON"),
        ("SURVEY", "IN_PERSON"),
    ] {
        let body = app
            .graphql(
                &provider,
                &format!(r#"mutation {{ createOpportunity(input: {{ title: "T", description: "D", kind: {kind}, claimedMode: INVOLVEMENT, format: {format} }}) {{ id }} }}"#),
                json!({}),
            )
            .await;
        let id = body["data"]["createOpportunity"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        app.graphql(
            &provider,
            "mutation($id: UUID!) { advertiseOpportunity(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    }
    let (_, participant) = app.person().await;
    let body = app
        .graphql(&participant, "{ opportunities(filter: { kind: SURVEY, format: IN_PERSON }) { edges { node { kind format } } } }", json!({}))
        .await;
    let edges = body["data"]["opportunities"]["edges"]
        .as_array()
        .expect("edges");
    assert_eq!(edges.len(), 1, "{body}");
    assert_eq!(edges[0]["node"]["kind"], "SURVEY");
    assert_eq!(edges[0]["node"]["format"], "IN_PERSON");
}

async fn graphql_without_token(
    app: &TestApp,
    headers: &[(&str, &str)],
    query: &str,
) -> (u16, Value) {
    let mut req = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("post");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn introspection_is_answered_without_a_token_but_nothing_else_is() {
    let app = spawn_app().await;
    // Nine levels of `ofType`, as graphql-js asks.
    let introspect = format!(
        "query IntrospectionQuery {{ __schema {{ queryType {{ name }} types {{ name fields {{ name type {{ {} name kind {} }} }} }} }} }}",
        "name kind ofType { ".repeat(9),
        "}".repeat(9)
    );
    let introspect = introspect.as_str();
    // No token, and GraphiQL's placeholder token: both answered.
    for headers in [
        vec![],
        vec![("Authorization", "Bearer <token from coproduce token>")],
    ] {
        let (status, body) = graphql_without_token(&app, &headers, introspect).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["data"]["__schema"]["queryType"]["name"], "Query",
            "{body}"
        );
        assert!(body.get("errors").is_none(), "{body}");
    }
    // Anything that reads data still needs a token, even beside introspection.
    for query in [
        "{ organisations { edges { node { id } } } }",
        "{ __schema { queryType { name } } organisations { edges { node { id } } } }",
    ] {
        let (status, body) = graphql_without_token(&app, &[], query).await;
        assert_eq!(status, 401, "{query}: {body}");
    }
}
