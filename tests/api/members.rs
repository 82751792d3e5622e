//! Members of a piece of work through REST: applying, places (never overbooked), staff review,
//! invitations, withdrawing, who sees the group, and declarations of interest before scoring.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, token, Answer, TestApp};
use crate::opportunities::{
    advertised_work, apply, create_work, error_fields, field_of, move_work, participant, provider,
    registered_by, registered_person, work, Person,
};

fn members_path(id: &str) -> String {
    format!("/api/v1/opportunities/{id}/members")
}

/// A verb on one membership: `accept`, `decline`, `withdraw`, `interests`, `scoring`.
async fn on_member(
    app: &TestApp,
    token: &str,
    id: &str,
    member: &str,
    verb: &str,
    body: Value,
) -> Answer {
    app.post(
        &format!("/api/v1/opportunities/{id}/members/{member}/{verb}"),
        token,
        &body,
    )
    .await
}

async fn places_taken(app: &TestApp, token: &str, id: &str) -> i64 {
    let res = app.get(&format!("/api/v1/opportunities/{id}"), token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["places_taken"].as_i64().expect("places_taken")
}

fn member_id(answer: &Answer) -> String {
    answer.body["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a membership: {}", answer.text))
        .to_owned()
}

/// The members list as (participant id, status) pairs.
async fn members(app: &TestApp, token: &str, id: &str) -> Vec<(String, String)> {
    let res = app.get(&members_path(id), token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {}", res.text))
        .iter()
        .map(|m| {
            (
                m["participant_id"].as_str().unwrap_or_default().to_owned(),
                m["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn twenty_applications_at_once_for_five_places_leave_exactly_five_members() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(
        &app,
        &staff.token,
        &work(
            "Five places",
            json!({ "places": 5, "admission": "first_come" }),
        ),
    )
    .await;
    let mut people: Vec<Person> = Vec::new();
    for _ in 0..20 {
        people.push(participant(&app).await);
    }
    let answers = futures_util::future::join_all(people.iter().map(|p| apply(&app, p, &id))).await;

    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    let accepted: Vec<&Answer> = answers.iter().filter(|a| a.status == 201).collect();
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status == 409).collect();
    assert_eq!(accepted.len(), 5, "{statuses:?}");
    assert_eq!(refused.len(), 15, "{statuses:?}");
    for a in &accepted {
        assert_eq!(a.body["status"], "accepted", "{}", a.text);
        assert!(a.body["joined_at"].is_string(), "{}", a.text);
    }
    for a in &refused {
        assert_eq!(a.problem_code(), "conflict");
    }
    assert_eq!(places_taken(&app, &staff.token, &id).await, 5);

    let mut winners: Vec<String> = accepted
        .iter()
        .map(|a| {
            a.body["participant_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    winners.sort();
    let mut listed: Vec<String> = members(&app, &staff.token, &id)
        .await
        .into_iter()
        .map(|(p, status)| {
            assert_eq!(status, "accepted");
            p
        })
        .collect();
    listed.sort();
    assert_eq!(listed, winners, "only the five who got a place are members");

    // The work now shows as full.
    let full = app
        .get("/api/v1/opportunities?has_places=false", &people[0].token)
        .await;
    assert_eq!(full.body["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn with_staff_review_an_application_waits_for_staff_to_accept_or_decline() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(
        &app,
        &staff.token,
        &work(
            "Interview panel",
            json!({ "places": 1, "admission": "staff_review" }),
        ),
    )
    .await;
    let (a, b) = (participant(&app).await, participant(&app).await);

    let res = apply(&app, &a, &id).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["status"], "applied");
    assert_eq!(res.body["joined_at"], Value::Null);
    assert_eq!(res.body["participant_id"], a.id.to_string());
    let a_member = member_id(&res);
    assert_eq!(
        res.header("location"),
        Some(format!("{}/{a_member}", members_path(&id)))
    );
    assert_eq!(places_taken(&app, &staff.token, &id).await, 0);

    // Nobody accepts their own application.
    let res = on_member(&app, &a.token, &id, &a_member, "accept", json!({})).await;
    assert_eq!(res.status, 403, "{}", res.text);

    let res = on_member(&app, &staff.token, &id, &a_member, "accept", json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "accepted");
    assert!(res.body["joined_at"].is_string());
    assert_eq!(places_taken(&app, &staff.token, &id).await, 1);

    // The one place is taken: the next application can wait, but not be accepted.
    let res = apply(&app, &b, &id).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["status"], "applied");
    let b_member = member_id(&res);
    let res = on_member(&app, &staff.token, &id, &b_member, "accept", json!({})).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.problem_code(), "conflict");
    let res = on_member(&app, &staff.token, &id, &b_member, "decline", json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "declined");
    assert_eq!(places_taken(&app, &staff.token, &id).await, 1);
    // A declined application is closed.
    let res = on_member(&app, &staff.token, &id, &b_member, "accept", json!({})).await;
    assert_eq!(res.status, 409, "{}", res.text);

    let mut listed = members(&app, &staff.token, &id).await;
    listed.sort();
    let mut expected = vec![
        (a.id.to_string(), "accepted".to_owned()),
        (b.id.to_string(), "declined".to_owned()),
    ];
    expected.sort();
    assert_eq!(listed, expected);
}

#[tokio::test]
async fn an_invited_person_accepts_and_takes_a_place_but_nobody_else_can_accept_for_them() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(
        &app,
        &staff.token,
        &work("Board", json!({ "places": 2, "admission": "staff_review" })),
    )
    .await;
    // Invited as a carer: their profile says so.
    let invited = registered_person(&app, &staff, json!({ "roles": ["carer"] })).await;
    let other = participant(&app).await;

    let res = app
        .post(
            &members_path(&id),
            &staff.token,
            &json!({ "participant_id": invited.id, "role": "co_chair", "experience": "carer" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["status"], "invited");
    assert_eq!(res.body["role"], "co_chair");
    assert_eq!(res.body["experience"], "carer");
    let member = member_id(&res);
    assert_eq!(places_taken(&app, &staff.token, &id).await, 0);

    // Another participant cannot accept or decline it, nor learn it exists.
    for verb in ["accept", "decline", "withdraw"] {
        let res = on_member(&app, &other.token, &id, &member, verb, json!({})).await;
        assert_eq!(res.status, 404, "{verb}: {}", res.text);
    }
    // Staff cannot accept on the person's behalf.
    let res = on_member(&app, &staff.token, &id, &member, "accept", json!({})).await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert_eq!(
        members(&app, &staff.token, &id).await,
        [(invited.id.to_string(), "invited".to_owned())]
    );

    let res = on_member(&app, &invited.token, &id, &member, "accept", json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "accepted");
    assert!(res.body["joined_at"].is_string());
    assert_eq!(places_taken(&app, &staff.token, &id).await, 1);
    let res = on_member(&app, &invited.token, &id, &member, "accept", json!({})).await;
    assert_eq!(res.status, 409, "accepting twice: {}", res.text);
    assert_eq!(places_taken(&app, &staff.token, &id).await, 1);
}

#[tokio::test]
async fn staff_record_someone_who_already_took_part_with_the_day_they_joined() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(&app, &staff.token, &work("History", json!({ "places": 1 }))).await;
    let (earlier, later) = (
        registered_by(&app, &staff).await,
        registered_by(&app, &staff).await,
    );
    let applicant = participant(&app).await;
    let joined_at = "2026-01-05T18:00:00Z";

    let res = app
        .post(
            &members_path(&id),
            &staff.token,
            &json!({ "participant_id": earlier, "joined_at": joined_at }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["status"], "accepted");
    let recorded: chrono::DateTime<Utc> = res.body["joined_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("joined_at: {}", res.text));
    assert_eq!(
        recorded,
        joined_at.parse::<chrono::DateTime<Utc>>().expect("time")
    );
    assert_eq!(places_taken(&app, &staff.token, &id).await, 1);

    // The one place is taken.
    let res = app
        .post(
            &members_path(&id),
            &staff.token,
            &json!({ "participant_id": later, "joined_at": joined_at }),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);

    // Joining in the future is not history; and participants do not backdate themselves.
    let tomorrow = Utc::now() + Duration::days(1);
    let res = app
        .post(
            &members_path(&id),
            &staff.token,
            &json!({ "participant_id": later, "joined_at": tomorrow }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["joined_at"]);
    let res = app
        .post(
            &members_path(&id),
            &applicant.token,
            &json!({ "joined_at": joined_at }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["joined_at"]);

    assert_eq!(
        members(&app, &staff.token, &id).await,
        [(earlier.to_string(), "accepted".to_owned())]
    );
}

#[tokio::test]
async fn staff_of_another_organisation_cannot_invite() {
    let app = spawn_app().await;
    let owner = provider(&app, "Owner").await;
    let other = provider(&app, "Other").await;
    let id = advertised_work(&app, &owner.token, &work("Open", json!({}))).await;
    // Even someone the other organisation registered itself.
    let person = registered_by(&app, &other).await;
    let res = app
        .post(
            &members_path(&id),
            &other.token,
            &json!({ "participant_id": person }),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert!(members(&app, &owner.token, &id).await.is_empty());
}

#[tokio::test]
async fn withdrawing_gives_the_place_back() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(
        &app,
        &staff.token,
        &work("One place", json!({ "places": 1 })),
    )
    .await;
    let (a, b) = (participant(&app).await, participant(&app).await);

    let res = apply(&app, &a, &id).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let a_member = member_id(&res);
    let res = apply(&app, &b, &id).await;
    assert_eq!(res.status, 409, "full: {}", res.text);

    // Someone else cannot withdraw them.
    let res = on_member(&app, &b.token, &id, &a_member, "withdraw", json!({})).await;
    assert_eq!(res.status, 404, "{}", res.text);
    assert_eq!(places_taken(&app, &staff.token, &id).await, 1);

    let res = on_member(&app, &a.token, &id, &a_member, "withdraw", json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "withdrawn");
    assert!(res.body["left_at"].is_string());
    assert_eq!(places_taken(&app, &staff.token, &id).await, 0);
    let res = on_member(&app, &a.token, &id, &a_member, "withdraw", json!({})).await;
    assert_eq!(res.status, 409, "withdrawing twice: {}", res.text);
    assert_eq!(places_taken(&app, &staff.token, &id).await, 0);

    let res = apply(&app, &b, &id).await;
    assert_eq!(res.status, 201, "the place is free again: {}", res.text);
    assert_eq!(res.body["status"], "accepted");
    assert_eq!(places_taken(&app, &staff.token, &id).await, 1);
}

#[tokio::test]
async fn places_taken_survive_an_edit_made_from_an_older_read() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(
        &app,
        &staff.token,
        &work("Two places", json!({ "places": 2 })),
    )
    .await;
    let path = format!("/api/v1/opportunities/{id}");
    let before = app.get(&path, &staff.token).await;
    let stale = before.header("etag").expect("etag");

    // Someone takes a place after staff read the work...
    assert_eq!(apply(&app, &participant(&app).await, &id).await.status, 201);
    // ...so an edit based on that read would overwrite the count, and is refused.
    let res = app
        .patch(
            &path,
            &staff.token,
            Some(&stale),
            &json!({ "title": "Renamed" }),
        )
        .await;
    assert_eq!(res.status, 412, "{}", res.text);
    let now = app.get(&path, &staff.token).await;
    assert_eq!(now.body["places_taken"], 1);

    // With a fresh read the edit goes through and the count stays.
    let fresh = now.header("etag").expect("etag");
    let res = app
        .patch(
            &path,
            &staff.token,
            Some(&fresh),
            &json!({ "title": "Renamed" }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["places_taken"], 1);

    // Places cannot drop below those already taken.
    assert_eq!(apply(&app, &participant(&app).await, &id).await.status, 201);
    let tag = app
        .get(&path, &staff.token)
        .await
        .header("etag")
        .expect("etag");
    let res = app
        .patch(&path, &staff.token, Some(&tag), &json!({ "places": 1 }))
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["places"]);
    assert_eq!(places_taken(&app, &staff.token, &id).await, 2);
}

#[tokio::test]
async fn applying_twice_is_a_conflict() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(&app, &staff.token, &work("Open", json!({ "places": 3 }))).await;
    let person = participant(&app).await;
    assert_eq!(apply(&app, &person, &id).await.status, 201);
    let res = apply(&app, &person, &id).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.problem_code(), "conflict");
    assert_eq!(places_taken(&app, &staff.token, &id).await, 1);
    assert_eq!(members(&app, &staff.token, &id).await.len(), 1);
}

#[tokio::test]
async fn a_participant_applies_only_for_themselves() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(&app, &staff.token, &work("Open", json!({}))).await;
    let (person, someone_else) = (participant(&app).await, participant(&app).await);
    let res = app
        .post(
            &members_path(&id),
            &person.token,
            &json!({ "participant_id": someone_else.id }),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert!(members(&app, &staff.token, &id).await.is_empty());
}

#[tokio::test]
async fn applying_to_work_that_is_not_advertised_is_not_found() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let draft = create_work(&app, &staff.token, &work("Draft", json!({}))).await;
    let running = advertised_work(&app, &staff.token, &work("Running", json!({}))).await;
    assert_eq!(
        move_work(&app, &staff.token, &running, "start")
            .await
            .status,
        200
    );
    let person = participant(&app).await;
    for id in [&draft, &running] {
        // The participant cannot see work that is not advertised, so it looks missing.
        let res = apply(&app, &person, id).await;
        assert_eq!(res.status, 404, "{}", res.text);
        assert_eq!(res.problem_code(), "not_found");
        assert!(members(&app, &staff.token, id).await.is_empty());
    }
}

#[tokio::test]
async fn applications_close_after_the_closing_date() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let yesterday = (Utc::now().date_naive() - Duration::days(1)).to_string();
    let id = advertised_work(
        &app,
        &staff.token,
        &work("Closed", json!({ "closing_on": yesterday })),
    )
    .await;
    let res = apply(&app, &participant(&app).await, &id).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.problem_code(), "conflict");
}

#[tokio::test]
async fn only_the_group_and_its_staff_see_who_is_in_it() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let other_staff = provider(&app, "Other").await;
    let id = advertised_work(
        &app,
        &staff.token,
        &work("Group", json!({ "places": 5, "admission": "staff_review" })),
    )
    .await;
    let elsewhere = advertised_work(&app, &staff.token, &work("Elsewhere", json!({}))).await;
    let (member, applicant, outsider) = (
        participant(&app).await,
        participant(&app).await,
        participant(&app).await,
    );
    let invited = registered_by(&app, &staff).await;

    let res = apply(&app, &member, &id).await;
    let m = member_id(&res);
    assert_eq!(
        on_member(&app, &staff.token, &id, &m, "accept", json!({}))
            .await
            .status,
        200
    );
    assert_eq!(apply(&app, &applicant, &id).await.status, 201);
    let res = app
        .post(
            &members_path(&id),
            &staff.token,
            &json!({ "participant_id": invited }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    // The outsider is a member of other work only.
    assert_eq!(apply(&app, &outsider, &elsewhere).await.status, 201);

    for (who, t) in [
        ("a member of other work", &outsider.token),
        ("an applicant not yet accepted", &applicant.token),
        ("staff of another organisation", &other_staff.token),
    ] {
        let res = app.get(&members_path(&id), t).await;
        assert_eq!(res.status, 404, "{who}: {}", res.text);
    }
    // An accepted member sees the accepted members only.
    assert_eq!(
        members(&app, &member.token, &id).await,
        [(member.id.to_string(), "accepted".to_owned())]
    );
    // Staff see everyone, whatever their status.
    let mut all = members(&app, &staff.token, &id).await;
    all.sort();
    let mut expected = vec![
        (member.id.to_string(), "accepted".to_owned()),
        (applicant.id.to_string(), "applied".to_owned()),
        (invited.to_string(), "invited".to_owned()),
    ];
    expected.sort();
    assert_eq!(all, expected);
}

async fn post_session(app: &TestApp, token: &str, id: &str, starts_at: chrono::DateTime<Utc>) {
    let res = app
        .post(
            &format!("/api/v1/opportunities/{id}/sessions"),
            token,
            &json!({ "starts_at": starts_at, "duration_minutes": 60, "format": "virtual" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
}

/// Each member's `joined_from_start`, by participant id.
async fn from_start(app: &TestApp, token: &str, id: &str) -> Vec<(String, Value)> {
    let res = app.get(&members_path(id), token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let mut v: Vec<(String, Value)> = res.body["items"]
        .as_array()
        .expect("list")
        .iter()
        .map(|m| {
            (
                m["participant_id"].as_str().unwrap_or_default().to_owned(),
                m["joined_from_start"].clone(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[tokio::test]
async fn a_declined_applicant_no_longer_sees_work_once_it_stops_being_advertised() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(
        &app,
        &staff.token,
        &work("Panel", json!({ "admission": "staff_review" })),
    )
    .await;
    let (kept, declined) = (participant(&app).await, participant(&app).await);
    let k = member_id(&apply(&app, &kept, &id).await);
    let d = member_id(&apply(&app, &declined, &id).await);
    assert_eq!(
        on_member(&app, &staff.token, &id, &k, "accept", json!({}))
            .await
            .status,
        200
    );
    assert_eq!(
        on_member(&app, &staff.token, &id, &d, "decline", json!({}))
            .await
            .status,
        200
    );
    assert_eq!(
        move_work(&app, &staff.token, &id, "start").await.status,
        200
    );

    // The accepted member still sees the running work, in the list and on its own.
    let list = app.get("/api/v1/opportunities", &kept.token).await;
    assert_eq!(field_of(&list, "id"), std::slice::from_ref(&id));
    let res = app
        .get(&format!("/api/v1/opportunities/{id}"), &kept.token)
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    // The declined applicant sees it neither way: the list and the single read agree.
    let res = app
        .get(&format!("/api/v1/opportunities/{id}"), &declined.token)
        .await;
    assert_eq!(res.status, 404, "{}", res.text);
    let list = app.get("/api/v1/opportunities", &declined.token).await;
    assert!(field_of(&list, "id").is_empty(), "{}", list.text);
}

#[tokio::test]
async fn joined_from_start_is_known_once_a_session_exists() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(&app, &staff.token, &work("Group", json!({}))).await;
    let early = registered_by(&app, &staff).await;
    let late = participant(&app).await;
    let invited = registered_by(&app, &staff).await;
    // The provider's system records someone who joined three days ago.
    let res = app
        .post(
            &members_path(&id),
            &staff.token,
            &json!({ "participant_id": early, "joined_at": Utc::now() - Duration::days(3) }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["joined_from_start"], Value::Null);
    assert_eq!(apply(&app, &late, &id).await.status, 201);
    let res = app
        .post(
            &members_path(&id),
            &staff.token,
            &json!({ "participant_id": invited }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let expect = |e: Value, l: Value, i: Value| {
        let mut v = vec![
            (early.to_string(), e),
            (late.id.to_string(), l),
            (invited.to_string(), i),
        ];
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };

    // No session yet: unknown for everyone.
    assert_eq!(
        from_start(&app, &staff.token, &id).await,
        expect(Value::Null, Value::Null, Value::Null)
    );

    // A first session two days ago: only the person who joined three days ago was there from
    // the start; someone still only invited has not joined at all.
    post_session(&app, &staff.token, &id, Utc::now() - Duration::days(2)).await;
    assert_eq!(
        from_start(&app, &staff.token, &id).await,
        expect(json!(true), json!(false), json!(false))
    );

    // A session recorded later for four days ago becomes the first one: nobody joined before it.
    post_session(&app, &staff.token, &id, Utc::now() - Duration::days(4)).await;
    assert_eq!(
        from_start(&app, &staff.token, &id).await,
        expect(json!(false), json!(false), json!(false))
    );
}

// --- Conflicts of interest -------------------------------------------------------------------

#[tokio::test]
async fn a_tender_scorer_must_declare_no_conflict_of_interest_before_scoring() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(
        &app,
        &staff.token,
        &work("Score the bids", json!({ "kind": "tender_scoring" })),
    )
    .await;
    let scorer = participant(&app).await;
    let res = apply(&app, &scorer, &id).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let m = member_id(&res);
    let score = json!({ "scoring": true });

    let res = on_member(&app, &staff.token, &id, &m, "scoring", score.clone()).await;
    assert_eq!(res.status, 409, "undeclared: {}", res.text);
    assert_eq!(res.problem_code(), "conflict");

    // A conflict must be described.
    let res = on_member(
        &app,
        &scorer.token,
        &id,
        &m,
        "interests",
        json!({ "has_conflict": true }),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["details"]);

    let res = on_member(
        &app,
        &scorer.token,
        &id,
        &m,
        "interests",
        json!({ "has_conflict": true, "details": "My sister runs one of the bidders." }),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["interests"]["has_conflict"], true);
    let res = on_member(&app, &staff.token, &id, &m, "scoring", score.clone()).await;
    assert_eq!(res.status, 409, "conflicted: {}", res.text);

    let res = on_member(
        &app,
        &scorer.token,
        &id,
        &m,
        "interests",
        json!({ "has_conflict": false }),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["interests"]["has_conflict"], false);
    assert!(res.body["interests"]["declared_at"].is_string());

    // Only staff choose who scores.
    let res = on_member(&app, &scorer.token, &id, &m, "scoring", score.clone()).await;
    assert_eq!(res.status, 403, "{}", res.text);
    let res = on_member(&app, &staff.token, &id, &m, "scoring", score.clone()).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["scoring"], true);

    // A conflict declared later takes them off scoring at once.
    let res = on_member(
        &app,
        &scorer.token,
        &id,
        &m,
        "interests",
        json!({ "has_conflict": true, "details": "A bidder offered me a job." }),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["scoring"], false);
}

#[tokio::test]
async fn a_workshop_has_no_scorers() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(&app, &staff.token, &work("Workshop", json!({}))).await;
    let person = participant(&app).await;
    let m = member_id(&apply(&app, &person, &id).await);
    let res = on_member(
        &app,
        &person.token,
        &id,
        &m,
        "interests",
        json!({ "has_conflict": false }),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = on_member(
        &app,
        &staff.token,
        &id,
        &m,
        "scoring",
        json!({ "scoring": true }),
    )
    .await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.problem_code(), "conflict");
    let res = app.get(&members_path(&id), &staff.token).await;
    assert_eq!(res.body["items"][0]["scoring"], false);
}

#[tokio::test]
async fn a_token_without_a_participant_id_cannot_apply() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = advertised_work(&app, &staff.token, &work("Open", json!({}))).await;
    let nobody = token(&["participant"], None, None);
    let res = app.post(&members_path(&id), &nobody, &json!({})).await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert!(members(&app, &staff.token, &id).await.is_empty());
}
