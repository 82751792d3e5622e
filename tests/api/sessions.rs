//! Sessions through REST: a session posted with its attendance and decisions in one call (all
//! stored or none), attendance and decisions recorded one at a time, who may read them, and the
//! honest classification each piece of work gets from them on `GET /api/v1/opportunities/{id}`.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};
use crate::opportunities::{
    advertised_work, apply, error_fields, move_work, participant, provider, registered_person,
    work, Person, Staff,
};

pub(crate) fn sessions_path(id: &str) -> String {
    format!("/api/v1/opportunities/{id}/sessions")
}

/// Advertised work with `n` accepted members.
async fn group(app: &TestApp, n: usize, extra: Value) -> (Staff, String, Vec<Person>) {
    let staff = provider(app, "Provider").await;
    let id = advertised_work(app, &staff.token, &work("Group", extra)).await;
    let mut people = Vec::new();
    for _ in 0..n {
        let p = participant(app).await;
        let res = apply(app, &p, &id).await;
        assert_eq!(res.status, 201, "{}", res.text);
        people.push(p);
    }
    (staff, id, people)
}

async fn sessions(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let res = app.get(&sessions_path(id), token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["items"].as_array().expect("a page").clone()
}

/// How many items a (one-page) list holds.
async fn count(app: &TestApp, token: &str, path: &str) -> usize {
    let res = app.get(path, token).await;
    assert_eq!(res.status, 200, "{path}: {}", res.text);
    res.body["items"].as_array().map_or(0, Vec::len)
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a timestamp: {v}"))
}

#[tokio::test]
async fn staff_post_a_session_with_its_attendance_and_decisions_in_one_call() {
    let app = spawn_app().await;
    let (staff, id, people) = group(&app, 2, json!({})).await;
    let starts_at = "2030-05-01T18:00:00Z";
    let res = app
        .post(
            &sessions_path(&id),
            &staff.token,
            &json!({
                "starts_at": starts_at,
                "duration_minutes": 120,
                "format": "hybrid",
                "lived_experience_agenda_slot": true,
                "attendance": [
                    { "participant_id": people[0].id, "minutes": 120, "participation": "participated" },
                    { "participant_id": people[1].id, "minutes": 90, "participation": "attended" },
                ],
                "decisions": [
                    { "description": "  Open the cafe on Saturdays ", "shared_with_lived_experience": true },
                    { "description": "Hire a peer worker", "shared_with_lived_experience": false },
                ],
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let s = &res.body;
    let session_id = s["id"].as_str().expect("id").to_owned();
    assert_eq!(
        res.header("location"),
        Some(format!("/api/v1/sessions/{session_id}/attendance"))
    );
    assert_eq!(s["opportunity_id"], id.as_str());
    assert_eq!(time(&s["starts_at"]), time(&json!(starts_at)));
    assert_eq!(s["duration_minutes"], 120);
    assert_eq!(s["format"], "hybrid");
    assert_eq!(s["lived_experience_agenda_slot"], true);
    let attendance: Vec<(String, i64, String)> = s["attendance"]
        .as_array()
        .expect("attendance")
        .iter()
        .map(|a| {
            assert_eq!(a["session_id"], session_id.as_str());
            (
                a["participant_id"].as_str().unwrap_or_default().to_owned(),
                a["minutes"].as_i64().unwrap_or_default(),
                a["participation"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        attendance,
        [
            (people[0].id.to_string(), 120, "participated".to_owned()),
            (people[1].id.to_string(), 90, "attended".to_owned()),
        ]
    );
    let decisions: Vec<(String, bool)> = s["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .map(|d| {
            assert_eq!(d["session_id"], session_id.as_str());
            (
                d["description"].as_str().unwrap_or_default().to_owned(),
                d["shared_with_lived_experience"]
                    .as_bool()
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        [
            ("Open the cafe on Saturdays".to_owned(), true),
            ("Hire a peer worker".to_owned(), false),
        ]
    );

    // Read back: the session in the work's list (without its nested records), and its
    // attendance and decisions through the session's own endpoints, each a page.
    let listed = sessions(&app, &staff.token, &id).await;
    assert_eq!(listed.len(), 1);
    let mut bare = s.clone();
    if let Some(o) = bare.as_object_mut() {
        o.remove("attendance");
        o.remove("decisions");
    }
    assert_eq!(listed[0], bare);
    let res = app
        .get(
            &format!("/api/v1/sessions/{session_id}/attendance"),
            &staff.token,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["items"], s["attendance"]);
    assert_eq!(res.body["next_cursor"], Value::Null);
    let res = app
        .get(
            &format!("/api/v1/sessions/{session_id}/decisions"),
            &staff.token,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["items"], s["decisions"]);
}

#[tokio::test]
async fn one_attendance_line_for_someone_who_is_not_a_member_stores_nothing() {
    let app = spawn_app().await;
    let (staff, id, people) = group(&app, 1, json!({})).await;
    let stranger = participant(&app).await;
    let res = app
        .post(
            &sessions_path(&id),
            &staff.token,
            &json!({
                "starts_at": "2030-05-01T18:00:00Z", "duration_minutes": 60, "format": "virtual",
                "attendance": [
                    { "participant_id": people[0].id, "minutes": 60, "participation": "participated" },
                    { "participant_id": stranger.id, "minutes": 60, "participation": "participated" },
                ],
                "decisions": [{ "description": "Meet monthly", "shared_with_lived_experience": true }],
            }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["attendance[1].participant_id"]);
    assert!(sessions(&app, &staff.token, &id).await.is_empty());
}

#[tokio::test]
async fn minutes_beyond_the_session_store_nothing() {
    let app = spawn_app().await;
    let (staff, id, people) = group(&app, 2, json!({})).await;
    let res = app
        .post(
            &sessions_path(&id),
            &staff.token,
            &json!({
                "starts_at": "2030-05-01T18:00:00Z", "duration_minutes": 60, "format": "virtual",
                "attendance": [
                    { "participant_id": people[0].id, "minutes": 61, "participation": "participated" },
                    { "participant_id": people[1].id, "minutes": 60, "participation": "attended" },
                ],
            }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["attendance[0].minutes"]);
    assert!(sessions(&app, &staff.token, &id).await.is_empty());

    // The same person twice, a bad duration and an empty decision: every problem at once.
    let res = app
        .post(
            &sessions_path(&id),
            &staff.token,
            &json!({
                "starts_at": "2030-05-01T18:00:00Z", "duration_minutes": 0, "format": "virtual",
                "attendance": [
                    { "participant_id": people[0].id, "minutes": 0, "participation": "attended" },
                    { "participant_id": people[0].id, "minutes": 0, "participation": "attended" },
                ],
                "decisions": [{ "description": " ", "shared_with_lived_experience": true }],
            }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(
        error_fields(&res),
        [
            "duration_minutes",
            "attendance[1].participant_id",
            "decisions[0].description"
        ]
    );
    assert!(sessions(&app, &staff.token, &id).await.is_empty());
}

#[tokio::test]
async fn the_same_session_posted_twice_with_one_idempotency_key_is_written_once() {
    let app = spawn_app().await;
    let (staff, id, people) = group(&app, 1, json!({})).await;
    let body = json!({
        "starts_at": "2030-05-01T18:00:00Z", "duration_minutes": 60, "format": "in_person",
        "attendance": [{ "participant_id": people[0].id, "minutes": 60, "participation": "participated" }],
        "decisions": [{ "description": "Meet monthly", "shared_with_lived_experience": true }],
    });
    let path = sessions_path(&id);
    let first = app
        .post_with_key(&path, &staff.token, "session-1", &body)
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let second = app
        .post_with_key(&path, &staff.token, "session-1", &body)
        .await;
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(second.body, first.body);
    assert_eq!(
        second.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    let list = sessions(&app, &staff.token, &id).await;
    assert_eq!(list.len(), 1);
    let sid = list[0]["id"].as_str().expect("id");
    assert_eq!(
        count(
            &app,
            &staff.token,
            &format!("/api/v1/sessions/{sid}/attendance")
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            &staff.token,
            &format!("/api/v1/sessions/{sid}/decisions")
        )
        .await,
        1
    );

    // Without the key, a repeat is a second session.
    let third = app.post(&path, &staff.token, &body).await;
    assert_eq!(third.status, 201, "{}", third.text);
    assert_eq!(sessions(&app, &staff.token, &id).await.len(), 2);
}

#[tokio::test]
async fn attendance_and_decisions_are_recorded_one_at_a_time_under_the_session() {
    let app = spawn_app().await;
    let (staff, id, people) = group(&app, 2, json!({})).await;
    let res = app
        .post(
            &sessions_path(&id),
            &staff.token,
            &json!({ "starts_at": "2030-05-01T18:00:00Z", "duration_minutes": 90, "format": "virtual" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let sid = res.body["id"].as_str().expect("id").to_owned();
    let attendance = format!("/api/v1/sessions/{sid}/attendance");
    let decisions = format!("/api/v1/sessions/{sid}/decisions");

    let line =
        json!({ "participant_id": people[0].id, "minutes": 90, "participation": "participated" });
    let res = app.post(&attendance, &staff.token, &line).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["participant_id"], people[0].id.to_string());
    assert_eq!(res.body["minutes"], 90);
    assert_eq!(res.body["session_id"], sid.as_str());

    // Twice for one person is a conflict, even with other minutes.
    let res = app
        .post(
            &attendance,
            &staff.token,
            &json!({ "participant_id": people[0].id, "minutes": 30, "participation": "attended" }),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.problem_code(), "conflict");

    // Someone who is not a member.
    let res = app
        .post(
            &attendance,
            &staff.token,
            &json!({ "participant_id": Uuid::now_v7(), "minutes": 30, "participation": "attended" }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["participant_id"]);

    let listed = app.get(&attendance, &staff.token).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed.body["items"][0]["minutes"], 90);

    let res = app
        .post(
            &decisions,
            &staff.token,
            &json!({ "description": "Move to evenings", "shared_with_lived_experience": true }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["description"], "Move to evenings");
    let listed = app.get(&decisions, &staff.token).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));

    // Members cannot record for the group.
    let res = app
        .post(
            &decisions,
            &people[0].token,
            &json!({ "description": "Mine", "shared_with_lived_experience": true }),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    let res = app
        .post(
            &attendance,
            &people[1].token,
            &json!({ "participant_id": people[1].id, "minutes": 90, "participation": "participated" }),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);

    // Both show under the session.
    assert_eq!(count(&app, &staff.token, &attendance).await, 1);
    assert_eq!(count(&app, &staff.token, &decisions).await, 1);

    let missing = app
        .get(
            &format!("/api/v1/sessions/{}/attendance", Uuid::now_v7()),
            &staff.token,
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.text);
}

/// One session with one member and nothing recorded yet; returns the session's path.
async fn empty_session(app: &TestApp) -> (Staff, String, Vec<Person>) {
    let (staff, id, people) = group(app, 1, json!({})).await;
    let res = app
        .post(
            &sessions_path(&id),
            &staff.token,
            &json!({ "starts_at": "2030-05-01T18:00:00Z", "duration_minutes": 90, "format": "virtual" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let sid = res.body["id"].as_str().expect("id").to_owned();
    (staff, format!("/api/v1/sessions/{sid}"), people)
}

#[tokio::test]
async fn more_minutes_than_the_session_had_are_refused_naming_the_minutes_field() {
    let app = spawn_app().await;
    let (staff, session, people) = empty_session(&app).await;
    let res = app
        .post(
            &format!("{session}/attendance"),
            &staff.token,
            &json!({ "participant_id": people[0].id, "minutes": 91, "participation": "attended" }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["minutes"]);
    let listed = app
        .get(&format!("{session}/attendance"), &staff.token)
        .await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn a_decision_without_words_is_refused_naming_the_description_field() {
    let app = spawn_app().await;
    let (staff, session, _) = empty_session(&app).await;
    let res = app
        .post(
            &format!("{session}/decisions"),
            &staff.token,
            &json!({ "description": " ", "shared_with_lived_experience": true }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["description"]);
    let listed = app.get(&format!("{session}/decisions"), &staff.token).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn a_participant_who_is_not_a_member_cannot_read_sessions() {
    let app = spawn_app().await;
    let (staff, id, people) = group(&app, 1, json!({})).await;
    let other_staff = provider(&app, "Other").await;
    let res = app
        .post(
            &sessions_path(&id),
            &staff.token,
            &json!({
                "starts_at": "2030-05-01T18:00:00Z", "duration_minutes": 60, "format": "virtual",
                "attendance": [{ "participant_id": people[0].id, "minutes": 60, "participation": "participated" }],
                "decisions": [{ "description": "Meet monthly", "shared_with_lived_experience": true }],
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let sid = res.body["id"].as_str().expect("id").to_owned();
    let paths = [
        sessions_path(&id),
        format!("/api/v1/sessions/{sid}/attendance"),
        format!("/api/v1/sessions/{sid}/decisions"),
    ];
    let stranger = participant(&app).await;
    for path in &paths {
        for (who, t) in [
            ("stranger", &stranger.token),
            ("other staff", &other_staff.token),
        ] {
            let res = app.get(path, t).await;
            assert_eq!(res.status, 404, "{who} {path}: {}", res.text);
            assert_eq!(res.problem_code(), "not_found");
        }
        let res = app.get(path, &people[0].token).await;
        assert_eq!(res.status, 200, "member {path}: {}", res.text);
        assert_eq!(
            res.body["items"].as_array().map(Vec::len),
            Some(1),
            "{path}"
        );
    }
    // Nor may a stranger or another organisation post a session.
    for t in [&stranger.token, &other_staff.token] {
        let res = app
            .post(
                &sessions_path(&id),
                t,
                &json!({ "starts_at": "2030-05-02T18:00:00Z", "duration_minutes": 60, "format": "virtual" }),
            )
            .await;
        assert_eq!(res.status, 403, "{}", res.text);
    }
    assert_eq!(sessions(&app, &staff.token, &id).await.len(), 1);
}

// --- The honest classification ---------------------------------------------------------------

/// Running, paid work claimed as co-production, with two members the provider's system records
/// as having joined `joined_days_ago`: one with lived experience, one carer.
pub(crate) async fn claimed_co_production(
    app: &TestApp,
    joined_days_ago: i64,
) -> (Staff, String, Vec<Person>) {
    let staff = provider(app, "Provider").await;
    let id = advertised_work(
        app,
        &staff.token,
        &work(
            "Redesign the recovery service",
            json!({ "claimed_mode": "co_production", "paid": true, "places": 6 }),
        ),
    )
    .await;
    assert_eq!(move_work(app, &staff.token, &id, "start").await.status, 200);
    let joined_at = Utc::now() - Duration::days(joined_days_ago);
    let mut people = Vec::new();
    for experience in ["lived_experience", "carer"] {
        // Registered by the provider with the experience they bring.
        let person = registered_person(app, &staff, json!({ "roles": [experience] })).await;
        let res = app
            .post(
                &format!("/api/v1/opportunities/{id}/members"),
                &staff.token,
                &json!({ "participant_id": person.id, "experience": experience,
                         "joined_at": joined_at }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        assert_eq!(res.body["status"], "accepted");
        assert_eq!(res.body["experience"], experience);
        people.push(person);
    }
    (staff, id, people)
}

pub(crate) fn days_ago(days: i64) -> DateTime<Utc> {
    Utc::now() - Duration::days(days)
}

/// Posts a session at `starts_at` attended by `who`, with `decisions` (description, shared).
pub(crate) async fn held(
    app: &TestApp,
    staff: &Staff,
    id: &str,
    starts_at: DateTime<Utc>,
    who: &[Person],
    decisions: &[(&str, bool)],
) {
    let attendance: Vec<Value> = who
        .iter()
        .map(|p| json!({ "participant_id": p.id, "minutes": 90, "participation": "participated" }))
        .collect();
    let decisions: Vec<Value> = decisions
        .iter()
        .map(|(d, shared)| json!({ "description": d, "shared_with_lived_experience": shared }))
        .collect();
    let res = app
        .post(
            &sessions_path(id),
            &staff.token,
            &json!({ "starts_at": starts_at, "duration_minutes": 90, "format": "hybrid",
                     "lived_experience_agenda_slot": true,
                     "attendance": attendance, "decisions": decisions }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
}

/// What `GET /api/v1/opportunities/{id}` says the evidence shows.
pub(crate) struct Verdict {
    pub level: String,
    pub claim_check: String,
    pub failing: Vec<String>,
    pub evidence: Value,
}

impl Verdict {
    pub fn reason(&self, criterion: &str) -> &str {
        self.evidence["criteria"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["criterion"] == criterion))
            .and_then(|c| c["reason"].as_str())
            .unwrap_or_default()
    }
}

pub(crate) async fn verdict(app: &TestApp, token: &str, id: &str) -> Verdict {
    let res = app.get(&format!("/api/v1/opportunities/{id}"), token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let evidence = res.body["evidence"].clone();
    let criteria = evidence["criteria"]
        .as_array()
        .unwrap_or_else(|| panic!("criteria: {}", res.text));
    let names: Vec<&str> = criteria
        .iter()
        .filter_map(|c| c["criterion"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "from_the_start",
            "through_to_the_end",
            "equal_say_in_decisions",
            "payment_or_recognition",
            "clear_ending_or_continuous_feedback"
        ],
        "always all five, in order"
    );
    for c in criteria {
        assert!(c["met"].is_boolean(), "{c}");
        assert!(
            c["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "each criterion says why: {c}"
        );
    }
    let failing = criteria
        .iter()
        .filter(|c| c["met"] == false)
        .filter_map(|c| c["criterion"].as_str().map(str::to_owned))
        .collect();
    Verdict {
        level: evidence["evidenced_level"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        claim_check: evidence["claim_check"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        failing,
        evidence,
    }
}

const NONE_FAILING: [&str; 0] = [];

#[tokio::test]
async fn work_done_together_from_start_to_finish_is_evidenced_as_co_production() {
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
    held(&app, &staff, &id, days_ago(5), &people, &[]).await;
    held(
        &app,
        &staff,
        &id,
        days_ago(1),
        &people,
        &[("Choose the new name", true)],
    )
    .await;

    // Still running, with a session yesterday: continuous activity counts.
    let v = verdict(&app, &staff.token, &id).await;
    assert_eq!(v.failing, NONE_FAILING, "{}", v.evidence);
    assert_eq!(v.level, "co_production");
    assert!(
        v.reason("clear_ending_or_continuous_feedback")
            .contains("still running"),
        "{}",
        v.evidence
    );

    assert_eq!(move_work(&app, &staff.token, &id, "end").await.status, 200);
    let v = verdict(&app, &staff.token, &id).await;
    assert_eq!(v.failing, NONE_FAILING, "{}", v.evidence);
    assert_eq!(v.level, "co_production");
    assert_eq!(v.claim_check, "matches");
    assert_eq!(v.evidence["claimed_mode"], "co_production");
    assert_eq!(
        v.evidence["level_reason"],
        "All five co-production criteria are met."
    );
    assert!(v
        .reason("from_the_start")
        .starts_with("2 of 2 lived-experience or carer members joined at or before the first"));
    assert!(v
        .reason("through_to_the_end")
        .starts_with("0 of 3 sessions had no lived-experience or carer participant"));
    assert_eq!(
        v.reason("equal_say_in_decisions"),
        "2 of 2 recorded decisions were made jointly with lived-experience or carer members."
    );
    assert_eq!(
        v.reason("clear_ending_or_continuous_feedback"),
        "The work has a clear ending (status ended)."
    );
}

#[tokio::test]
async fn work_joined_by_application_and_recorded_as_it_happens_is_co_production_too() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(
        &app,
        &staff.token,
        &work(
            "Plan the peer support group",
            json!({ "claimed_mode": "co_production", "other_recognition": "Shopping vouchers" }),
        ),
    )
    .await;
    let people = vec![participant(&app).await, participant(&app).await];
    for p in &people {
        assert_eq!(apply(&app, p, &id).await.status, 201);
    }
    assert_eq!(
        move_work(&app, &staff.token, &id, "start").await.status,
        200
    );
    // Each session is posted as it starts, so after both people joined and before the read.
    held(
        &app,
        &staff,
        &id,
        Utc::now(),
        &people,
        &[("Meet on Tuesdays", true)],
    )
    .await;
    held(
        &app,
        &staff,
        &id,
        Utc::now(),
        &people,
        &[("Invite a speaker", true)],
    )
    .await;
    assert_eq!(move_work(&app, &staff.token, &id, "end").await.status, 200);
    let v = verdict(&app, &staff.token, &id).await;
    assert_eq!(v.failing, NONE_FAILING, "{}", v.evidence);
    assert_eq!(v.level, "co_production");
}

#[tokio::test]
async fn one_decision_made_without_them_falls_to_involvement() {
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
    held(
        &app,
        &staff,
        &id,
        days_ago(1),
        &people,
        &[("Cut the budget", false)],
    )
    .await;
    assert_eq!(move_work(&app, &staff.token, &id, "end").await.status, 200);

    let v = verdict(&app, &staff.token, &id).await;
    assert_eq!(v.failing, ["equal_say_in_decisions"], "{}", v.evidence);
    assert_eq!(v.level, "involvement");
    assert_eq!(v.claim_check, "overclaimed");
    assert_eq!(
        v.reason("equal_say_in_decisions"),
        "1 of 2 recorded decisions were made jointly with lived-experience or carer members."
    );
}

#[tokio::test]
async fn no_recorded_decision_cannot_show_an_equal_say() {
    let app = spawn_app().await;
    let (staff, id, people) = claimed_co_production(&app, 10).await;
    held(&app, &staff, &id, days_ago(9), &people, &[]).await;
    held(&app, &staff, &id, days_ago(1), &people, &[]).await;
    assert_eq!(move_work(&app, &staff.token, &id, "end").await.status, 200);
    let v = verdict(&app, &staff.token, &id).await;
    assert_eq!(v.failing, ["equal_say_in_decisions"], "{}", v.evidence);
    assert_eq!(v.level, "involvement");
}

#[tokio::test]
async fn members_who_joined_only_after_the_first_session_are_not_there_from_the_start() {
    let app = spawn_app().await;
    let (staff, id, people) = claimed_co_production(&app, 5).await;
    // They joined five days ago, so the first session (nine days ago) was held without them:
    // their attendance there could not be recorded.
    for days in [9, 3, 1] {
        let (present, decided) = if days > 5 {
            (&[][..], &[][..])
        } else {
            (&people[..], &[("Agree the next step", true)][..])
        };
        held(&app, &staff, &id, days_ago(days), present, decided).await;
    }
    assert_eq!(move_work(&app, &staff.token, &id, "end").await.status, 200);

    let v = verdict(&app, &staff.token, &id).await;
    assert_eq!(v.failing, ["from_the_start"], "{}", v.evidence);
    assert_eq!(v.level, "involvement");
    assert_eq!(v.claim_check, "overclaimed");
    assert!(
        v.reason("from_the_start")
            .starts_with("0 of 2 lived-experience or carer members joined at or before the first"),
        "{}",
        v.evidence
    );
    // The members list says the same of each member.
    let res = app
        .get(&format!("/api/v1/opportunities/{id}/members"), &staff.token)
        .await;
    for m in res.body["items"].as_array().expect("members") {
        assert_eq!(m["joined_from_start"], false, "{m}");
    }
}

#[tokio::test]
async fn two_sessions_without_anyone_with_lived_experience_fail_through_to_the_end() {
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
    held(&app, &staff, &id, days_ago(7), &[], &[]).await;
    held(&app, &staff, &id, days_ago(5), &[], &[]).await;
    held(
        &app,
        &staff,
        &id,
        days_ago(1),
        &people,
        &[("Sign off", true)],
    )
    .await;
    assert_eq!(move_work(&app, &staff.token, &id, "end").await.status, 200);

    let v = verdict(&app, &staff.token, &id).await;
    assert_eq!(v.failing, ["through_to_the_end"], "{}", v.evidence);
    assert_eq!(v.level, "involvement");
    assert!(
        v.reason("through_to_the_end")
            .starts_with("2 of 4 sessions had no lived-experience or carer participant"),
        "{}",
        v.evidence
    );
}

#[tokio::test]
async fn one_session_without_them_is_allowed_but_missing_the_last_is_not() {
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
    held(&app, &staff, &id, days_ago(5), &[], &[]).await;
    held(&app, &staff, &id, days_ago(1), &people, &[]).await;
    assert_eq!(move_work(&app, &staff.token, &id, "end").await.status, 200);
    let v = verdict(&app, &staff.token, &id).await;
    assert_eq!(v.failing, NONE_FAILING, "{}", v.evidence);
    assert_eq!(v.level, "co_production");

    // The same, but nobody with lived experience at the last session.
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
    held(&app, &staff, &id, days_ago(1), &[], &[]).await;
    assert_eq!(move_work(&app, &staff.token, &id, "end").await.status, 200);
    let v = verdict(&app, &staff.token, &id).await;
    assert_eq!(v.failing, ["through_to_the_end"], "{}", v.evidence);
    assert_eq!(v.level, "involvement");
    assert!(v
        .reason("through_to_the_end")
        .contains("no lived-experience or carer participant was present at the last session"));
}

#[tokio::test]
async fn unpaid_work_with_no_recognition_is_not_co_production() {
    let app = spawn_app().await;
    let (staff, id, people) = claimed_co_production(&app, 10).await;
    let res = app
        .get(&format!("/api/v1/opportunities/{id}"), &staff.token)
        .await;
    let tag = res.header("etag").expect("etag");
    let res = app
        .patch(
            &format!("/api/v1/opportunities/{id}"),
            &staff.token,
            Some(&tag),
            &json!({ "paid": false }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    held(
        &app,
        &staff,
        &id,
        days_ago(9),
        &people,
        &[("Agree the aims", true)],
    )
    .await;
    assert_eq!(move_work(&app, &staff.token, &id, "end").await.status, 200);
    let v = verdict(&app, &staff.token, &id).await;
    assert_eq!(v.failing, ["payment_or_recognition"], "{}", v.evidence);
    assert_eq!(v.level, "involvement");
}

#[tokio::test]
async fn running_work_with_nothing_for_ninety_days_has_no_continuous_feedback() {
    let app = spawn_app().await;
    let (staff, id, people) = claimed_co_production(&app, 200).await;
    held(
        &app,
        &staff,
        &id,
        days_ago(150),
        &people,
        &[("Agree the aims", true)],
    )
    .await;
    held(
        &app,
        &staff,
        &id,
        days_ago(91),
        &people,
        &[("Agree the plan", true)],
    )
    .await;
    let v = verdict(&app, &staff.token, &id).await;
    assert_eq!(
        v.failing,
        ["clear_ending_or_continuous_feedback"],
        "{}",
        v.evidence
    );
    assert_eq!(v.level, "involvement");
    assert!(v
        .reason("clear_ending_or_continuous_feedback")
        .contains("91 days ago"));
}

#[tokio::test]
async fn sessions_planned_for_later_are_not_evidence_yet() {
    let app = spawn_app().await;
    let (staff, id, people) = claimed_co_production(&app, 10).await;
    held(
        &app,
        &staff,
        &id,
        Utc::now() + Duration::days(7),
        &people,
        &[("Agree the aims", true)],
    )
    .await;
    let v = verdict(&app, &staff.token, &id).await;
    assert!(
        v.failing.contains(&"from_the_start".to_owned()),
        "{}",
        v.evidence
    );
    assert!(
        v.failing.contains(&"through_to_the_end".to_owned()),
        "{}",
        v.evidence
    );
    // The members are only kept informed so far: nobody has taken part yet.
    assert_eq!(v.level, "informing", "{}", v.evidence);
}
