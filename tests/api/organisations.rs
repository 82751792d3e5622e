//! Organisations through both doors: who may create, read and change them, paging, and
//! optimistic concurrency.

use serde_json::{json, Value};

use crate::helpers::{gql_code, spawn_app, token, Answer, TestApp};

#[tokio::test]
async fn an_admin_creates_an_organisation_with_the_guides_payment_policy() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/v1/organisations",
            &app.admin_token,
            &json!({ "name": "  Camden Recovery Network ", "kinds": ["provider", "facilitator"],
                     "contact": { "email": "hello@crn.example.org", "phone": "020 7000 0000" } }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        res.header("location"),
        Some(format!("/api/v1/organisations/{id}"))
    );
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(res.body["name"], "Camden Recovery Network");
    assert_eq!(res.body["kinds"], json!(["provider", "facilitator"]));

    let policy_id = res.body["default_payment_policy_id"]
        .as_str()
        .expect("policy")
        .to_owned();
    let policy = app
        .get(
            &format!("/api/v1/payment-policies/{policy_id}"),
            &app.admin_token,
        )
        .await;
    assert_eq!(policy.status, 200, "{}", policy.text);
    assert_eq!(policy.body["organisation_id"], id.as_str());
    assert_eq!(policy.body["is_default"], true);
    assert_eq!(policy.body["pay_within_days"], 14);
    assert_eq!(policy.body["fares_need_receipt"], true);
    assert_eq!(policy.body["travel_time_paid"], false);
    assert_eq!(
        policy.body["rates"][0]["hourly_rate"],
        json!({ "amount_pence": 1000, "currency": "GBP" })
    );
    assert_eq!(
        policy.body["rates"][0]["mileage_rate"],
        json!({ "amount_pence": 45, "currency": "GBP" })
    );

    let read = app
        .get(&format!("/api/v1/organisations/{id}"), &app.admin_token)
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["contact"]["email"], "hello@crn.example.org");
}

#[tokio::test]
async fn an_invalid_organisation_gets_every_field_error_at_once() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/v1/organisations",
            &app.admin_token,
            &json!({ "name": " ", "kinds": [], "contact": { "email": "nope" } }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.problem_code(), "validation_failed");
    let fields: Vec<&str> = res.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, vec!["name", "kinds", "contact.email"]);
    // Nothing was stored.
    let list = app.get("/api/v1/organisations", &app.admin_token).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn only_admins_create_organisations() {
    let app = spawn_app().await;
    let own = app.create_organisation("Own", &["provider"]).await;
    let provider = token(&["provider"], Some(own), None);
    let res = app
        .post(
            "/api/v1/organisations",
            &provider,
            &json!({ "name": "Mine", "kinds": ["provider"] }),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert_eq!(res.problem_code(), "forbidden");
}

#[tokio::test]
async fn staff_see_their_own_organisation_and_another_one_is_not_found() {
    let app = spawn_app().await;
    let own = app.create_organisation("Own Trust", &["provider"]).await;
    let other = app.create_organisation("Other Trust", &["provider"]).await;
    let provider = token(&["provider"], Some(own), None);

    let res = app
        .get(&format!("/api/v1/organisations/{own}"), &provider)
        .await;
    assert_eq!(res.status, 200);
    let res = app
        .get(&format!("/api/v1/organisations/{other}"), &provider)
        .await;
    assert_eq!(res.status, 404, "another organisation must look missing");
    assert_eq!(res.problem_code(), "not_found");
    let missing = uuid::Uuid::now_v7();
    let res_missing = app
        .get(&format!("/api/v1/organisations/{missing}"), &provider)
        .await;
    assert_eq!(
        res_missing.body["detail"], res.body["detail"],
        "ids leak nothing"
    );

    let list = app.get("/api/v1/organisations", &provider).await;
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert_eq!(ids, vec![own.to_string().as_str()]);

    // Nor can they change it, or learn that it exists by trying.
    let res = app
        .patch(
            &format!("/api/v1/organisations/{other}"),
            &provider,
            Some("\"1\""),
            &json!({ "name": "Mine now" }),
        )
        .await;
    assert_eq!(res.status, 404);
    let res = app
        .patch(
            &format!("/api/v1/organisations/{own}"),
            &provider,
            Some("\"1\""),
            &json!({ "name": "Renamed" }),
        )
        .await;
    assert_eq!(res.status, 403);
}

#[tokio::test]
async fn the_same_rules_hold_through_graphql() {
    let app = spawn_app().await;
    let own = app.create_organisation("Own Trust", &["provider"]).await;
    let other = app
        .create_organisation("Other Trust", &["commissioner"])
        .await;
    let provider = token(&["provider"], Some(own), None);
    let query = "query($id: UUID!) { organisation(id: $id) { id name kinds } }";

    let body = app.graphql(&provider, query, json!({ "id": own })).await;
    assert_eq!(body["data"]["organisation"]["name"], "Own Trust");
    let body = app.graphql(&provider, query, json!({ "id": other })).await;
    assert_eq!(gql_code(&body).as_deref(), Some("not_found"), "{body}");

    let create =
        "mutation { createOrganisation(input: { name: \"X\", kinds: [PROVIDER] }) { id } }";
    let body = app.graphql(&provider, create, json!({})).await;
    assert_eq!(gql_code(&body).as_deref(), Some("forbidden"), "{body}");

    let body = app
        .graphql(
            &app.admin_token,
            "mutation { createOrganisation(input: { name: \" \", kinds: [] }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        gql_code(&body).as_deref(),
        Some("validation_failed"),
        "{body}"
    );
    let fields: Vec<&str> = body["errors"][0]["extensions"]["errors"]
        .as_array()
        .expect("field errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, vec!["name", "kinds"]);

    let body = app
        .graphql(&app.admin_token, "mutation { createOrganisation(input: { name: \"Carers Hub\", kinds: [FACILITATOR] }) { id name kinds version } }", json!({}))
        .await;
    assert_eq!(
        body["data"]["createOrganisation"]["name"], "Carers Hub",
        "{body}"
    );
    assert_eq!(
        body["data"]["createOrganisation"]["kinds"],
        json!(["FACILITATOR"])
    );
}

#[tokio::test]
async fn lists_page_through_every_item_once_in_a_stable_order() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(
            app.create_organisation(&format!("Org {i}"), &["provider"])
                .await
                .to_string(),
        );
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/organisations?limit=2&cursor={c}"),
            None => "/api/v1/organisations?limit=2".to_owned(),
        };
        let page = app.get(&path, &app.admin_token).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let items = page.body["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .filter_map(|o| o["id"].as_str().map(str::to_owned)),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, created);

    // The same through GraphQL's connection.
    let body = app
        .graphql(&app.admin_token, "{ organisations(first: 3) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }", json!({}))
        .await;
    let conn = &body["data"]["organisations"];
    assert_eq!(conn["edges"].as_array().map(Vec::len), Some(3), "{body}");
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    let after = conn["pageInfo"]["endCursor"].as_str().expect("cursor");
    let body = app
        .graphql(&app.admin_token, "query($after: String) { organisations(first: 3, after: $after) { edges { node { id } } pageInfo { hasNextPage } } }", json!({ "after": after }))
        .await;
    let rest: Vec<&str> = body["data"]["organisations"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["id"].as_str())
        .collect();
    assert_eq!(
        rest,
        created[3..].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(
        body["data"]["organisations"]["pageInfo"]["hasNextPage"],
        false
    );
}

#[tokio::test]
async fn an_update_needs_the_current_etag_and_a_stale_one_is_refused() {
    let app = spawn_app().await;
    let id = app.create_organisation("Before", &["provider"]).await;
    let path = format!("/api/v1/organisations/{id}");

    let res = app
        .patch(&path, &app.admin_token, None, &json!({ "name": "No tag" }))
        .await;
    assert_eq!(res.status, 428, "{}", res.text);
    assert_eq!(res.problem_code(), "precondition_required");

    let res = app
        .patch(
            &path,
            &app.admin_token,
            Some("\"1\""),
            &json!({ "name": "After" }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(res.body["name"], "After");

    // A second writer who read version 1 loses nothing of the first writer's change.
    let res = app
        .patch(
            &path,
            &app.admin_token,
            Some("\"1\""),
            &json!({ "name": "Lost update" }),
        )
        .await;
    assert_eq!(res.status, 412, "{}", res.text);
    assert_eq!(res.problem_code(), "precondition_failed");
    let now = app.get(&path, &app.admin_token).await;
    assert_eq!(now.body["name"], "After");

    let body = app
        .graphql(&app.admin_token, "mutation($id: UUID!) { updateOrganisation(id: $id, expectedVersion: 1, input: { name: \"Stale\" }) { name } }", json!({ "id": id }))
        .await;
    assert_eq!(
        gql_code(&body).as_deref(),
        Some("precondition_failed"),
        "{body}"
    );
    let body = app
        .graphql(&app.admin_token, "mutation($id: UUID!) { updateOrganisation(id: $id, expectedVersion: 2, input: { kinds: [COMMISSIONER] }) { name kinds version } }", json!({ "id": id }))
        .await;
    assert_eq!(
        body["data"]["updateOrganisation"]["kinds"],
        json!(["COMMISSIONER"]),
        "{body}"
    );
    assert_eq!(body["data"]["updateOrganisation"]["version"], 3);
}

#[tokio::test]
async fn concurrent_updates_with_the_same_etag_let_exactly_one_win() {
    let app = spawn_app().await;
    let id = app.create_organisation("Race", &["provider"]).await;
    let path = format!("/api/v1/organisations/{id}");
    let attempts = (0..6).map(|i| {
        let body = json!({ "name": format!("Writer {i}") });
        let app = &app;
        let path = path.clone();
        async move {
            app.patch(&path, &app.admin_token, Some("\"1\""), &body)
                .await
                .status
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 412),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_participant_sees_no_organisations_and_no_policies() {
    let app = spawn_app().await;
    let org = app.create_organisation("Trust", &["provider"]).await;
    let (_, participant) = app.person().await;
    let list = app.get("/api/v1/organisations", &participant).await;
    assert_eq!(list.body["items"], json!([]));
    let list = app.get("/api/v1/payment-policies", &participant).await;
    assert_eq!(list.body["items"], json!([]));
    let res = app
        .get(&format!("/api/v1/organisations/{org}"), &participant)
        .await;
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn staff_see_only_their_own_payment_policies() {
    let app = spawn_app().await;
    let own = app.create_organisation("Own", &["provider"]).await;
    let other = app.create_organisation("Other", &["provider"]).await;
    let provider = token(&["provider"], Some(own), None);
    let list = app.get("/api/v1/payment-policies", &provider).await;
    let orgs: Vec<&str> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["organisation_id"].as_str())
        .collect();
    assert_eq!(orgs, vec![own.to_string().as_str()]);
    let list = app
        .get(
            &format!("/api/v1/payment-policies?organisation_id={other}"),
            &provider,
        )
        .await;
    assert_eq!(list.body["items"], json!([]));
    let all = app.get("/api/v1/payment-policies", &app.admin_token).await;
    let other_policy = all.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| p["organisation_id"] == other.to_string().as_str())
        .expect("other's policy")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let res = app
        .get(
            &format!("/api/v1/payment-policies/{other_policy}"),
            &provider,
        )
        .await;
    assert_eq!(res.status, 404);
}

/// Organisations are answered field after field (`graphql::plain`), not by async-graphql's own
/// object resolver: fragments, inline fragments, aliases, `__typename` and a field asked twice
/// must still come back as GraphQL says.
#[tokio::test]
async fn organisations_answer_fragments_aliases_typename_and_repeated_fields() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/api/v1/organisations",
            &app.admin_token,
            &json!({ "name": "Peer Voices", "kinds": ["provider", "facilitator"],
                     "contact": { "name": "Sam Lee", "email": "sam@example.org" } }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().expect("id").to_owned();
    let query = r#"query($id: UUID!) {
        organisations(first: 5) { nodes { ...Names ... on Organisation { kinds } ... { version } __typename } }
        organisation(id: $id) { label: name contact { name } contact { email } t: __typename ...Names }
    }
    fragment Names on Organisation { id name }"#;
    let body = app
        .graphql(&app.admin_token, query, json!({ "id": id }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["organisations"]["nodes"],
        json!([{ "id": id, "name": "Peer Voices", "kinds": ["PROVIDER", "FACILITATOR"],
                 "version": 1, "__typename": "Organisation" }]),
        "{body}"
    );
    assert_eq!(
        body["data"]["organisation"],
        json!({ "label": "Peer Voices", "contact": { "name": "Sam Lee", "email": "sam@example.org" },
                "t": "Organisation", "id": id, "name": "Peer Voices" }),
        "{body}"
    );
}

/// Creates these organisations and reads REST's first page of two.
async fn first_page_of_two<const N: usize>(app: &TestApp, organisations: [Value; N]) -> Answer {
    for organisation in &organisations {
        let created = app
            .post("/api/v1/organisations", &app.admin_token, organisation)
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
    }
    let rest = app
        .get("/api/v1/organisations?limit=2", &app.admin_token)
        .await;
    assert_eq!(rest.status, 200, "{}", rest.text);
    rest
}

/// A page's items are written as JSON while they are answered when no key is asked twice;
/// the text must be what an object answered field by field gives, in the document's order.
#[tokio::test]
async fn a_written_page_reads_as_its_objects_would_in_the_documents_order() {
    let app = spawn_app().await;
    let rest = first_page_of_two(
        &app,
        [
            ("Alder \"Voices\"", "alder@example.org"),
            ("Birch Carers", "birch@example.org"),
        ]
        .map(|(name, email)| {
            json!({ "name": name, "kinds": ["provider", "facilitator"],
                        "contact": { "name": "Sam", "email": email } })
        }),
    )
    .await;
    let items = rest.body["items"].as_array().expect("items");
    let written: Vec<String> = items
        .iter()
        .map(|o| {
            format!(
                r#"{{"__typename":"Organisation","id":"{}","name":{},"kinds":["PROVIDER","FACILITATOR"],"contact":{{"email":"{}"}},"version":1}}"#,
                o["id"].as_str().expect("id"),
                o["name"],
                o["contact"]["email"].as_str().expect("email"),
            )
        })
        .collect();
    let query = r#"{ organisations(first: 2) {
        pageInfo { hasNextPage }
        list: nodes { __typename id ...Named ... on Organisation { kinds } contact { email } version }
        edges { node { id } }
    } }
    fragment Named on Organisation { name }"#;
    let res = app
        .post("/graphql", &app.admin_token, &json!({ "query": query }))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let edges: Vec<String> = items
        .iter()
        .map(|o| format!(r#"{{"node":{{"id":"{}"}}}}"#, o["id"].as_str().expect("id")))
        .collect();
    assert_eq!(
        res.text,
        format!(
            r#"{{"data":{{"organisations":{{"pageInfo":{{"hasNextPage":false}},"list":[{}],"edges":[{}]}}}}}}"#,
            written.join(","),
            edges.join(",")
        )
    );

    // A key asked twice in each item, or in the page, is merged as before.
    for query in [
        "{ organisations(first: 2) { nodes { id contact { name } contact { email } } } }",
        "{ organisations(first: 2) { nodes { id } nodes { contact { name email } } } }",
        "{ organisations(first: 2) { nodes { id contact { name email email } } } }",
    ] {
        let body = app.graphql(&app.admin_token, query, json!({})).await;
        assert!(body["errors"].is_null(), "{body}");
        let nodes = body["data"]["organisations"]["nodes"]
            .as_array()
            .expect("nodes");
        assert_eq!(nodes.len(), 2, "{body}");
        for (node, item) in nodes.iter().zip(items) {
            assert_eq!(node["id"], item["id"], "{query}: {body}");
            assert_eq!(
                node["contact"],
                json!({ "name": "Sam", "email": item["contact"]["email"] }),
                "{query}: {body}"
            );
        }
    }
}

/// `@skip` and `@include` leave fields out of a written page, of the objects written inside its
/// items and of its fragments, as they do anywhere else.
#[tokio::test]
async fn skip_and_include_leave_fields_out_of_a_written_page() {
    let app = spawn_app().await;
    let rest = first_page_of_two(
        &app,
        ["alder@example.org", "birch@example.org"].map(|email| {
            json!({ "name": format!("Group of {email}"), "kinds": ["provider"],
                    "contact": { "name": "Sam", "email": email } })
        }),
    )
    .await;
    let items = rest.body["items"].as_array().expect("items");
    let query = r#"query($yes: Boolean!, $no: Boolean!) { organisations(first: 2) { nodes {
        id name @skip(if: $yes) kinds @include(if: $no)
        contact { name @include(if: $yes) email @skip(if: $no) phone @skip(if: $yes) }
        ... on Organisation @include(if: $no) { version }
        ...Typed @skip(if: $yes)
    } } }
    fragment Typed on Organisation { __typename }"#;

    let skipped = |o: &Value| json!({ "id": o["id"], "contact": { "name": "Sam", "email": o["contact"]["email"] } });
    let included = |o: &Value| {
        json!({ "id": o["id"], "name": o["name"], "kinds": ["PROVIDER"],
                "contact": { "phone": null }, "version": 1, "__typename": "Organisation" })
    };
    let cases = [
        (
            json!({ "yes": true, "no": false }),
            skipped as fn(&Value) -> Value,
        ),
        (json!({ "yes": false, "no": true }), included),
    ];
    for (variables, item) in cases {
        let body = app.graphql(&app.admin_token, query, variables).await;
        assert!(body["errors"].is_null(), "{body}");
        let expected: Vec<Value> = items.iter().map(item).collect();
        assert_eq!(
            body["data"]["organisations"]["nodes"],
            json!(expected),
            "{body}"
        );
    }
}

/// A kept document that passed validation with some variables skips the full check only with
/// those same variables and operation name: others are checked again, and refused when wrong.
#[tokio::test]
async fn a_document_valid_with_some_variables_is_checked_again_with_others() {
    let app = spawn_app().await;
    let rest = first_page_of_two(
        &app,
        ["Alder Voices", "Birch Carers"].map(|name| json!({ "name": name, "kinds": ["provider"] })),
    )
    .await;
    let query = "query Page($first: Int) { organisations(first: $first) { nodes { id } } }";
    let ids = json!([{ "id": rest.body["items"][0]["id"] }, { "id": rest.body["items"][1]["id"] }]);
    let ask = |variables: Value, operation: Option<&str>| {
        let mut body = json!({ "query": query, "variables": variables });
        if let Some(name) = operation {
            body["operationName"] = json!(name);
        }
        let app = &app;
        async move {
            let res = app.post("/graphql", &app.admin_token, &body).await;
            assert_eq!(res.status, 200, "{}", res.text);
            res.body
        }
    };
    // Kept, then valid with these variables, then run as known valid: the same answer.
    for _ in 0..3 {
        let body = ask(json!({ "first": 2 }), None).await;
        assert_eq!(body["data"]["organisations"]["nodes"], ids, "{body}");
    }
    for (variables, operation, refusal) in [
        (
            json!({ "first": "two" }),
            None,
            "Invalid value for argument",
        ),
        (
            json!({ "first": 2, "extra": 1 }),
            Some("Other"),
            "Unknown operation",
        ),
        (json!({ "first": 2 }), Some("Other"), "Unknown operation"),
    ] {
        let body = ask(variables.clone(), operation).await;
        assert!(body["data"].is_null(), "{variables}: {body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(refusal)),
            "{variables} {operation:?}: {body}"
        );
    }
    let body = ask(json!({ "first": 2 }), Some("Page")).await;
    assert_eq!(body["data"]["organisations"]["nodes"], ids, "{body}");
    let body = ask(json!({ "first": "two" }), None).await;
    assert!(body["data"].is_null(), "refused again: {body}");
}

#[actix_web::test]
async fn a_connection_answers_fragments_aliases_typename_and_edges_asked_twice() {
    let app = spawn_app().await;
    let rest = first_page_of_two(
        &app,
        ["Alder Voices", "Birch Carers", "Cedar Peers"]
            .map(|name| json!({ "name": name, "kinds": ["provider"] })),
    )
    .await;
    let ids: Vec<&str> = rest.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), 2, "{}", rest.text);

    let query = r#"query($after: String) {
        organisations(first: 2, after: $after) {
            __typename
            ...Page
            items: nodes { id }
            edges { cursor node { id name } }
            edges { node { version } }
            ... on OrganisationConnection { pageInfo { hasPreviousPage } }
        }
    }
    fragment Page on OrganisationConnection { pageInfo { hasNextPage endCursor } }"#;
    let body = app
        .graphql(&app.admin_token, query, json!({ "after": null }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let page = &body["data"]["organisations"];
    assert_eq!(page["__typename"], "OrganisationConnection", "{body}");
    assert_eq!(
        page["items"],
        json!([{ "id": ids[0] }, { "id": ids[1] }]),
        "{body}"
    );
    let edges = page["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 2, "{body}");
    for (edge, id) in edges.iter().zip(&ids) {
        assert_eq!(edge["node"]["id"], *id, "{body}");
        assert!(edge["node"]["name"].is_string(), "{body}");
        assert_eq!(
            edge["node"]["version"], 1,
            "merged from the second `edges`: {body}"
        );
        assert!(edge["cursor"].is_string(), "{body}");
    }
    assert_eq!(
        page["pageInfo"],
        json!({ "hasNextPage": true, "endCursor": edges[1]["cursor"], "hasPreviousPage": false }),
        "{body}"
    );

    // The end cursor continues where REST's second page starts.
    let next = app
        .graphql(
            &app.admin_token,
            query,
            json!({ "after": page["pageInfo"]["endCursor"] }),
        )
        .await;
    assert!(next["errors"].is_null(), "{next}");
    let cursor = rest.body["next_cursor"].as_str().expect("next cursor");
    let rest_next = app
        .get(
            &format!("/api/v1/organisations?limit=2&cursor={cursor}"),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        next["data"]["organisations"]["items"][0]["id"], rest_next.body["items"][0]["id"],
        "{next} {}",
        rest_next.text
    );
    assert_eq!(
        next["data"]["organisations"]["pageInfo"]["hasPreviousPage"], true,
        "{next}"
    );
}

/// GraphQL's `DateTime` is chrono's `to_rfc3339` text (`+00:00`, where REST writes `Z`), its
/// enum lists are the values in order, and a cursor is the item's id, through a single object,
/// a written page and edges alike.
#[tokio::test]
async fn graphql_writes_timestamps_enum_lists_and_cursors_as_it_always_has() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/api/v1/organisations",
            &app.admin_token,
            &json!({ "name": "Alder Voices", "kinds": ["provider", "commissioner"] }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().expect("id");
    let rest_created = created.body["created_at"].as_str().expect("created_at");
    assert!(rest_created.ends_with('Z'), "{}", created.text);
    let instant: chrono::DateTime<chrono::Utc> = rest_created.parse().expect("a timestamp");
    let expected = instant.to_rfc3339();
    assert!(expected.ends_with("+00:00"), "{expected}");
    let kinds: Vec<String> = created.body["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .map(|k| k.as_str().expect("a kind").to_uppercase())
        .collect();
    assert_eq!(kinds.len(), 2, "{}", created.text);

    let one = app
        .graphql(
            &app.admin_token,
            "query($id: ID!) { organisation(id: $id) { kinds createdAt updatedAt } }",
            json!({ "id": id }),
        )
        .await;
    assert!(one["errors"].is_null(), "{one}");
    let organisation = &one["data"]["organisation"];
    assert_eq!(organisation["createdAt"], expected.as_str(), "{one}");
    assert_eq!(organisation["updatedAt"], expected.as_str(), "{one}");
    assert_eq!(organisation["kinds"], json!(kinds), "{one}");

    let page = app
        .graphql(
            &app.admin_token,
            "{ organisations(first: 5) { nodes { id kinds createdAt } edges { cursor node { createdAt } } pageInfo { startCursor endCursor } } }",
            json!({}),
        )
        .await;
    assert!(page["errors"].is_null(), "{page}");
    let organisations = &page["data"]["organisations"];
    let node = organisations["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["id"] == id)
        .expect("the new organisation");
    assert_eq!(node["createdAt"], expected.as_str(), "{page}");
    assert_eq!(node["kinds"], json!(kinds), "{page}");
    for edge in organisations["edges"].as_array().expect("edges") {
        let at = edge["node"]["createdAt"].as_str().expect("createdAt");
        assert!(at.ends_with("+00:00"), "{page}");
    }
    let edges = organisations["edges"].as_array().expect("edges");
    let cursors: Vec<&Value> = edges.iter().map(|e| &e["cursor"]).collect();
    let ids: Vec<&Value> = organisations["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| &n["id"])
        .collect();
    assert_eq!(cursors, ids, "a cursor is its item's id: {page}");
    assert_eq!(organisations["pageInfo"]["startCursor"], *ids[0], "{page}");
    assert_eq!(
        organisations["pageInfo"]["endCursor"],
        *ids[ids.len() - 1],
        "{page}"
    );
}
