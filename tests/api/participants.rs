//! Participants and consent: profiles, contact details encrypted at rest and shown only to
//! those allowed (every read by someone else logged), consent per field and audience, the group
//! directory, export and erasure. Every rule is tried through both doors by everyone who might
//! try to break it.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{gql_code, read, spawn_app, spawn_app_with, token, token_as, TestApp};
use crate::opportunities::{advertised_work, provider, work, Staff};

/// One piece of work and everyone around it.
struct World {
    app: TestApp,
    /// Staff of the provider that runs the work.
    runs: Staff,
    /// Staff of the facilitator that registered Ada, Ben and Cat.
    registers: Staff,
    /// Staff of an organisation with nothing to do with them.
    elsewhere: Staff,
    commissioner: String,
    /// A machine client of the unrelated organisation.
    client: String,
    work: String,
    ada: Uuid,
    ada_token: String,
    /// A fellow member of the work.
    ben: Uuid,
    ben_token: String,
    /// Registered, but not a member.
    cat_token: String,
}

const ADA_EMAIL: &str = "ada.lovelace@example.org";
const ADA_PHONE: &str = "07700 900123";
const ADA_POSTCODE: &str = "sw1a1aa";

async fn machine_client(app: &TestApp, org: Uuid) -> String {
    let res = app
        .post(
            "/api/v1/api-clients",
            &app.admin_token,
            &json!({ "organisation_id": org, "name": "Case system" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.body["client"]["id"].as_str().expect("id").to_owned();
    let secret = res.body["client_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let res = read(
        app.client
            .post(app.url("/api/v1/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ])
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["access_token"].as_str().expect("token").to_owned()
}

async fn world() -> World {
    let app = spawn_app().await;
    let runs = provider(&app, "Camden Recovery Network").await;
    let peer = app
        .create_organisation("Peer Voices", &["facilitator"])
        .await;
    let registers = Staff {
        org: peer,
        token: token(&["facilitator"], Some(peer), None),
    };
    let elsewhere = provider(&app, "Elsewhere Trust").await;
    let nhs = app
        .create_organisation("Borough Commissioning", &["commissioner"])
        .await;
    let commissioner = token(&["commissioner"], Some(nhs), None);
    let client = machine_client(&app, elsewhere.org).await;
    let ada = app
        .register_participant(
            &registers.token,
            json!({
                "name": "Ada Lovelace",
                "preferred_name": "Ada",
                "roles": ["lived_experience"],
                "lived_experience_areas": ["mental_health"],
                "contact_details": {
                    "email": ADA_EMAIL,
                    "phone": ADA_PHONE,
                    "postal_address": { "lines": ["1 Station Road", "London"], "postcode": ADA_POSTCODE }
                }
            }),
        )
        .await;
    let ben = app
        .register_participant(
            &registers.token,
            json!({ "name": "Ben Okafor", "roles": ["carer"] }),
        )
        .await;
    let cat = app
        .register_participant(
            &registers.token,
            json!({ "name": "Cat Jones", "roles": ["lived_experience"] }),
        )
        .await;
    let work = advertised_work(&app, &runs.token, &work("Peer panel", json!({}))).await;
    let ada_token = token(&["participant"], None, Some(ada));
    let ben_token = token(&["participant"], None, Some(ben));
    for t in [&ada_token, &ben_token] {
        let res = app
            .post(
                &format!("/api/v1/opportunities/{work}/members"),
                t,
                &json!({}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        assert_eq!(res.body["status"], "accepted");
    }
    World {
        runs,
        registers,
        elsewhere,
        commissioner,
        client,
        work,
        ada,
        ada_token,
        ben,
        ben_token,
        cat_token: token(&["participant"], None, Some(cat)),
        app,
    }
}

impl World {
    /// Everyone who might read Ada's data, named for messages.
    fn callers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("the person", self.ada_token.clone()),
            ("another participant", self.cat_token.clone()),
            ("a fellow member", self.ben_token.clone()),
            ("staff who run the work", self.runs.token.clone()),
            ("staff who registered her", self.registers.token.clone()),
            ("another organisation's staff", self.elsewhere.token.clone()),
            ("a commissioner", self.commissioner.clone()),
            ("an admin", self.app.admin_token.clone()),
            ("another organisation's machine client", self.client.clone()),
        ]
    }

    async fn consent(&self, as_token: &str, body: Value) -> crate::helpers::Answer {
        self.app
            .post(
                &format!("/api/v1/participants/{}/consents", self.ada),
                as_token,
                &body,
            )
            .await
    }

    async fn directory(&self, as_token: &str) -> crate::helpers::Answer {
        self.app
            .get(
                &format!("/api/v1/opportunities/{}/directory", self.work),
                as_token,
            )
            .await
    }
}

fn ada_in(directory: &crate::helpers::Answer, ada: Uuid) -> Value {
    directory.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a directory: {}", directory.text))
        .iter()
        .find(|e| e["participant_id"] == ada.to_string())
        .cloned()
        .unwrap_or_else(|| panic!("Ada is listed: {}", directory.text))
}

// --- The access matrix ----------------------------------------------------------------------

#[tokio::test]
async fn every_endpoint_with_personal_data_answers_each_caller_as_the_rules_say() {
    let w = world().await;
    let ada = w.ada;
    let work = &w.work;
    // Expected status for: person, other participant, fellow member, staff who run the work,
    // staff who registered her, other org staff, commissioner, admin, other org machine client.
    let rows: Vec<(String, [u16; 9])> = vec![
        (
            format!("/api/v1/participants/{ada}"),
            [200, 404, 404, 200, 200, 404, 404, 200, 404],
        ),
        (
            format!("/api/v1/participants/{ada}/contact-details"),
            [200, 404, 404, 200, 200, 404, 404, 200, 404],
        ),
        (
            format!("/api/v1/participants/{ada}/consents"),
            [200, 404, 404, 403, 200, 404, 404, 200, 404],
        ),
        (
            format!("/api/v1/participants/{ada}/access-log"),
            [200, 404, 404, 403, 403, 404, 404, 200, 404],
        ),
        (
            format!("/api/v1/participants/{ada}/export"),
            [200, 404, 404, 403, 403, 404, 404, 200, 404],
        ),
        (
            format!("/api/v1/opportunities/{work}/directory"),
            [200, 403, 200, 200, 403, 403, 403, 200, 403],
        ),
    ];
    for (path, expected) in rows {
        for ((who, t), want) in w.callers().into_iter().zip(expected) {
            let res = w.app.get(&path, &t).await;
            assert_eq!(res.status, want, "{who} GET {path}: {}", res.text);
            if want != 200 {
                res.problem_code();
                assert!(
                    !res.text.contains(ADA_EMAIL) && !res.text.contains("Lovelace"),
                    "{who} {path}"
                );
            }
        }
    }
    // Writing: only the person and the staff who registered her change the profile and the
    // contact details; consent is recorded by the person or those staff.
    let patch_path = format!("/api/v1/participants/{ada}");
    for ((who, t), want) in w
        .callers()
        .into_iter()
        .zip([200, 404, 404, 403, 200, 404, 404, 403, 404])
    {
        let current = w.app.get(&patch_path, &w.app.admin_token).await;
        let tag = current.header("etag").expect("etag");
        let res = w
            .app
            .patch(
                &patch_path,
                &t,
                Some(&tag),
                &json!({ "time_available": "1 hour a month" }),
            )
            .await;
        assert_eq!(res.status, want, "{who} PATCH: {}", res.text);
    }
    let contact_path = format!("/api/v1/participants/{ada}/contact-details");
    for ((who, t), want) in w
        .callers()
        .into_iter()
        .zip([200, 404, 404, 403, 200, 404, 404, 403, 404])
    {
        let res = read(
            w.app
                .client
                .put(w.app.url(&contact_path))
                .bearer_auth(&t)
                .json(&json!({ "email": ADA_EMAIL, "phone": ADA_PHONE }))
                .send()
                .await
                .expect("put"),
        )
        .await;
        assert_eq!(res.status, want, "{who} PUT contact details: {}", res.text);
    }
}

#[tokio::test]
async fn graphql_shows_each_caller_only_what_rest_does_and_a_forbidden_field_is_null_with_a_code() {
    let w = world().await;
    let query = "query($id: UUID!) { participant(id: $id) { name contactDetails { email phone } consents { current { field } } accessLog(first: 5) { edges { node { purpose } } } } }";
    // (caller, profile visible, contact details, consents, access log)
    let expected = [
        (true, true, true, true),
        (false, false, false, false),
        (false, false, false, false),
        (true, true, false, false),
        (true, true, true, false),
        (false, false, false, false),
        (false, false, false, false),
        (true, true, true, true),
        (false, false, false, false),
    ];
    for ((who, t), (profile, contacts, consents, log)) in w.callers().into_iter().zip(expected) {
        let body = w.app.graphql(&t, query, json!({ "id": w.ada })).await;
        let p = &body["data"]["participant"];
        if !profile {
            assert!(p.is_null(), "{who}: {body}");
            assert_eq!(
                gql_code(&body).as_deref(),
                Some("not_found"),
                "{who}: {body}"
            );
            assert!(!body.to_string().contains(ADA_EMAIL), "{who}");
            continue;
        }
        assert_eq!(p["name"], "Ada Lovelace", "{who}");
        assert_eq!(!p["contactDetails"].is_null(), contacts, "{who}: {body}");
        if contacts {
            assert_eq!(p["contactDetails"]["email"], ADA_EMAIL, "{who}");
            assert_eq!(p["contactDetails"]["phone"], "+447700900123", "{who}");
        }
        assert_eq!(!p["consents"].is_null(), consents, "{who}: {body}");
        assert_eq!(!p["accessLog"].is_null(), log, "{who}: {body}");
        // Each hidden field is an error entry with a code, at that field's path.
        let errors = body["errors"].as_array().cloned().unwrap_or_default();
        let hidden = [(!consents, "consents"), (!log, "accessLog")];
        for (is_hidden, field) in hidden {
            let entry = errors.iter().find(|e| e["path"][1] == field);
            assert_eq!(entry.is_some(), is_hidden, "{who} {field}: {body}");
            if let Some(e) = entry {
                assert_eq!(e["extensions"]["code"], "forbidden", "{who}: {body}");
            }
        }
    }
}

#[tokio::test]
async fn nothing_about_a_person_leaks_through_a_list_a_search_or_an_unknown_filter() {
    let w = world().await;
    // Staff who registered Ada find her by name, area and role; nobody else's search does.
    let found = w
        .app
        .get("/api/v1/participants?name=LOVE&lived_experience_area=mental_health&role=lived_experience", &w.registers.token)
        .await;
    assert_eq!(found.status, 200, "{}", found.text);
    let names: Vec<&str> = found.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["Ada Lovelace"]);
    for t in [&w.runs.token, &w.elsewhere.token, &w.client] {
        let res = w.app.get("/api/v1/participants?name=love", t).await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(res.body["items"], json!([]), "{}", res.text);
        let res = w
            .app
            .get(
                &format!("/api/v1/participants?organisation_id={}", w.registers.org),
                t,
            )
            .await;
        assert_eq!(res.body["items"], json!([]), "{}", res.text);
    }
    for t in [&w.commissioner, &w.ada_token] {
        let res = w.app.get("/api/v1/participants", t).await;
        assert_eq!(res.status, 403, "{}", res.text);
    }
    // A `%` in a search is a percent sign, not "anything".
    let res = w
        .app
        .get("/api/v1/participants?name=%25", &w.registers.token)
        .await;
    assert_eq!(res.body["items"], json!([]), "{}", res.text);
    // Contact details cannot be searched or sorted by, through either door.
    for q in [
        format!("email={ADA_EMAIL}"),
        "phone=07700900123".to_owned(),
        "sort=email".to_owned(),
    ] {
        let res = w
            .app
            .get(&format!("/api/v1/participants?{q}"), &w.registers.token)
            .await;
        assert_eq!(res.status, 400, "{q}: {}", res.text);
        assert!(!res.text.contains("Lovelace"));
    }
    let body = w
        .app
        .graphql(&w.registers.token, "{ participants(filter: { email: \"ada.lovelace@example.org\" }) { edges { node { name } } } }", json!({}))
        .await;
    assert!(body["data"].is_null(), "{body}");
    assert!(!body.to_string().contains("Lovelace"));
    // The members list names people by id only, with no contact details.
    let members = w
        .app
        .get(
            &format!("/api/v1/opportunities/{}/members", w.work),
            &w.ben_token,
        )
        .await;
    assert_eq!(members.status, 200, "{}", members.text);
    assert!(!members.text.contains(ADA_EMAIL) && !members.text.contains("Lovelace"));
}

// --- Profiles -------------------------------------------------------------------------------

#[tokio::test]
async fn the_person_reads_and_changes_their_own_profile_and_a_stale_change_is_refused() {
    let w = world().await;
    let path = format!("/api/v1/participants/{}", w.ada);
    let me = w.app.get(&path, &w.ada_token).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["preferred_name"], "Ada");
    assert_eq!(me.body["organisation_id"], w.registers.org.to_string());
    let tag = me.header("etag").expect("etag");
    let res = w
        .app
        .patch(
            &path,
            &w.ada_token,
            Some(&tag),
            &json!({
                "contact_methods": ["email", "text"],
                "support_needs": ["easy_read", "other"],
                "support_needs_other": "a quiet room",
                "payment_preference": "vouchers",
                "receives_benefits": true,
                "weekly_payment_limit_pence": 2000,
                "involvement_kinds": ["workshop", "interview_panel"],
            }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.body["weekly_payment_limit"],
        json!({ "amount_pence": 2000, "currency": "GBP" })
    );
    assert_eq!(res.body["support_needs"], json!(["easy_read", "other"]));
    let stale = w
        .app
        .patch(
            &path,
            &w.ada_token,
            Some(&tag),
            &json!({ "preferred_name": null }),
        )
        .await;
    assert_eq!(stale.status, 412, "{}", stale.text);
    let tag = res.header("etag").expect("etag");
    let cleared = w
        .app
        .patch(
            &path,
            &w.ada_token,
            Some(&tag),
            &json!({ "preferred_name": null, "weekly_payment_limit_pence": null }),
        )
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    assert!(
        cleared.body["preferred_name"].is_null() && cleared.body["weekly_payment_limit"].is_null()
    );
    assert_eq!(
        cleared.body["payment_preference"], "vouchers",
        "absent fields stay"
    );
    let bad = w
        .app
        .patch(
            &path,
            &w.ada_token,
            cleared.header("etag").as_deref(),
            &json!({ "support_needs_other": null, "name": " " }),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["name", "support_needs_other"]);
}

#[tokio::test]
async fn only_provider_and_facilitator_staff_register_people() {
    let w = world().await;
    for t in [&w.commissioner, &w.ada_token, &w.app.admin_token] {
        let res = w
            .app
            .post("/api/v1/participants", t, &json!({ "name": "Dee" }))
            .await;
        assert_eq!(res.status, 403, "{}", res.text);
    }
    let body = w
        .app
        .graphql(&w.runs.token, "mutation { registerParticipant(input: { name: \"Dee\", roles: [CARER] }) { id organisationId roles } }", json!({}))
        .await;
    assert_eq!(
        body["data"]["registerParticipant"]["roles"],
        json!(["CARER"]),
        "{body}"
    );
    assert_eq!(
        body["data"]["registerParticipant"]["organisationId"],
        w.runs.org.to_string()
    );
}

#[tokio::test]
async fn a_person_signed_in_with_their_own_identity_provider_is_found_by_their_sub() {
    let w = world().await;
    let path = format!("/api/v1/participants/{}", w.ada);
    let current = w.app.get(&path, &w.registers.token).await;
    let res = w
        .app
        .patch(
            &path,
            &w.registers.token,
            current.header("etag").as_deref(),
            &json!({ "identity_subject": "idp|ada-42" }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    // A token with no participant_id claim, naming the linked subject.
    let linked = token_as("idp|ada-42", &["participant"], None, None);
    let me = w.app.get(&path, &linked).await;
    assert_eq!(me.status, 200, "{}", me.text);
    let contacts = w.app.get(&format!("{path}/contact-details"), &linked).await;
    assert_eq!(contacts.body["email"], ADA_EMAIL);
    // Someone else's sub finds nobody; a second link to the same sub is refused.
    let stranger = token_as("idp|someone-else", &["participant"], None, None);
    assert_eq!(w.app.get(&path, &stranger).await.status, 404);
    let ben = format!("/api/v1/participants/{}", w.ben);
    let current = w.app.get(&ben, &w.registers.token).await;
    let res = w
        .app
        .patch(
            &ben,
            &w.registers.token,
            current.header("etag").as_deref(),
            &json!({ "identity_subject": "idp|ada-42" }),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);
}

#[tokio::test]
async fn a_member_counts_as_lived_experience_only_when_their_profile_says_so() {
    let w = world().await;
    let staff_only = w
        .app
        .register_participant(&w.runs.token, json!({ "roles": [] }))
        .await;
    let res = w
        .app
        .post(
            &format!("/api/v1/opportunities/{}/members", w.work),
            &w.runs.token,
            &json!({ "participant_id": staff_only, "experience": "lived_experience" }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "experience");
    // Without a stated experience, the profile's roles decide; Ben is a carer.
    let members = w
        .app
        .get(
            &format!("/api/v1/opportunities/{}/members", w.work),
            &w.runs.token,
        )
        .await;
    let ben = members.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["participant_id"] == w.ben.to_string())
        .cloned()
        .expect("Ben");
    assert_eq!(ben["experience"], "carer");
    // Staff cannot bring in someone another organisation registered.
    let dee = w
        .app
        .register_participant(&w.elsewhere.token, json!({ "roles": ["lived_experience"] }))
        .await;
    let res = w
        .app
        .post(
            &format!("/api/v1/opportunities/{}/members", w.work),
            &w.runs.token,
            &json!({ "participant_id": dee }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "participant_id");
    // A role taken out of the profile stops counting at once.
    let path = format!("/api/v1/participants/{}", w.ben);
    let current = w.app.get(&path, &w.ben_token).await;
    let res = w
        .app
        .patch(
            &path,
            &w.ben_token,
            current.header("etag").as_deref(),
            &json!({ "roles": [] }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let members = w
        .app
        .get(
            &format!("/api/v1/opportunities/{}/members", w.work),
            &w.runs.token,
        )
        .await;
    let ben = members.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["participant_id"] == w.ben.to_string())
        .cloned()
        .expect("Ben");
    assert_eq!(ben["experience"], "none");
}

// --- Contact details ------------------------------------------------------------------------

#[tokio::test]
async fn contact_details_are_checked_by_content_and_kept_in_a_standard_form() {
    let w = world().await;
    let path = format!("/api/v1/participants/{}/contact-details", w.ada);
    let put = |body: Value| {
        let req = w
            .app
            .client
            .put(w.app.url(&path))
            .bearer_auth(&w.ada_token)
            .json(&body);
        async move { read(req.send().await.expect("put")).await }
    };
    let res = put(json!({ "email": "ada@", "phone": "12345", "postal_address": { "lines": [], "postcode": "NOWHERE" } })).await;
    assert_eq!(res.status, 422, "{}", res.text);
    let fields: Vec<&str> = res.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "email",
            "phone",
            "postal_address.lines",
            "postal_address.postcode"
        ]
    );
    // Nothing was lost to the refused change.
    let kept = w.app.get(&path, &w.ada_token).await;
    assert_eq!(kept.body["email"], ADA_EMAIL);
    let res = put(json!({ "phone": "+44 (0)20 7946 0958" })).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.body["phone"], "+442079460958",
        "the trunk zero written after +44 goes"
    );
    let res = put(json!({ "phone": "020 7946 0958", "postal_address": { "lines": ["2 High St"], "postcode": " m1 1ae " } })).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["phone"], "+442079460958");
    assert_eq!(res.body["postal_address"]["postcode"], "M1 1AE");
    assert!(res.body["email"].is_null(), "a field left out is removed");
    let kept = w.app.get(&path, &w.ada_token).await;
    assert_eq!(kept.body, res.body);
    // Registering with a bad detail names it under contact_details.
    let res = w
        .app
        .post(
            "/api/v1/participants",
            &w.registers.token,
            &json!({ "name": "Eve", "contact_details": { "phone": "not a phone" } }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "contact_details.phone");
}

/// Every stored byte of the test's database, as text where it is text.
fn database_dump(app: &TestApp) -> String {
    if let Some(path) = app.database_url.strip_prefix("sqlite://") {
        let mut all = Vec::new();
        for suffix in ["", "-wal"] {
            if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                all.extend(bytes);
            }
        }
        String::from_utf8_lossy(&all).into_owned()
    } else {
        let out = std::process::Command::new("pg_dump")
            .arg("--data-only")
            .arg(&app.database_url)
            .output()
            .expect("pg_dump runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

#[tokio::test]
async fn a_dump_of_the_database_shows_no_readable_contact_detail() {
    let w = world().await;
    let dump = database_dump(&w.app);
    assert!(
        dump.contains("Lovelace"),
        "the dump is readable: names are not contact details"
    );
    for secret in [
        ADA_EMAIL,
        "ada.lovelace",
        "+447700900123",
        "7700900123",
        "1 Station Road",
        "SW1A 1AA",
        "Station Road",
    ] {
        assert!(
            !dump.contains(secret),
            "`{secret}` is readable in the database"
        );
    }
    // What is stored is ciphertext under the configured key, one value per field.
    let stored = crate::helpers::stored_text(
        &w.app.database_url,
        "SELECT field || ':' || key_id AS t FROM contact_details ORDER BY field",
    );
    assert_eq!(stored.len(), 3, "{stored:?}");
    assert!(stored[0].starts_with("email:"));
}

#[tokio::test]
async fn every_read_of_someone_elses_contact_details_is_logged_for_them_to_see() {
    let w = world().await;
    let path = format!("/api/v1/participants/{}/contact-details", w.ada);
    assert_eq!(w.app.get(&path, &w.ada_token).await.status, 200);
    assert_eq!(w.app.get(&path, &w.runs.token).await.status, 200);
    let body = w
        .app
        .graphql(
            &w.registers.token,
            "query($id: UUID!) { participant(id: $id) { contactDetails { email } } }",
            json!({ "id": w.ada }),
        )
        .await;
    assert_eq!(
        body["data"]["participant"]["contactDetails"]["email"],
        ADA_EMAIL
    );
    // Reading only the directory is not logged.
    assert_eq!(w.directory(&w.ben_token).await.status, 200);
    let log = w
        .app
        .get(
            &format!("/api/v1/participants/{}/access-log", w.ada),
            &w.ada_token,
        )
        .await;
    assert_eq!(log.status, 200, "{}", log.text);
    let entries = log.body["items"].as_array().expect("items");
    assert_eq!(entries.len(), 2, "{}", log.text);
    assert_eq!(
        entries[0]["accessed_by_organisation_id"],
        w.runs.org.to_string()
    );
    assert_eq!(
        entries[0]["purpose"],
        "GET /api/v1/participants/{id}/contact-details"
    );
    assert_eq!(
        entries[0]["fields"],
        json!(["email", "phone", "postal_address"])
    );
    assert_eq!(entries[0]["accessed_by_roles"], json!(["provider"]));
    assert_eq!(
        entries[1]["accessed_by_organisation_id"],
        w.registers.org.to_string()
    );
    assert_eq!(entries[1]["purpose"], "GraphQL Participant.contactDetails");
}

// --- Consent and the directory --------------------------------------------------------------

#[tokio::test]
async fn consent_shows_a_field_in_the_directory_and_withdrawing_hides_it_on_the_next_read() {
    let w = world().await;
    // Nothing consented: Ada appears with her name only.
    let entry = ada_in(&w.directory(&w.ben_token).await, w.ada);
    assert_eq!(entry["name"], "Ada");
    assert!(
        entry["email"].is_null() && entry["phone"].is_null() && entry["postal_address"].is_null(),
        "{entry}"
    );
    let res = w.consent(&w.ada_token, json!({ "field": "email", "audience_kind": "opportunity", "audience_id": w.work, "granted": true })).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["method"], "online");
    let entry = ada_in(&w.directory(&w.ben_token).await, w.ada);
    assert_eq!(entry["email"], ADA_EMAIL);
    assert!(entry["phone"].is_null(), "only the field consented to");
    // The staff who organise it see the same through GraphQL.
    let body = w
        .app
        .graphql(&w.runs.token, "query($id: UUID!) { directory(opportunityId: $id, first: 50) { edges { node { participantId name email phone } } } }", json!({ "id": w.work }))
        .await;
    let nodes = body["data"]["directory"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    let node = nodes
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["participantId"] == w.ada.to_string())
        .expect("Ada");
    assert_eq!(node["email"], ADA_EMAIL, "{body}");
    // Withdrawing takes effect on the very next read, through both doors.
    let res = w.consent(&w.ada_token, json!({ "field": "email", "audience_kind": "opportunity", "audience_id": w.work, "granted": false })).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let entry = ada_in(&w.directory(&w.ben_token).await, w.ada);
    assert!(entry["email"].is_null(), "{entry}");
    let body = w
        .app
        .graphql(&w.ben_token, "query($id: UUID!) { directory(opportunityId: $id) { edges { node { participantId email } } } }", json!({ "id": w.work }))
        .await;
    assert!(!body.to_string().contains(ADA_EMAIL), "{body}");
    // The history lists both events, with who recorded them.
    let record = w
        .app
        .get(
            &format!("/api/v1/participants/{}/consents", w.ada),
            &w.ada_token,
        )
        .await;
    assert_eq!(record.body["current"], json!([]));
    let history = record.body["history"].as_array().expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["granted"], true);
    assert_eq!(history[1]["granted"], false);
    assert!(history.iter().all(|e| e["recorded_by"] == "test-user"));
}

#[tokio::test]
async fn consent_for_one_piece_of_work_does_not_show_the_field_in_another() {
    let w = world().await;
    let other = advertised_work(&w.app, &w.runs.token, &work("Another panel", json!({}))).await;
    for t in [&w.ada_token, &w.ben_token] {
        let res = w
            .app
            .post(
                &format!("/api/v1/opportunities/{other}/members"),
                t,
                &json!({}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let res = w.consent(&w.ada_token, json!({ "field": "phone", "audience_kind": "opportunity", "audience_id": w.work, "granted": true })).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(
        ada_in(&w.directory(&w.ben_token).await, w.ada)["phone"],
        "+447700900123"
    );
    let there = w
        .app
        .get(
            &format!("/api/v1/opportunities/{other}/directory"),
            &w.ben_token,
        )
        .await;
    assert!(ada_in(&there, w.ada)["phone"].is_null(), "{}", there.text);
}

#[tokio::test]
async fn staff_record_consent_given_in_writing_and_an_organisation_audience_is_for_its_staff_only()
{
    let w = world().await;
    // Staff who registered Ada record her written consent to share her postal address with
    // the organisation that runs the work.
    let body = json!({ "field": "postal_address", "audience_kind": "organisation", "audience_id": w.runs.org, "granted": true });
    let res = w.consent(&w.registers.token, body.clone()).await;
    assert_eq!(res.status, 422, "staff say how it was given: {}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "method");
    let mut written = body.clone();
    written["method"] = json!("written");
    let res = w.consent(&w.registers.token, written.clone()).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(
        res.body["recorded_by_organisation_id"],
        w.registers.org.to_string()
    );
    // Nobody else records it for her.
    for t in [&w.runs.token, &w.ben_token, &w.app.admin_token] {
        let res = w.consent(t, written.clone()).await;
        assert!(res.status == 403 || res.status == 404, "{}", res.text);
    }
    // The person cannot claim a written consent of her own.
    let res = w.consent(&w.ada_token, written).await;
    assert_eq!(res.status, 422, "{}", res.text);
    // The organisers see the address; a fellow member does not.
    let staff_view = ada_in(&w.directory(&w.runs.token).await, w.ada);
    assert_eq!(
        staff_view["postal_address"]["postcode"], "SW1A 1AA",
        "{staff_view}"
    );
    let member_view = ada_in(&w.directory(&w.ben_token).await, w.ada);
    assert!(member_view["postal_address"].is_null(), "{member_view}");
    // A commissioner organising work sees names only, whatever was consented.
    let res = w.consent(&w.ada_token, json!({ "field": "email", "audience_kind": "opportunity", "audience_id": w.work, "granted": true })).await;
    assert_eq!(res.status, 201);
    // An audience that does not exist is refused.
    let res = w.consent(&w.ada_token, json!({ "field": "email", "audience_kind": "organisation", "audience_id": Uuid::now_v7(), "granted": true })).await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "audience_id");
}

#[tokio::test]
async fn a_commissioner_organising_work_sees_names_in_the_directory_but_never_contact_details() {
    let app = spawn_app().await;
    let nhs = app
        .create_organisation("Borough Commissioning", &["commissioner"])
        .await;
    let commissioner = token(&["commissioner"], Some(nhs), None);
    let their_work =
        advertised_work(&app, &commissioner, &work("Commissioning panel", json!({}))).await;
    let (ada, ada_token) = app
        .person_with(json!({ "name": "Ada", "roles": ["lived_experience"], "contact_details": { "email": ADA_EMAIL } }))
        .await;
    let res = app
        .post(
            &format!("/api/v1/opportunities/{their_work}/members"),
            &ada_token,
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    for (kind, audience) in [
        ("opportunity", their_work.clone()),
        ("organisation", nhs.to_string()),
    ] {
        let res = app
            .post(&format!("/api/v1/participants/{ada}/consents"), &ada_token, &json!({ "field": "email", "audience_kind": kind, "audience_id": audience, "granted": true }))
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let dir = app
        .get(
            &format!("/api/v1/opportunities/{their_work}/directory"),
            &commissioner,
        )
        .await;
    assert_eq!(dir.status, 200, "{}", dir.text);
    assert_eq!(dir.body["items"][0]["name"], "Ada");
    assert!(!dir.text.contains(ADA_EMAIL), "{}", dir.text);
    assert_eq!(
        app.get(
            &format!("/api/v1/participants/{ada}/contact-details"),
            &commissioner
        )
        .await
        .status,
        404
    );
}

// --- Export and erasure ---------------------------------------------------------------------

#[tokio::test]
async fn the_person_exports_everything_held_about_them_as_one_document() {
    let w = world().await;
    let res = w.consent(&w.ada_token, json!({ "field": "email", "audience_kind": "opportunity", "audience_id": w.work, "granted": true })).await;
    assert_eq!(res.status, 201);
    assert_eq!(
        w.app
            .get(
                &format!("/api/v1/participants/{}/contact-details", w.ada),
                &w.runs.token
            )
            .await
            .status,
        200
    );
    let doc = w
        .app
        .get(
            &format!("/api/v1/participants/{}/export", w.ada),
            &w.ada_token,
        )
        .await;
    assert_eq!(doc.status, 200, "{}", doc.text);
    assert_eq!(doc.body["participant"]["name"], "Ada Lovelace");
    assert_eq!(doc.body["contact_details"]["email"], ADA_EMAIL);
    assert_eq!(
        doc.body["contact_details"]["postal_address"]["lines"],
        json!(["1 Station Road", "London"])
    );
    assert_eq!(
        doc.body["consents"]["history"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(doc.body["memberships"][0]["opportunity_id"], w.work);
    assert_eq!(doc.body["access_log"].as_array().map(Vec::len), Some(1));
    // The same through GraphQL.
    let body = w
        .app
        .graphql(&w.ada_token, "query($id: UUID!) { participantExport(id: $id) { participant { name } contactDetails { email } memberships { opportunityId } accessLog { purpose } } }", json!({ "id": w.ada }))
        .await;
    assert_eq!(
        body["data"]["participantExport"]["contactDetails"]["email"], ADA_EMAIL,
        "{body}"
    );
    // An admin's export is itself a logged read.
    assert_eq!(
        w.app
            .get(
                &format!("/api/v1/participants/{}/export", w.ada),
                &w.app.admin_token
            )
            .await
            .status,
        200
    );
    let log = w
        .app
        .get(
            &format!("/api/v1/participants/{}/access-log", w.ada),
            &w.ada_token,
        )
        .await;
    assert_eq!(
        log.body["items"][1]["purpose"],
        "GET /api/v1/participants/{id}/export"
    );
}

/// The evidence figures of the work: level, criteria and member counts.
async fn evidence(app: &TestApp, staff: &Staff, work: &str) -> Value {
    let res = app
        .get(&format!("/api/v1/opportunities/{work}"), &staff.token)
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["evidence"].clone()
}

#[tokio::test]
async fn erasure_keeps_the_evidence_exactly_and_leaves_nothing_that_names_the_person() {
    let w = world().await;
    // A session with attendance, so there are hours and criteria to keep.
    let res = w
        .app
        .post(
            &format!("/api/v1/opportunities/{}/sessions", w.work),
            &w.runs.token,
            &json!({
                "starts_at": chrono::Utc::now().to_rfc3339(),
                "duration_minutes": 90,
                "format": "in_person",
                "lived_experience_agenda_slot": true,
                "attendance": [
                    { "participant_id": w.ada, "minutes": 90, "participation": "participated" },
                    { "participant_id": w.ben, "minutes": 60, "participation": "attended" }
                ],
                "decisions": [{ "description": "Meet monthly", "shared_with_lived_experience": true }]
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let res = w.consent(&w.ada_token, json!({ "field": "email", "audience_kind": "opportunity", "audience_id": w.work, "granted": true })).await;
    assert_eq!(res.status, 201);
    let before = evidence(&w.app, &w.runs, &w.work).await;
    let members_before = w
        .app
        .get(
            &format!("/api/v1/opportunities/{}/members", w.work),
            &w.runs.token,
        )
        .await;

    // Nobody but the person (or an admin) erases her.
    for t in [&w.runs.token, &w.registers.token, &w.ben_token] {
        let res = w
            .app
            .post(
                &format!("/api/v1/participants/{}/erasure", w.ada),
                t,
                &json!({}),
            )
            .await;
        assert!(res.status == 403 || res.status == 404, "{}", res.text);
    }
    let res = w
        .app
        .post(
            &format!("/api/v1/participants/{}/erasure", w.ada),
            &w.ada_token,
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(
        res.body["name"].is_null() && res.body["erased_at"].is_string(),
        "{}",
        res.text
    );
    assert_eq!(res.body["roles"], json!(["lived_experience"]));
    let again = w
        .app
        .post(
            &format!("/api/v1/participants/{}/erasure", w.ada),
            &w.ada_token,
            &json!({}),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.body["version"], res.body["version"],
        "asking again changes nothing"
    );

    let after = evidence(&w.app, &w.runs, &w.work).await;
    assert_eq!(before, after, "the evidence is exactly the same");
    let members_after = w
        .app
        .get(
            &format!("/api/v1/opportunities/{}/members", w.work),
            &w.runs.token,
        )
        .await;
    assert_eq!(
        members_before.body["items"].as_array().map(Vec::len),
        members_after.body["items"].as_array().map(Vec::len)
    );
    let attendance = members_after.body["items"].clone();
    assert!(attendance
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["participant_id"] == w.ada.to_string())));

    // The export after erasure holds no personal data, and the database none either.
    let doc = w
        .app
        .get(
            &format!("/api/v1/participants/{}/export", w.ada),
            &w.ada_token,
        )
        .await;
    assert_eq!(doc.status, 200, "{}", doc.text);
    for gone in [
        "Lovelace",
        "\"Ada\"",
        ADA_EMAIL,
        "+447700900123",
        "Station Road",
        "SW1A",
        "mental_health",
    ] {
        assert!(
            !doc.text.contains(gone),
            "`{gone}` is still in the export: {}",
            doc.text
        );
    }
    assert_eq!(
        doc.body["contact_details"],
        json!({ "email": null, "phone": null, "postal_address": null })
    );
    assert_eq!(doc.body["consents"]["history"], json!([]));
    assert_eq!(
        doc.body["attendance"].as_array().map(Vec::len),
        Some(1),
        "the contribution stays"
    );
    let stored = crate::helpers::stored_text(
        &w.app.database_url,
        "SELECT participant_id AS t FROM contact_details",
    );
    assert!(!stored.contains(&w.ada.to_string()));
    let entry = ada_in(&w.directory(&w.ben_token).await, w.ada);
    assert!(
        entry["name"].is_null() && entry["email"].is_null(),
        "{entry}"
    );
    // After erasure, nothing new is kept about her.
    let res = read(
        w.app
            .client
            .put(
                w.app
                    .url(&format!("/api/v1/participants/{}/contact-details", w.ada)),
            )
            .bearer_auth(&w.ada_token)
            .json(&json!({ "email": ADA_EMAIL }))
            .send()
            .await
            .expect("put"),
    )
    .await;
    assert_eq!(res.status, 409, "{}", res.text);
}

// --- Keys -----------------------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_data_key_is_a_clear_start_up_error_not_garbage() {
    let w = world().await;
    let dir = tempfile::tempdir().expect("dir");
    let url = w.app.database_url.clone();
    let data_dir = dir.path().to_path_buf();
    let vars = crate::helpers::base_vars(&url, &data_dir);
    let mut wrong = vars.clone();
    wrong.insert(
        "COPRODUCE_DATA_KEY".to_owned(),
        "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=".to_owned(),
    );
    let settings =
        coproduce::config::Settings::from_lookup(|k| wrong.get(k).cloned()).expect("settings");
    let err = match coproduce::Application::build(settings).await {
        Ok(_) => panic!("a server with the wrong key started"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("COPRODUCE_DATA_KEY") && err.contains("does not have"),
        "{err}"
    );
    let mut short = vars;
    short.insert("COPRODUCE_DATA_KEY".to_owned(), "c2hvcnQ=".to_owned());
    let settings =
        coproduce::config::Settings::from_lookup(|k| short.get(k).cloned()).expect("settings");
    let err = match coproduce::Application::build(settings).await {
        Ok(_) => panic!("a server with a short key started"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("32 random bytes"), "{err}");
}

#[tokio::test]
async fn rotating_the_data_key_keeps_every_value_readable() {
    let w = world().await;
    let new_key = "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICA=";
    let before = crate::helpers::stored_text(
        &w.app.database_url,
        "SELECT key_id AS t FROM contact_details",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_coproduce"))
        .arg("rotate-data-key")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &w.app.database_url)
        .env("COPRODUCE_DATA_DIR", &w.app.data_dir)
        .env("COPRODUCE_JWT_SECRET", crate::helpers::JWT_SECRET)
        .env("COPRODUCE_DATA_KEY", new_key)
        .env("COPRODUCE_DATA_KEY_PREVIOUS", crate::helpers::DATA_KEY)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("3 values re-encrypted"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let after = crate::helpers::stored_text(
        &w.app.database_url,
        "SELECT key_id AS t FROM contact_details",
    );
    assert_eq!(after.len(), 3);
    assert!(
        after.iter().all(|k| !before.contains(k)),
        "{before:?} -> {after:?}"
    );
    // A server with only the new key reads every value.
    let fresh = spawn_app_with(|vars| {
        vars.insert("DATABASE_URL".to_owned(), w.app.database_url.clone());
        vars.insert("COPRODUCE_DATA_KEY".to_owned(), new_key.to_owned());
    })
    .await;
    let res = fresh
        .get(
            &format!("/api/v1/participants/{}/contact-details", w.ada),
            &w.ada_token,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["email"], ADA_EMAIL);
    assert_eq!(res.body["postal_address"]["postcode"], "SW1A 1AA");
}
