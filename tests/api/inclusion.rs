//! The inclusion check on a piece of work (the guide's barriers, as warnings) and the glossary
//! it leans on, through REST.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, token, Answer, TestApp};
use crate::opportunities::{
    advertised_work, create_work, error_fields, participant, provider, work,
};

const ALL_CODES: [&str; 7] = [
    "short_notice",
    "working_hours_only",
    "no_payment_or_recognition",
    "no_support_offered",
    "in_person_without_travel_support",
    "unexplained_acronyms",
    "stigmatising_language",
];

async fn check(app: &TestApp, token: &str, id: &str) -> Answer {
    let res = app
        .get(
            &format!("/api/v1/opportunities/{id}/inclusion-check"),
            token,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["opportunity_id"], id);
    res
}

fn codes(answer: &Answer) -> Vec<String> {
    answer.body["barriers"]
        .as_array()
        .unwrap_or_else(|| panic!("barriers: {}", answer.text))
        .iter()
        .map(|b| b["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn barrier<'a>(answer: &'a Answer, code: &str) -> &'a Value {
    answer.body["barriers"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["code"] == code))
        .unwrap_or_else(|| panic!("no {code}: {}", answer.text))
}

/// The first weekday on or after `day`.
fn weekday_from(mut day: NaiveDate) -> NaiveDate {
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day = day.succ_opt().expect("a next day");
    }
    day
}

fn at(day: NaiveDate, h: u32, m: u32) -> chrono::DateTime<Utc> {
    day.and_time(NaiveTime::from_hms_opt(h, m, 0).expect("a time"))
        .and_utc()
}

async fn add_session(app: &TestApp, token: &str, id: &str, body: Value) {
    let res = app
        .post(
            &format!("/api/v1/opportunities/{id}/sessions"),
            token,
            &body,
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
}

#[tokio::test]
async fn work_built_to_trip_every_barrier_gets_all_seven_warnings() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let today = Utc::now().date_naive();
    let starts_on = today + Duration::days(3);
    let id = advertised_work(
        &app,
        &staff.token,
        &work(
            "Daytime meeting",
            json!({
                "description": "Come to the ZQX meeting about services for junkies.",
                "format": "in_person",
                "starts_on": starts_on,
                "paid": false,
                "support_offered": [],
            }),
        ),
    )
    .await;
    // Two weekday sessions in working hours (10:00 UTC is 10:00 or 11:00 in the UK).
    let first = weekday_from(starts_on);
    let second = weekday_from(first + Duration::days(1));
    for day in [first, second] {
        add_session(
            &app,
            &staff.token,
            &id,
            json!({ "starts_at": at(day, 10, 0), "duration_minutes": 120, "format": "in_person" }),
        )
        .await;
    }

    let res = check(&app, &staff.token, &id).await;
    assert_eq!(codes(&res), ALL_CODES, "{}", res.text);
    for b in res.body["barriers"].as_array().expect("barriers") {
        assert!(b["message"].as_str().is_some_and(|m| !m.is_empty()), "{b}");
        assert!(
            b["guide_quote"].as_str().is_some_and(|q| q.len() > 20),
            "{b}"
        );
    }
    assert_eq!(
        barrier(&res, "short_notice")["guide_quote"],
        "Advertise your opportunities well in advance and as widely as possible"
    );
    assert_eq!(
        barrier(&res, "short_notice")["message"],
        format!(
            "It was advertised on {today}, only 3 days before it starts on {starts_on}; \
             advertise at least 14 days before (by {}).",
            starts_on - Duration::days(14)
        )
    );
    assert!(barrier(&res, "working_hours_only")["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("All 2 sessions are on a weekday")));
    assert_eq!(
        barrier(&res, "unexplained_acronyms")["message"],
        "The acronym ZQX is not explained in the text or the glossary."
    );
    assert_eq!(
        barrier(&res, "stigmatising_language")["message"],
        "Please avoid: 'junkies' (say 'people who use drugs')."
    );
    assert!(barrier(&res, "stigmatising_language")["guide_quote"]
        .as_str()
        .is_some_and(|q| q.contains("'druggie' 'nutter'")));
}

#[tokio::test]
async fn well_run_work_gets_no_warnings() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let starts_on = Utc::now().date_naive() + Duration::days(30);
    let id = advertised_work(
        &app,
        &staff.token,
        &work(
            "Evening cafe planning",
            json!({
                "description": "Help us plan a new drop-in cafe. We pay for your time and \
                                your bus fare, and we can send you the papers in easy read.",
                "format": "in_person",
                "venue": "Community centre",
                "starts_on": starts_on,
                "paid": true,
                "support_offered": ["travel", "easy_read"],
            }),
        ),
    )
    .await;
    // An evening session in person, and a daytime one online.
    add_session(
        &app,
        &staff.token,
        &id,
        json!({ "starts_at": at(starts_on, 18, 30), "duration_minutes": 90, "format": "in_person" }),
    )
    .await;
    let daytime = weekday_from(starts_on + Duration::days(1));
    add_session(
        &app,
        &staff.token,
        &id,
        json!({ "starts_at": at(daytime, 10, 0), "duration_minutes": 60, "format": "virtual" }),
    )
    .await;

    let res = check(&app, &staff.token, &id).await;
    assert_eq!(codes(&res), Vec::<String>::new(), "{}", res.text);

    // Anyone who can see the work can run the check.
    let res = check(&app, &participant(&app).await.token, &id).await;
    assert_eq!(codes(&res), Vec::<String>::new());
}

#[tokio::test]
async fn the_check_is_not_found_for_work_the_caller_cannot_see() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = create_work(&app, &staff.token, &work("Draft", json!({}))).await;
    let res = app
        .get(
            &format!("/api/v1/opportunities/{id}/inclusion-check"),
            &participant(&app).await.token,
        )
        .await;
    assert_eq!(res.status, 404, "{}", res.text);
}

#[tokio::test]
async fn an_acronym_is_explained_once_the_glossary_knows_it() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let id = create_work(
        &app,
        &staff.token,
        &work(
            "Acronyms",
            json!({
                // NHS and CPFT come with the seeded glossary; PALS is explained in place.
                "description": "Meet the NHS, CPFT and ZQX teams, with the Patient Advice and \
                                Liaison Service (PALS).",
                "format": "virtual",
                "paid": true,
                "support_offered": ["it_loan"],
            }),
        ),
    )
    .await;
    let res = check(&app, &staff.token, &id).await;
    assert_eq!(codes(&res), ["unexplained_acronyms"], "{}", res.text);
    assert_eq!(
        barrier(&res, "unexplained_acronyms")["message"],
        "The acronym ZQX is not explained in the text or the glossary."
    );

    let res = app
        .post(
            "/api/v1/glossary",
            &staff.token,
            &json!({ "term": "ZQX", "meaning": "The Zone Quality Exchange team." }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let res = check(&app, &staff.token, &id).await;
    assert_eq!(codes(&res), Vec::<String>::new(), "{}", res.text);
}

// --- Glossary --------------------------------------------------------------------------------

async fn glossary_terms(app: &TestApp, token: &str) -> Vec<(String, String)> {
    let res = app.get("/api/v1/glossary?limit=200", token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.body["next_cursor"].is_null(), "one page holds them all");
    res.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| {
            (
                t["term"].as_str().unwrap_or_default().to_owned(),
                t["meaning"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_glossary_starts_with_the_guides_terms() {
    let app = spawn_app().await;
    let terms = glossary_terms(&app, &participant(&app).await.token).await;
    let meaning = |term: &str| {
        terms
            .iter()
            .find(|(t, _)| t == term)
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| panic!("{term} is missing"))
    };
    assert!(meaning("Co-production").contains("from the very start to the finish"));
    assert!(meaning("CPFT").starts_with("Cambridge and Peterborough Foundation Trust"));
    assert!(meaning("Lived experience").starts_with("Personal experience"));
    assert!(terms.len() > 30, "{} terms", terms.len());

    // Pages of the glossary hold every term once.
    let first = app.get("/api/v1/glossary?limit=10", &app.admin_token).await;
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(10));
    let cursor = first.body["next_cursor"].as_str().expect("a next page");
    let second = app
        .get(
            &format!("/api/v1/glossary?limit=10&cursor={cursor}"),
            &app.admin_token,
        )
        .await;
    let first_terms: Vec<&str> = first.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["term"].as_str())
        .collect();
    let second_terms: Vec<&str> = second.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["term"].as_str())
        .collect();
    let listed: Vec<&str> = terms.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(first_terms, listed[..10]);
    assert_eq!(second_terms, listed[10..20]);
}

#[tokio::test]
async fn staff_add_a_term_once_whatever_its_case() {
    let app = spawn_app().await;
    let staff = provider(&app, "Provider").await;
    let before = glossary_terms(&app, &staff.token).await.len();

    let res = app
        .post(
            "/api/v1/glossary",
            &staff.token,
            &json!({ "term": "  Peer support ", "meaning": "Help from people who have been there." }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["term"], "Peer support");
    assert_eq!(res.body["meaning"], "Help from people who have been there.");
    assert!(res.body["id"].is_string());

    let res = app
        .post(
            "/api/v1/glossary",
            &staff.token,
            &json!({ "term": "PEER SUPPORT", "meaning": "Another meaning." }),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.problem_code(), "conflict");
    // A seeded term is taken too.
    let res = app
        .post(
            "/api/v1/glossary",
            &app.admin_token,
            &json!({ "term": "co-production", "meaning": "Mine." }),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);

    let terms = glossary_terms(&app, &staff.token).await;
    assert_eq!(terms.len(), before + 1);
    assert!(terms.contains(&(
        "Peer support".to_owned(),
        "Help from people who have been there.".to_owned()
    )));
}

#[tokio::test]
async fn a_participant_cannot_add_a_term() {
    let app = spawn_app().await;
    let person = participant(&app).await;
    let before = glossary_terms(&app, &person.token).await.len();
    let res = app
        .post(
            "/api/v1/glossary",
            &person.token,
            &json!({ "term": "Recovery", "meaning": "Getting better." }),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert_eq!(res.problem_code(), "forbidden");
    assert_eq!(glossary_terms(&app, &person.token).await.len(), before);
}

#[tokio::test]
async fn a_term_needs_words_and_a_meaning() {
    let app = spawn_app().await;
    let staff = token(
        &["facilitator"],
        Some(app.create_organisation("Hub", &["facilitator"]).await),
        None,
    );
    let res = app
        .post(
            "/api/v1/glossary",
            &staff,
            &json!({ "term": " ", "meaning": "" }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["term", "meaning"]);
}
