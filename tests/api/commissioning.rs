//! Contracts: commissioners write requirements into them; work links to them by
//! `contract_id` (checked); the commissioner then sees that work, and nobody else sees the
//! contract. Through both doors.

use serde_json::json;

use crate::helpers::{gql_code, spawn_app, token};
use crate::opportunities::{create_work, error_fields, provider, work};

fn contract_body(provider: uuid::Uuid) -> serde_json::Value {
    json!({
        "provider_id": provider,
        "title": "Mental health recovery 2026-27",
        "starts_on": "2026-04-01",
        "ends_on": "2027-03-31",
        "requirements": [
            { "metric": "claims_paid_on_time_share", "threshold": 95, "label": "95% of claims paid within 14 days" },
            { "metric": "target_rung", "target_level": "co_production", "label": "Work reaches co-production" }
        ]
    })
}

#[tokio::test]
async fn a_commissioner_makes_and_changes_a_contract_the_provider_reads_and_others_cannot_see() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let commissioner_org = app
        .create_organisation("Commissioner", &["commissioner"])
        .await;
    let commissioner = token(&["commissioner"], Some(commissioner_org), None);

    // Providers do not make contracts; a commissioner does, checked field by field.
    let res = app
        .post("/api/v1/contracts", &staff.token, &contract_body(staff.org))
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    let mut bad = contract_body(staff.org);
    bad["ends_on"] = json!("2026-01-01");
    bad["requirements"][0]["threshold"] = json!(120);
    bad["requirements"][1]["target_level"] = serde_json::Value::Null;
    let res = app.post("/api/v1/contracts", &commissioner, &bad).await;
    assert_eq!(res.status, 422, "{}", res.text);
    let fields = error_fields(&res);
    for f in [
        "ends_on",
        "requirements[0].threshold",
        "requirements[1].target_level",
    ] {
        assert!(fields.contains(&f.to_owned()), "{f} in {fields:?}");
    }
    let res = app
        .post(
            "/api/v1/contracts",
            &commissioner,
            &contract_body(commissioner_org),
        )
        .await;
    assert_eq!(
        res.status, 422,
        "the provider must be a provider: {}",
        res.text
    );
    assert_eq!(error_fields(&res), ["provider_id"]);

    let res = app
        .post(
            "/api/v1/contracts",
            &commissioner,
            &contract_body(staff.org),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.body["id"].as_str().unwrap().to_owned();
    assert_eq!(res.body["commissioner_id"], json!(commissioner_org));
    assert_eq!(res.body["requirements"][1]["target_level"], "co_production");
    let etag = res.header("etag").unwrap();

    // The provider reads it and lists it; another provider and another commissioner get 404.
    let res = app
        .get(&format!("/api/v1/contracts/{id}"), &staff.token)
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let listed = app.get("/api/v1/contracts", &staff.token).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    let other = provider(&app, "Other").await;
    let other_commissioner = token(
        &["commissioner"],
        Some(
            app.create_organisation("Other commissioner", &["commissioner"])
                .await,
        ),
        None,
    );
    for who in [&other.token, &other_commissioner] {
        let res = app.get(&format!("/api/v1/contracts/{id}"), who).await;
        assert_eq!(res.status, 404, "{}", res.text);
        let listed = app.get("/api/v1/contracts", who).await;
        assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(0));
        let body = app
            .graphql(
                who,
                "query($id: UUID!) { contract(id: $id) { title } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(gql_code(&body).as_deref(), Some("not_found"), "{body}");
    }

    // Only the commissioner changes it, with If-Match; a stale version is 412.
    let change = json!({ "title": "Recovery 2026-27 (varied)" });
    let res = app
        .patch(
            &format!("/api/v1/contracts/{id}"),
            &staff.token,
            Some(&etag),
            &change,
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    let res = app
        .patch(
            &format!("/api/v1/contracts/{id}"),
            &commissioner,
            None,
            &change,
        )
        .await;
    assert_eq!(res.status, 428, "{}", res.text);
    let res = app
        .patch(
            &format!("/api/v1/contracts/{id}"),
            &commissioner,
            Some(&etag),
            &change,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["version"], 2);
    let res = app
        .patch(
            &format!("/api/v1/contracts/{id}"),
            &commissioner,
            Some(&etag),
            &change,
        )
        .await;
    assert_eq!(res.status, 412, "{}", res.text);

    // GraphQL: the same contract, and a change with the version last read.
    let body = app
        .graphql(
            &commissioner,
            "mutation($id: UUID!) { updateContract(id: $id, expectedVersion: 2, patch: { requirements: [{ metric: CO_PRODUCED_WORK, threshold: 3, label: \"Three pieces co-produced\" }] }) { version requirements { metric threshold label } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(body["data"]["updateContract"]["version"], 3, "{body}");
    assert_eq!(
        body["data"]["updateContract"]["requirements"][0]["metric"],
        "CO_PRODUCED_WORK"
    );
    let body = app
        .graphql(
            &commissioner,
            "mutation($p: UUID!) { createContract(input: { providerId: $p, title: \"T\", startsOn: \"2026-01-01\", endsOn: \"2026-12-31\", requirements: [{ metric: FEEDBACK_CLOSED_WITHIN_SHARE, threshold: 80, label: \"L\" }] }) { id } }",
            json!({ "p": staff.org }),
        )
        .await;
    assert_eq!(
        gql_code(&body).as_deref(),
        Some("validation_failed"),
        "within_days is needed: {body}"
    );
}

#[tokio::test]
async fn work_names_only_a_contract_with_its_own_provider_and_the_commissioner_then_sees_it() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let other = provider(&app, "Other provider").await;
    let commissioner_org = app
        .create_organisation("Commissioner", &["commissioner"])
        .await;
    let commissioner = token(&["commissioner"], Some(commissioner_org), None);
    let res = app
        .post(
            "/api/v1/contracts",
            &commissioner,
            &contract_body(staff.org),
        )
        .await;
    let contract = res.body["id"].as_str().unwrap().to_owned();

    // Another provider's work cannot claim this contract, nor can work name one that is not.
    let res = app
        .post(
            "/api/v1/opportunities",
            &other.token,
            &work("Theirs", json!({ "contract_id": contract })),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["contract_id"]);
    let res = app
        .post(
            "/api/v1/opportunities",
            &staff.token,
            &work("Nowhere", json!({ "contract_id": uuid::Uuid::now_v7() })),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);

    // Draft work under the contract: not advertised, yet the commissioner sees it, its
    // sessions and its evidence; work not under the contract stays hidden.
    let under = create_work(
        &app,
        &staff.token,
        &work("Under contract", json!({ "contract_id": contract })),
    )
    .await;
    let outside = create_work(&app, &staff.token, &work("Not under it", json!({}))).await;
    let res = app
        .get(&format!("/api/v1/opportunities/{under}"), &commissioner)
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(
        res.body["evidence"].is_object(),
        "the commissioner reads the evidence: {}",
        res.text
    );
    let res = app
        .get(
            &format!("/api/v1/opportunities/{under}/sessions"),
            &commissioner,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = app
        .get(&format!("/api/v1/opportunities/{outside}"), &commissioner)
        .await;
    assert_eq!(res.status, 404, "{}", res.text);
    let listed = app
        .get(
            &format!("/api/v1/opportunities?contract_id={contract}"),
            &commissioner,
        )
        .await;
    let ids: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert_eq!(ids, [under.as_str()]);
    let body = app
        .graphql(
            &commissioner,
            "{ opportunities { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let seen: Vec<&str> = body["data"]["opportunities"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["node"]["id"].as_str())
        .collect();
    assert_eq!(seen, [under.as_str()], "{body}");
    // Another commissioner sees neither.
    let stranger = token(
        &["commissioner"],
        Some(app.create_organisation("Stranger", &["commissioner"]).await),
        None,
    );
    let res = app
        .get(&format!("/api/v1/opportunities/{under}"), &stranger)
        .await;
    assert_eq!(res.status, 404, "{}", res.text);
    // A period filter that is not one is refused.
    let res = app
        .get(
            "/api/v1/opportunities?active_from=2026-05-01&active_to=2026-04-01",
            &commissioner,
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
}
