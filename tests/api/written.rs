//! GraphQL's written pages answer every plain field as async-graphql's own resolvers do.
//!
//! A page whose items ask each key once is written by the objects themselves
//! (`domain::written`); the same page with one key asked twice cannot be written as it goes
//! (the two must be merged), so it is answered by async-graphql's resolvers and values. Each
//! connection here is asked for every scalar and enum field of its items both ways, and the two
//! answers must be the same.

use serde_json::{json, Value};

use crate::feedback::{close, respond};
use crate::helpers::{spawn_app, TestApp};
use crate::opportunities::provider;

/// A field of the item holding a plain object, and that object's type, asked for too.
type NestedObject = Option<(&'static str, &'static str)>;

/// The scalar and enum fields of a GraphQL object type, by introspection.
async fn leaf_fields(app: &TestApp, type_name: &str) -> Vec<String> {
    let query = "query($name: String!) { __type(name: $name) { fields { name args { name } type { kind ofType { kind ofType { kind ofType { kind } } } } } } }";
    let answer = app
        .graphql(&app.admin_token, query, json!({ "name": type_name }))
        .await;
    let fields = answer["data"]["__type"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("{type_name}: {answer}"));
    let mut leaves = Vec::new();
    for field in fields {
        // The kind under NON_NULL and LIST wrappers.
        let mut kind = &field["type"];
        while matches!(kind["kind"].as_str(), Some("NON_NULL" | "LIST")) {
            kind = &kind["ofType"];
        }
        let takes_arguments = field["args"].as_array().is_some_and(|a| !a.is_empty());
        if matches!(kind["kind"].as_str(), Some("SCALAR" | "ENUM")) && !takes_arguments {
            leaves.push(field["name"].as_str().expect("a name").to_owned());
        }
    }
    assert!(!leaves.is_empty(), "{type_name} has no leaf fields");
    leaves
}

/// Asks `connection` for every leaf field of its items, written (each key once) and through
/// the resolvers (the first key asked again), and compares the answers. `nested` names an
/// object field of the items whose leaf fields are asked as well, with its type.
async fn written_as_resolved(
    app: &TestApp,
    token: &str,
    connection: &str,
    item_type: &str,
    nested: NestedObject,
) -> usize {
    let leaves = leaf_fields(app, item_type).await;
    let mut selection = leaves.join(" ");
    if let Some((field, nested_type)) = nested {
        let inner = leaf_fields(app, nested_type).await.join(" ");
        selection = format!("{selection} {field} {{ {inner} }}");
    }
    let written = format!("{{ page: {connection} {{ nodes {{ {selection} }} }} }}");
    let resolved = format!(
        "{{ page: {connection} {{ nodes {{ {selection} {} }} }} }}",
        leaves[0]
    );
    let written = app.graphql(token, &written, json!({})).await;
    let resolved = app.graphql(token, &resolved, json!({})).await;
    assert!(written["errors"].is_null(), "{connection}: {written}");
    assert!(resolved["errors"].is_null(), "{connection}: {resolved}");
    let nodes = written["data"]["page"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{connection}: {written}"));
    assert!(!nodes.is_empty(), "{connection} answered no items");
    for node in nodes {
        for leaf in &leaves {
            assert!(
                node.get(leaf).is_some(),
                "{connection}: no {leaf} in {node}"
            );
        }
    }
    assert_eq!(written, resolved, "{connection}");
    nodes.len()
}

#[tokio::test]
async fn written_pages_answer_every_plain_field_as_the_resolvers_do() {
    let app = spawn_app().await;
    let org = organisation(
        &app,
        json!({
            "name": "Alder \"Voices\" \\ Network\tNorth",
            "kinds": ["facilitator", "provider"],
            "contact": { "name": "Bea — café", "email": "bea@alder.example" },
        }),
    )
    .await;
    let staff = provider(&app, "Camden Recovery Network").await;
    let client = app
        .post(
            "/api/v1/api-clients",
            &app.admin_token,
            &json!({ "organisation_id": org, "name": "Case system \u{1}" }),
        )
        .await;
    assert_eq!(client.status, 201, "{}", client.text);
    let feedback = app
        .post(
            "/api/v1/feedback",
            &staff.token,
            &json!({
                "organisation_id": staff.org,
                "said": "The room was \"too\" loud\nand hot",
                "channel": "meeting",
                "themes": ["access", "environment"],
            }),
        )
        .await;
    assert_eq!(feedback.status, 201, "{}", feedback.text);
    // Answered and closed: its times are set, and each step is an event.
    let item = feedback.body["id"].as_str().expect("id");
    let answered = respond(&app, &staff.token, item, "Moved to a \"quieter\" room").await;
    assert_eq!(answered.status, 200, "{}", answered.text);
    let closed = close(&app, &staff.token, item).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    let hook = app
        .post(
            "/api/v1/webhooks",
            &staff.token,
            &json!({ "url": "https://example.org/hook", "description": "Case system" }),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.text);

    let admin = app.admin_token.clone();
    let cases: [(&str, &str, &str, NestedObject); 7] = [
        (
            &admin,
            "organisations(first: 50)",
            "Organisation",
            Some(("contact", "OrganisationContact")),
        ),
        (&admin, "paymentPolicies(first: 50)", "PaymentPolicy", None),
        (&admin, "apiClients(first: 50)", "ApiClient", None),
        (&admin, "glossary(first: 50)", "GlossaryTerm", None),
        (
            &staff.token,
            "feedbackItems(first: 50)",
            "FeedbackItem",
            None,
        ),
        (&admin, "events(first: 50)", "Event", None),
        (
            &staff.token,
            "webhookEndpoints(first: 50)",
            "WebhookEndpoint",
            None,
        ),
    ];
    for (token, connection, item_type, nested) in cases {
        written_as_resolved(&app, token, connection, item_type, nested).await;
    }
}

/// An organisation's `contact` is written in place when its selection is plain fields; any
/// other selection (an alias is plain) is left to the resolvers, and both answer alike.
#[tokio::test]
async fn a_written_contact_answers_every_selection_as_the_resolvers_do() {
    let app = spawn_app().await;
    organisation(
        &app,
        json!({
            "name": "Birch Carers",
            "kinds": ["provider"],
            "contact": { "name": "Dee \"D\" Okafor", "email": "dee@birch.example" },
        }),
    )
    .await;
    // Each with the variables it declares (one declared and not used is an error).
    let selections = [
        ("", "contact { mail: email name }"),
        ("", "contact { __typename name }"),
        ("", "contact { name name }"),
        (
            "($no: Boolean!)",
            "contact { name @include(if: $no) email }",
        ),
        (
            "($yes: Boolean!)",
            "contact { phone @skip(if: $yes) email }",
        ),
        ("", "contact { ... on OrganisationContact { email } phone }"),
        ("", "home: contact { name } work: contact { email }"),
    ];
    for (declared, selection) in selections {
        let page = |more: &str| {
            format!("query{declared} {{ organisations(first: 50) {{ nodes {{ id {selection}{more} }} }} }}")
        };
        let written = same_text_written_and_resolved(&app, &page(""), &page(" id")).await;
        let first = &written["data"]["organisations"]["nodes"][0];
        assert!(first["id"].is_string(), "{selection}: {written}");
    }
    // Through edges, where the node writes itself into its edge and the contact in place.
    for node in [
        "id contact { name email }",
        "id contact { __typename name }",
    ] {
        let page = |more: &str| {
            format!(
                "{{ organisations(first: 50) {{ edges {{ cursor node {{ {node}{more} }} }} }} }}"
            )
        };
        let written = same_text_written_and_resolved(&app, &page(""), &page(" id")).await;
        let first = &written["data"]["organisations"]["edges"][0]["node"];
        assert!(first["contact"].is_object(), "{node}: {written}");
    }
    let aliased = app
        .graphql(
            &app.admin_token,
            "{ organisations(first: 50) { nodes { contact { mail: email name } } } }",
            json!({}),
        )
        .await;
    let birch = aliased["data"]["organisations"]["nodes"]
        .as_array()
        .and_then(|nodes| {
            nodes
                .iter()
                .find(|n| n["contact"]["mail"] == "dee@birch.example")
        })
        .unwrap_or_else(|| panic!("no contact written with its alias: {aliased}"));
    assert_eq!(
        birch["contact"],
        json!({ "mail": "dee@birch.example", "name": "Dee \"D\" Okafor" })
    );
}

/// Asks `written` (a written page) and `resolved` (the same with a key asked again, which the
/// resolvers answer) and requires the same text, compared as text because a key written twice
/// would be lost in a parsed value; returns the written answer, which holds no error.
async fn same_text_written_and_resolved(app: &TestApp, written: &str, resolved: &str) -> Value {
    let variables = json!({ "no": false, "yes": true });
    let mut texts = Vec::new();
    for query in [written, resolved] {
        let body = json!({ "query": query, "variables": variables });
        let answer = app.post("/graphql", &app.admin_token, &body).await;
        assert_eq!(answer.status, 200, "{query}: {}", answer.text);
        texts.push((answer.text, answer.body));
    }
    let (resolved_text, _) = texts.pop().expect("the resolved answer");
    let (written_text, written_body) = texts.pop().expect("the written answer");
    assert!(
        written_body["errors"].is_null(),
        "{written}: {written_text}"
    );
    assert_eq!(written_text, resolved_text, "{written}");
    written_body
}

/// Creates an organisation as admin from `body` and returns its id.
async fn organisation(app: &TestApp, body: Value) -> String {
    let created = app
        .post("/api/v1/organisations", &app.admin_token, &body)
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body["id"].as_str().expect("id").to_owned()
}
