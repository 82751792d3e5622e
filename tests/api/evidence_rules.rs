//! Holes in the honest classification, closed, through both doors: nothing unstated counts as
//! lived experience; a decision is shared only when lived-experience members were there;
//! attendance cannot predate joining; cancelled work takes no records; and work posted after
//! the fact can say when it was advertised.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::{gql_code, spawn_app, TestApp};
use crate::opportunities::{advertised_work, create_work, error_fields, move_work, provider, work};
use crate::sessions::{claimed_co_production, days_ago, held, sessions_path, verdict};

fn problem_messages(body: &Value) -> String {
    body["errors"].to_string()
}

#[tokio::test]
async fn a_member_whose_experience_was_not_stated_never_counts_as_lived_experience() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(
        &app,
        &staff.token,
        &work(
            "Staff only",
            json!({ "claimed_mode": "co_production", "paid": true }),
        ),
    )
    .await;
    // Registered with no role: neither their profile nor the invitation states any experience.
    let person = app
        .register_participant(&staff.token, json!({ "roles": [] }))
        .await;
    let res = app
        .post(
            &format!("/api/v1/opportunities/{id}/members"),
            &staff.token,
            &json!({ "participant_id": person, "joined_at": days_ago(30) }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(
        res.body["experience"], "none",
        "unstated is none: {}",
        res.text
    );
    for days in [20, 10] {
        let res = app
            .post(
                &sessions_path(&id),
                &staff.token,
                &json!({ "starts_at": days_ago(days), "duration_minutes": 60, "format": "virtual",
                         "attendance": [{ "participant_id": person, "minutes": 60, "participation": "participated" }],
                         "decisions": [{ "description": "Agree", "shared_with_lived_experience": true }] }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    assert_eq!(
        move_work(&app, &staff.token, &id, "start").await.status,
        200
    );
    assert_eq!(move_work(&app, &staff.token, &id, "end").await.status, 200);
    let v = verdict(&app, &staff.token, &id).await;
    assert_eq!(v.level, "no_engagement", "{}", v.evidence);
    assert!(v.failing.contains(&"from_the_start".to_owned()));
    assert!(v.failing.contains(&"equal_say_in_decisions".to_owned()));

    // GraphQL says the same, and its invitation without experience is `NONE` too.
    let someone = app
        .register_participant(&staff.token, json!({ "roles": [] }))
        .await;
    let body = app
        .graphql(
            &staff.token,
            "mutation($id: UUID!, $p: UUID!) { inviteMember(opportunityId: $id, participantId: $p) { experience } }",
            json!({ "id": create_and_advertise_gql(&app, &staff.token).await, "p": someone }),
        )
        .await;
    assert_eq!(body["data"]["inviteMember"]["experience"], "NONE", "{body}");
    let body = app
        .graphql(
            &staff.token,
            "query($id: UUID!) { opportunity(id: $id) { evidence { evidencedLevel } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        body["data"]["opportunity"]["evidence"]["evidencedLevel"], "NO_ENGAGEMENT",
        "{body}"
    );
}

async fn create_and_advertise_gql(app: &TestApp, token: &str) -> String {
    advertised_work(app, token, &work("Another", json!({}))).await
}

#[tokio::test]
async fn a_decision_marked_shared_at_a_session_no_lived_experience_member_attended_is_no_equal_say()
{
    let app = spawn_app().await;
    let (staff, id, people) = claimed_co_production(&app, 10).await;
    held(
        &app,
        &staff,
        &id,
        days_ago(9),
        &people,
        &[("Agree the aims", true)],
    )
    .await;
    // Held with staff alone, yet the decision is marked as shared.
    let alone = days_ago(5);
    held(&app, &staff, &id, alone, &[], &[("Cut the budget", true)]).await;
    held(
        &app,
        &staff,
        &id,
        days_ago(1),
        &people,
        &[("Agree the plan", true)],
    )
    .await;
    assert_eq!(move_work(&app, &staff.token, &id, "end").await.status, 200);

    let v = verdict(&app, &staff.token, &id).await;
    assert_eq!(v.failing, ["equal_say_in_decisions"], "{}", v.evidence);
    assert_eq!(v.level, "involvement");
    let reason = v.reason("equal_say_in_decisions");
    assert!(reason.starts_with("2 of 3 recorded decisions"), "{reason}");
    let when = alone.format("%Y-%m-%d %H:%M UTC").to_string();
    assert!(
        reason.contains(&when),
        "the reason names the session: {reason}"
    );

    let body = app
        .graphql(
            &staff.token,
            "query($id: UUID!) { opportunity(id: $id) { evidence { evidencedLevel criteria { criterion met reason } } } }",
            json!({ "id": id }),
        )
        .await;
    let evidence = &body["data"]["opportunity"]["evidence"];
    assert_eq!(evidence["evidencedLevel"], "INVOLVEMENT", "{body}");
    let equal_say = evidence["criteria"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["criterion"] == "EQUAL_SAY_IN_DECISIONS")
        })
        .expect("the criterion");
    assert_eq!(equal_say["met"], false);
    assert!(equal_say["reason"]
        .as_str()
        .is_some_and(|r| r.contains(&when)));
}

#[tokio::test]
async fn attendance_at_a_session_held_before_the_person_joined_is_refused_naming_both_dates() {
    let app = spawn_app().await;
    let (staff, id, people) = claimed_co_production(&app, 3).await;
    let before = days_ago(7);
    let joined = Utc::now() - Duration::days(3);

    // Posted with the session: refused, and nothing is stored.
    let res = app
        .post(
            &sessions_path(&id),
            &staff.token,
            &json!({ "starts_at": before, "duration_minutes": 60, "format": "virtual",
                     "attendance": [{ "participant_id": people[0].id, "minutes": 60, "participation": "participated" }] }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["attendance[0].participant_id"]);
    let message = problem_messages(&res.body);
    assert!(
        message.contains(&before.format("%Y-%m-%d").to_string()),
        "{message}"
    );
    assert!(
        message.contains(&joined.format("%Y-%m-%d").to_string()),
        "{message}"
    );
    let listed = app.get(&sessions_path(&id), &staff.token).await;
    assert_eq!(listed.body["items"], json!([]), "nothing stored");

    // Recorded one at a time under a session already posted: refused too.
    let res = app
        .post(
            &sessions_path(&id),
            &staff.token,
            &json!({ "starts_at": before, "duration_minutes": 60, "format": "virtual" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let sid = res.body["id"].as_str().expect("id").to_owned();
    let res = app
        .post(
            &format!("/api/v1/sessions/{sid}/attendance"),
            &staff.token,
            &json!({ "participant_id": people[1].id, "minutes": 30, "participation": "attended" }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["participant_id"]);

    // And through GraphQL.
    let body = app
        .graphql(
            &staff.token,
            "mutation($id: UUID!, $input: SessionInput!) { createSession(opportunityId: $id, input: $input) { session { id } } }",
            json!({ "id": id, "input": { "startsAt": before.to_rfc3339(), "durationMinutes": 60, "format": "VIRTUAL",
                    "attendance": [{ "participantId": people[0].id, "minutes": 60, "participation": "ATTENDED" }] } }),
        )
        .await;
    assert_eq!(
        gql_code(&body).as_deref(),
        Some("validation_failed"),
        "{body}"
    );
    let errors = body["errors"][0]["extensions"]["errors"].to_string();
    assert!(
        errors.contains(&joined.format("%Y-%m-%d").to_string()),
        "{errors}"
    );

    // Attendance after joining is fine.
    held(&app, &staff, &id, days_ago(1), &people, &[]).await;
}

#[tokio::test]
async fn cancelled_work_takes_no_sessions_attendance_or_decisions_but_ended_work_does() {
    let app = spawn_app().await;
    let (staff, id, people) = claimed_co_production(&app, 30).await;
    let res = app
        .post(
            &sessions_path(&id),
            &staff.token,
            &json!({ "starts_at": days_ago(10), "duration_minutes": 60, "format": "virtual" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let sid = res.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        move_work(&app, &staff.token, &id, "cancel").await.status,
        200
    );

    let session = json!({ "starts_at": days_ago(5), "duration_minutes": 60, "format": "virtual" });
    let res = app.post(&sessions_path(&id), &staff.token, &session).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert!(res.text.contains("cancelled"));
    let res = app
        .post(
            &format!("/api/v1/sessions/{sid}/attendance"),
            &staff.token,
            &json!({ "participant_id": people[0].id, "minutes": 30, "participation": "attended" }),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);
    let res = app
        .post(
            &format!("/api/v1/sessions/{sid}/decisions"),
            &staff.token,
            &json!({ "description": "Late", "shared_with_lived_experience": true }),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);
    let body = app
        .graphql(
            &staff.token,
            "mutation($id: UUID!, $input: SessionInput!) { createSession(opportunityId: $id, input: $input) { session { id } } }",
            json!({ "id": id, "input": { "startsAt": days_ago(4).to_rfc3339(), "durationMinutes": 60, "format": "VIRTUAL" } }),
        )
        .await;
    assert_eq!(gql_code(&body).as_deref(), Some("conflict"), "{body}");
    let listed = app.get(&sessions_path(&id), &staff.token).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));

    // Ended work still takes history posted late.
    let (staff, id, people) = claimed_co_production(&app, 30).await;
    assert_eq!(move_work(&app, &staff.token, &id, "end").await.status, 200);
    held(&app, &staff, &id, days_ago(2), &people, &[("Agreed", true)]).await;
}

#[tokio::test]
async fn staff_may_record_when_work_posted_after_the_fact_was_advertised() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let today = Utc::now().date_naive();
    let starts = today - Duration::days(10);
    let advertised = today - Duration::days(40);
    let body = work(
        "Posted late",
        json!({ "starts_on": starts, "advertised_on": advertised, "paid": true,
                "support_offered": ["travel"] }),
    );
    let id = create_work(&app, &staff.token, &body).await;
    let res = app
        .get(&format!("/api/v1/opportunities/{id}"), &staff.token)
        .await;
    assert_eq!(res.body["advertised_on"], json!(advertised), "{}", res.text);
    assert_eq!(
        move_work(&app, &staff.token, &id, "advertise").await.status,
        200
    );
    let res = app
        .get(&format!("/api/v1/opportunities/{id}"), &staff.token)
        .await;
    assert_eq!(
        res.body["advertised_on"],
        json!(advertised),
        "advertising keeps it"
    );
    let check = app
        .get(
            &format!("/api/v1/opportunities/{id}/inclusion-check"),
            &staff.token,
        )
        .await;
    assert!(
        !check.text.contains("short_notice"),
        "advertised 30 days ahead: {}",
        check.text
    );

    // Not in the future, and not after the work started.
    for (when, why) in [
        (today + Duration::days(1), "future"),
        (starts + Duration::days(1), "started"),
    ] {
        let res = app
            .post(
                "/api/v1/opportunities",
                &staff.token,
                &work(
                    "Bad date",
                    json!({ "starts_on": starts, "advertised_on": when }),
                ),
            )
            .await;
        assert_eq!(res.status, 422, "{}", res.text);
        assert_eq!(error_fields(&res), ["advertised_on"]);
        assert!(res.text.contains(why), "{}", res.text);
    }

    // GraphQL takes it too.
    let body = app
        .graphql(
            &staff.token,
            "mutation($on: NaiveDate!) { createOpportunity(input: { title: \"T\", description: \"D\", kind: WORKSHOP, claimedMode: INVOLVEMENT, format: VIRTUAL, advertisedOn: $on }) { advertisedOn } }",
            json!({ "on": advertised }),
        )
        .await;
    assert_eq!(
        body["data"]["createOpportunity"]["advertisedOn"],
        json!(advertised),
        "{body}"
    );
}
