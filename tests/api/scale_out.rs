//! Scaling out: two instances of the service on one database behave as one. The same
//! `Idempotency-Key` sent to both at once makes one record; applicants and acceptances raced
//! across both never fill more places than there are; a claim paid through both at once is paid
//! once; consent withdrawn through one hides the contact details through the other on the very
//! next read; and with both deliverers running, each webhook event reaches its receiver exactly
//! once.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{
    spawn_app, spawn_app_with, spawn_beside, stored_text, token, Answer, TestApp,
};
use crate::opportunities::{
    advertised_work, apply, create_work, move_work, participant, provider, work, Person,
};
use crate::webhooks::{poll_until, register, Receiver};

/// A first instance and a second one beside it, on the same database.
async fn two_instances() -> (TestApp, TestApp) {
    let a = spawn_app().await;
    let b = spawn_beside(&a, |_| {}).await;
    assert_ne!(a.address, b.address, "each instance has a port of its own");
    (a, b)
}

/// `A, B, A, B, ...`: the instance the `i`th request goes to.
fn either<'a>(a: &'a TestApp, b: &'a TestApp, i: usize) -> &'a TestApp {
    if i % 2 == 0 {
        a
    } else {
        b
    }
}

fn statuses(answers: &[Answer]) -> Vec<u16> {
    answers.iter().map(|a| a.status).collect()
}

// --- Idempotency keys ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_idempotency_key_sent_to_both_instances_at_once_creates_one_record() {
    let (a, b) = two_instances().await;
    let path = "/api/v1/organisations";
    for round in 0..5 {
        let key = format!("scale-out-key-{round}");
        let name = format!("Raced across instances {round}");
        let body = json!({ "name": name, "kinds": ["provider"] });
        // Two requests through each instance, all at the same moment.
        let answers = join_all(
            (0..4).map(|i| either(&a, &b, i).post_with_key(path, &a.admin_token, &key, &body)),
        )
        .await;

        let mut ids = BTreeSet::new();
        let mut originals = 0;
        for answer in &answers {
            match answer.status {
                201 => {
                    ids.insert(answer.body["id"].as_str().expect("an id").to_owned());
                    if answer.header("idempotent-replayed").as_deref() != Some("true") {
                        originals += 1;
                    }
                }
                409 => assert_eq!(answer.problem_code(), "idempotency_in_progress"),
                other => panic!("round {round}: unexpected {other}: {}", answer.text),
            }
        }
        assert_eq!(
            originals,
            1,
            "round {round}: exactly one request did the work: {:?}",
            statuses(&answers)
        );
        assert_eq!(ids.len(), 1, "round {round}: every 201 names one record");
        let id = ids.into_iter().next().expect("the id");

        let stored = stored_text(
            &a.database_url,
            &format!("SELECT id AS t FROM organisations WHERE name = '{name}'"),
        );
        assert_eq!(
            stored,
            std::slice::from_ref(&id),
            "round {round}: one record is stored"
        );

        // Once done, a retry through either instance is the stored answer.
        for app in [&a, &b] {
            let again = app.post_with_key(path, &a.admin_token, &key, &body).await;
            assert_eq!(again.status, 201, "{}", again.text);
            assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
            assert_eq!(again.body["id"], id.as_str());
        }
    }
    // Nothing else was created: five rounds, five organisations, seen alike by both.
    for app in [&a, &b] {
        let list = app
            .get("/api/v1/organisations?limit=200", &a.admin_token)
            .await;
        assert_eq!(list.status, 200, "{}", list.text);
        assert_eq!(
            list.body["items"].as_array().map(Vec::len),
            Some(5),
            "{}",
            list.text
        );
    }
}

// --- Places on a piece of work ---------------------------------------------------------------

async fn places_taken(app: &TestApp, token: &str, id: &str) -> i64 {
    let res = app.get(&format!("/api/v1/opportunities/{id}"), token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["places_taken"].as_i64().expect("places_taken")
}

/// The participants of the members list with this status, sorted.
async fn members_with(app: &TestApp, token: &str, id: &str, status: &str) -> Vec<String> {
    let res = app
        .get(&format!("/api/v1/opportunities/{id}/members"), token)
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let mut ids: Vec<String> = res.body["items"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|m| m["status"] == status)
        .map(|m| m["participant_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applicants_racing_through_both_instances_never_take_more_places_than_there_are() {
    let (a, b) = two_instances().await;
    let staff = provider(&a, "Camden Recovery Network").await;
    for places in [1_usize, 2, 3] {
        let id = advertised_work(
            &a,
            &staff.token,
            &work(
                &format!("{places} places"),
                json!({ "places": places, "admission": "first_come" }),
            ),
        )
        .await;
        let mut people: Vec<Person> = Vec::new();
        for _ in 0..places + 5 {
            people.push(participant(&a).await);
        }
        let answers = join_all(
            people
                .iter()
                .enumerate()
                .map(|(i, p)| apply(either(&a, &b, i), p, &id)),
        )
        .await;

        let accepted: Vec<&Answer> = answers.iter().filter(|r| r.status == 201).collect();
        assert_eq!(
            accepted.len(),
            places,
            "{places} places: {:?}",
            statuses(&answers)
        );
        for r in &answers {
            if r.status == 201 {
                assert_eq!(r.body["status"], "accepted", "{}", r.text);
            } else {
                assert_eq!(r.status, 409, "{}", r.text);
                assert_eq!(r.problem_code(), "conflict");
            }
        }
        let mut winners: Vec<String> = accepted
            .iter()
            .map(|r| {
                r.body["participant_id"]
                    .as_str()
                    .expect("a person")
                    .to_owned()
            })
            .collect();
        winners.sort();
        for app in [&a, &b] {
            assert_eq!(places_taken(app, &staff.token, &id).await, places as i64);
            assert_eq!(
                members_with(app, &staff.token, &id, "accepted").await,
                winners,
                "only those who got a place are members"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_accepting_through_both_instances_at_once_fill_the_one_place_once() {
    let (a, b) = two_instances().await;
    let staff = provider(&a, "Camden Recovery Network").await;
    for round in 0..3 {
        let id = advertised_work(
            &a,
            &staff.token,
            &work(
                &format!("Interview panel {round}"),
                json!({ "places": 1, "admission": "staff_review" }),
            ),
        )
        .await;
        let mut memberships = Vec::new();
        for i in 0..4 {
            let person = participant(&a).await;
            let res = apply(either(&a, &b, i), &person, &id).await;
            assert_eq!(res.status, 201, "{}", res.text);
            assert_eq!(res.body["status"], "applied");
            memberships.push(res.body["id"].as_str().expect("a membership").to_owned());
        }
        let accepts: Vec<String> = memberships
            .iter()
            .map(|m| format!("/api/v1/opportunities/{id}/members/{m}/accept"))
            .collect();
        let empty = json!({});
        let answers = join_all(
            accepts
                .iter()
                .enumerate()
                .map(|(i, path)| either(&a, &b, i).post(path, &staff.token, &empty)),
        )
        .await;
        let accepted: Vec<&Answer> = answers.iter().filter(|r| r.status == 200).collect();
        assert_eq!(accepted.len(), 1, "round {round}: {:?}", statuses(&answers));
        for r in &answers {
            if r.status != 200 {
                assert_eq!(r.status, 409, "{}", r.text);
                assert_eq!(r.problem_code(), "conflict");
            }
        }
        let winner = accepted[0].body["participant_id"]
            .as_str()
            .expect("a person")
            .to_owned();
        for app in [&a, &b] {
            assert_eq!(places_taken(app, &staff.token, &id).await, 1);
            assert_eq!(
                members_with(app, &staff.token, &id, "accepted").await,
                std::slice::from_ref(&winner)
            );
            assert_eq!(
                members_with(app, &staff.token, &id, "applied").await.len(),
                3,
                "the others still wait"
            );
        }
    }
}

// --- Paying a claim --------------------------------------------------------------------------

/// A claim for `minutes` at a session on `starts_at`, submitted by the person and approved by
/// the staff; returns its id.
async fn approved_claim(
    app: &TestApp,
    staff_token: &str,
    person: Uuid,
    work: &str,
    starts_at: &str,
) -> String {
    let person_token = token(&["participant"], None, Some(person));
    let session = app
        .post(
            &format!("/api/v1/opportunities/{work}/sessions"),
            staff_token,
            &json!({
                "starts_at": starts_at,
                "duration_minutes": 120,
                "format": "in_person",
                "attendance": [{ "participant_id": person, "minutes": 90, "participation": "participated" }],
            }),
        )
        .await;
    assert_eq!(session.status, 201, "{}", session.text);
    let res = app
        .post(
            "/api/v1/claims",
            &person_token,
            &json!({
                "opportunity_id": work,
                "lines": [{ "kind": "participation", "session_id": session.body["id"], "minutes": 90 }],
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.body["id"].as_str().expect("a claim").to_owned();
    for (verb, t) in [("submit", person_token.as_str()), ("approve", staff_token)] {
        let res = app
            .post(&format!("/api/v1/claims/{id}/{verb}"), t, &json!({}))
            .await;
        assert_eq!(res.status, 200, "{verb}: {}", res.text);
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_paid_through_both_instances_at_once_is_paid_once() {
    let (a, b) = two_instances().await;
    let staff = provider(&a, "Camden Recovery Network").await;
    let person = a
        .register_participant(
            &staff.token,
            json!({ "name": "Ada Lovelace", "roles": ["lived_experience"] }),
        )
        .await;
    let work = create_work(
        &a,
        &staff.token,
        &work("Peer panel", json!({ "paid": true })),
    )
    .await;
    let res = a
        .post(
            &format!("/api/v1/opportunities/{work}/members"),
            &staff.token,
            &json!({ "participant_id": person, "joined_at": "2026-02-01T09:00:00Z" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);

    for (round, day) in ["2026-03-03", "2026-03-10", "2026-03-17", "2026-03-24"]
        .into_iter()
        .enumerate()
    {
        let id = approved_claim(&a, &staff.token, person, &work, &format!("{day}T10:00:00Z")).await;
        let path = format!("/api/v1/claims/{id}/pay");
        let pay_a = json!({ "method": "bank_transfer", "reference": format!("A-{round}") });
        let pay_b = json!({ "method": "bank_transfer", "reference": format!("B-{round}") });
        let (through_a, through_b) = tokio::join!(
            a.post(&path, &staff.token, &pay_a),
            b.post(&path, &staff.token, &pay_b)
        );
        let (winner, loser, reference) = match (through_a.status, through_b.status) {
            (200, _) => (&through_a, &through_b, format!("A-{round}")),
            (_, 200) => (&through_b, &through_a, format!("B-{round}")),
            _ => panic!(
                "round {round}: nobody paid: {} / {}",
                through_a.text, through_b.text
            ),
        };
        assert_eq!(winner.body["claim"]["status"], "paid", "{}", winner.text);
        assert!(
            matches!(loser.status, 409 | 412),
            "round {round}: paid twice: {} / {}",
            through_a.text,
            through_b.text
        );
        let code = loser.problem_code();
        assert!(
            ["conflict", "invalid_transition", "precondition_failed"].contains(&code.as_str()),
            "{}",
            loser.text
        );

        // One payment: the winner's, recorded once, however it is looked at.
        assert_eq!(
            stored_text(
                &a.database_url,
                &format!(
                    "SELECT status || ':' || COALESCE(payment_reference, '') AS t FROM claims WHERE id = '{id}'"
                ),
            ),
            [format!("paid:{reference}")]
        );
        assert_eq!(
            stored_text(
                &a.database_url,
                &format!(
                    "SELECT id AS t FROM claim_events WHERE claim_id = '{id}' AND action = 'paid'"
                ),
            )
            .len(),
            1,
            "round {round}: one payment in the claim's history"
        );
        assert_eq!(
            stored_text(
                &a.database_url,
                "SELECT data AS t FROM events WHERE event_type = 'claim.paid'",
            )
            .iter()
            .filter(|data| data.contains(&id))
            .count(),
            1,
            "round {round}: one claim.paid event"
        );
        for app in [&a, &b] {
            let claim = app.get(&format!("/api/v1/claims/{id}"), &staff.token).await;
            assert_eq!(claim.status, 200, "{}", claim.text);
            assert_eq!(claim.body["status"], "paid");
            assert_eq!(claim.body["payment_reference"], reference.as_str());
        }
    }
}

// --- Consent ---------------------------------------------------------------------------------

const ADA_EMAIL: &str = "ada.lovelace@example.org";

/// Ada's entry in the work's directory, as `as_token` sees it through `app`.
async fn ada_in_directory(app: &TestApp, as_token: &str, work: &str, ada: Uuid) -> Value {
    let res = app
        .get(&format!("/api/v1/opportunities/{work}/directory"), as_token)
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["items"]
        .as_array()
        .expect("a directory")
        .iter()
        .find(|e| e["participant_id"] == ada.to_string())
        .cloned()
        .unwrap_or_else(|| panic!("Ada is listed: {}", res.text))
}

/// Ada's email in the work's directory through GraphQL, as `as_token` sees it through `app`.
async fn ada_email_in_graphql(app: &TestApp, as_token: &str, work: &str, ada: Uuid) -> Value {
    let body = app
        .graphql(
            as_token,
            "query($id: UUID!) { directory(opportunityId: $id, first: 50) { edges { node { participantId email } } } }",
            json!({ "id": work }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["directory"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["participantId"] == ada.to_string())
        .unwrap_or_else(|| panic!("Ada is listed: {body}"))["email"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_withdrawn_through_one_instance_hides_the_details_through_the_other_at_once() {
    let (a, b) = two_instances().await;
    let runs = provider(&a, "Camden Recovery Network").await;
    let peer = a.create_organisation("Peer Voices", &["facilitator"]).await;
    let registers = token(&["facilitator"], Some(peer), None);
    let ada = a
        .register_participant(
            &registers,
            json!({
                "name": "Ada Lovelace",
                "preferred_name": "Ada",
                "roles": ["lived_experience"],
                "contact_details": { "email": ADA_EMAIL, "phone": "07700 900123" },
            }),
        )
        .await;
    let ben = a
        .register_participant(
            &registers,
            json!({ "name": "Ben Okafor", "roles": ["carer"] }),
        )
        .await;
    let work = advertised_work(&a, &runs.token, &work("Peer panel", json!({}))).await;
    let (ada_token, ben_token) = (
        token(&["participant"], None, Some(ada)),
        token(&["participant"], None, Some(ben)),
    );
    for t in [&ada_token, &ben_token] {
        let res = a
            .post(
                &format!("/api/v1/opportunities/{work}/members"),
                t,
                &json!({}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        assert_eq!(res.body["status"], "accepted");
    }
    let consent = |granted: bool| json!({ "field": "email", "audience_kind": "opportunity", "audience_id": work, "granted": granted });
    let consents_path = format!("/api/v1/participants/{ada}/consents");

    // Nothing consented yet: neither instance shows the email.
    for app in [&a, &b] {
        assert!(ada_in_directory(app, &ben_token, &work, ada).await["email"].is_null());
    }
    // Given and withdrawn through one instance, read through the other; then the other way.
    for round in 0..4 {
        let (writes, reads) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };

        let res = writes
            .post(&consents_path, &ada_token, &consent(true))
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        let entry = ada_in_directory(reads, &ben_token, &work, ada).await;
        assert_eq!(entry["email"], ADA_EMAIL, "round {round}: {entry}");
        assert!(entry["phone"].is_null(), "only the field consented to");
        assert_eq!(
            ada_email_in_graphql(reads, &runs.token, &work, ada).await,
            ADA_EMAIL,
            "round {round}"
        );

        let res = writes
            .post(&consents_path, &ada_token, &consent(false))
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        // The very next read through the other instance no longer shows it.
        let entry = ada_in_directory(reads, &ben_token, &work, ada).await;
        assert!(entry["email"].is_null(), "round {round}: {entry}");
        for t in [&ben_token, &runs.token] {
            assert!(
                ada_email_in_graphql(reads, t, &work, ada).await.is_null(),
                "round {round}"
            );
        }
        let record = reads.get(&consents_path, &ada_token).await;
        assert_eq!(record.status, 200, "{}", record.text);
        assert_eq!(record.body["current"], json!([]), "{}", record.text);
        assert_eq!(
            record.body["history"].as_array().map(Vec::len),
            Some(2 * (round + 1)),
            "{}",
            record.text
        );
    }
}

// --- Webhook delivery ------------------------------------------------------------------------

/// Waits up to `secs` seconds for the receiver to hold at least `n` requests.
async fn received_within(receiver: &Receiver, n: usize, secs: u64) -> usize {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let got = receiver.received().len();
        if got >= n || tokio::time::Instant::now() >= deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_both_deliverers_running_each_event_reaches_the_receiver_exactly_once() {
    let a = spawn_app_with(|vars| {
        vars.insert(
            "COPRODUCE_WEBHOOK_ALLOW_INTERNAL".to_owned(),
            "true".to_owned(),
        );
        vars.insert("COPRODUCE_WEBHOOK_POLL_MS".to_owned(), "50".to_owned());
        vars.insert(
            "COPRODUCE_WEBHOOK_RETRY_SCHEDULE".to_owned(),
            "200ms".to_owned(),
        );
    })
    .await;
    // The same variables, so the same fast poll and loopback allowed.
    let b = spawn_beside(&a, |_| {}).await;
    assert_eq!(
        b.vars.get("COPRODUCE_WEBHOOK_POLL_MS").map(String::as_str),
        Some("50")
    );
    let receiver = Receiver::start(&[]).await;
    let staff = provider(&a, "Camden Recovery Network").await;
    let (endpoint, _) =
        register(&a, &staff, &receiver.url, json!(["opportunity.advertised"])).await;

    let mut works = BTreeSet::new();
    for round in 0..2 {
        let mut drafts = Vec::new();
        for i in 0..10 {
            drafts.push(
                create_work(
                    either(&a, &b, i),
                    &staff.token,
                    &work(&format!("Work {round}.{i}"), json!({})),
                )
                .await,
            );
        }
        // Ten events at once, half through each instance.
        let answers = join_all(
            drafts
                .iter()
                .enumerate()
                .map(|(i, id)| move_work(either(&a, &b, i), &staff.token, id, "advertise")),
        )
        .await;
        assert!(
            answers.iter().all(|r| r.status == 200),
            "{:?}",
            statuses(&answers)
        );
        works.extend(drafts);

        let expected = works.len();
        let got = received_within(&receiver, expected, 10).await;
        assert_eq!(got, expected, "round {round}: every event arrived");
        // Longer than several polls and the retry schedule: nothing more comes.
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let received = receiver.received();
        assert_eq!(
            received.len(),
            expected,
            "round {round}: an event was delivered twice"
        );

        let delivered: BTreeSet<String> = received
            .iter()
            .map(|r| r.headers["webhook-id"].clone())
            .collect();
        assert_eq!(delivered.len(), expected, "round {round}: one id each");
        let events = b
            .get(
                "/api/v1/events?type=opportunity.advertised&limit=200",
                &staff.token,
            )
            .await;
        assert_eq!(events.status, 200, "{}", events.text);
        let event_ids: BTreeSet<String> = events.body["items"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["id"].as_str().expect("an id").to_owned())
            .collect();
        assert_eq!(delivered, event_ids, "round {round}: the events, each once");
        let about: BTreeSet<String> = received
            .iter()
            .map(|r| {
                let body: Value = serde_json::from_slice(&r.body).expect("a JSON body");
                body["data"]["opportunity_id"]
                    .as_str()
                    .expect("the work")
                    .to_owned()
            })
            .collect();
        assert_eq!(about, works, "round {round}: one for each piece of work");
    }
    // The log agrees: one successful attempt per event, none retried. A batch's attempts are
    // written once all its answers are in, so the last may land after the receiver has them.
    let attempts = poll_until(
        &a,
        &staff,
        &format!("/api/v1/webhooks/{endpoint}/attempts?limit=200"),
        |body| {
            body["items"]
                .as_array()
                .is_some_and(|i| i.len() >= works.len())
        },
    )
    .await;
    let items = attempts["items"].as_array().expect("attempts");
    assert_eq!(items.len(), works.len(), "{attempts}");
    assert!(items.iter().all(|i| i["succeeded"] == true), "{attempts}");
}
