//! The evidence report against a data set built through the API: a provider with six pieces of
//! work under a commissioner's contract (one true co-production, one claimed co-production
//! whose people did not join from the start, one with a decision made without its
//! lived-experience members, one involvement, one survey, one staff-only), claims paid on
//! time, late and not at all, feedback closed and open, evaluations and a self-assessment.
//! Every figure is checked against a value computed here from the rows the test made.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Months, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{execute_sql, spawn_app, token, try_execute_sql, TestApp};
use crate::opportunities::{advertised_work, move_work, provider, registered_person, work, Staff};
use crate::sessions::{days_ago, sessions_path, verdict};

/// One attendance row as made.
struct Present {
    work: usize,
    person: char,
    session: String,
    starts: DateTime<Utc>,
    minutes: i64,
    participated: bool,
}

pub(crate) struct World {
    pub app: TestApp,
    pub staff: Staff,
    pub commissioner: String,
    pub commissioner_org: Uuid,
    pub contract: String,
    works: Vec<String>,
    people: BTreeMap<char, (Uuid, &'static str)>,
    present: Vec<Present>,
    /// Sessions: (work, id, agenda slot).
    sessions: Vec<(usize, String, bool)>,
    /// (person, session) pairs with a paid claim line; and people recognised on a work.
    paid_lines: Vec<(char, String)>,
    recognised: Vec<(char, usize)>,
    claims: Vec<String>,
    feedback: Vec<String>,
    scores: Vec<[i32; 5]>,
}

fn date(d: DateTime<Utc>) -> String {
    d.date_naive().to_string()
}

fn sql_time(d: DateTime<Utc>) -> String {
    d.format("%Y-%m-%d %H:%M:%S").to_string()
}

const ORDER: [&str; 5] = [
    "no_engagement",
    "informing",
    "consultation",
    "involvement",
    "co_production",
];

impl World {
    async fn member(&mut self, w: usize, who: char, joined_days_ago: i64) {
        let (id, experience) = self.people[&who];
        let res = self
            .app
            .post(
                &format!("/api/v1/opportunities/{}/members", self.works[w]),
                &self.staff.token,
                &json!({ "participant_id": id, "experience": experience,
                         "joined_at": days_ago(joined_days_ago) }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }

    /// A session `days` ago with these people (minutes, participated), and decisions.
    async fn session(
        &mut self,
        w: usize,
        days: i64,
        slot: bool,
        who: &[(char, i64, bool)],
        decisions: &[(&str, bool)],
    ) -> String {
        let attendance: Vec<Value> = who
            .iter()
            .map(|(p, minutes, participated)| {
                json!({ "participant_id": self.people[p].0, "minutes": minutes,
                        "participation": if *participated { "participated" } else { "attended" } })
            })
            .collect();
        let decisions: Vec<Value> = decisions
            .iter()
            .map(|(d, shared)| json!({ "description": d, "shared_with_lived_experience": shared }))
            .collect();
        let starts = days_ago(days);
        let res = self
            .app
            .post(
                &sessions_path(&self.works[w]),
                &self.staff.token,
                &json!({ "starts_at": starts, "duration_minutes": 120, "format": "in_person",
                         "lived_experience_agenda_slot": slot,
                         "attendance": attendance, "decisions": decisions }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        let id = res.body["id"].as_str().expect("session id").to_owned();
        for (p, minutes, participated) in who {
            self.present.push(Present {
                work: w,
                person: *p,
                session: id.clone(),
                starts,
                minutes: *minutes,
                participated: *participated,
            });
        }
        self.sessions.push((w, id.clone(), slot));
        id
    }

    /// A person's claim for their time at a session, submitted and approved; paid when asked.
    async fn claim(
        &mut self,
        w: usize,
        who: char,
        session: &str,
        minutes: i64,
        pay: bool,
    ) -> String {
        let person = self.people[&who].0;
        let person_token = token(&["participant"], None, Some(person));
        let res = self
            .app
            .post(
                "/api/v1/claims",
                &person_token,
                &json!({ "opportunity_id": self.works[w],
                         "lines": [{ "kind": "participation", "session_id": session, "minutes": minutes }] }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        let id = res.body["id"].as_str().expect("claim id").to_owned();
        let step = |verb: &str| format!("/api/v1/claims/{id}/{verb}");
        let res = self
            .app
            .post(&step("submit"), &person_token, &json!({}))
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        let res = self
            .app
            .post(&step("approve"), &self.staff.token, &json!({}))
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        if pay {
            let res = self
                .app
                .post(
                    &step("pay"),
                    &self.staff.token,
                    &json!({ "method": "cash" }),
                )
                .await;
            assert_eq!(res.status, 200, "{}", res.text);
            self.paid_lines.push((who, session.to_owned()));
        }
        self.claims.push(id.clone());
        id
    }

    async fn feedback(&mut self, w: Option<usize>, days: i64, close: bool) {
        let mut body = json!({ "said": "The room was hard to reach, too far from the bus stop.",
                               "channel": "meeting", "received_at": days_ago(days),
                               "organisation_id": self.staff.org });
        if let Some(w) = w {
            body["opportunity_id"] = json!(self.works[w]);
        }
        let res = self
            .app
            .post("/api/v1/feedback", &self.staff.token, &body)
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        let id = res.body["id"].as_str().expect("feedback id").to_owned();
        if close {
            let res = crate::helpers::read(
                self.app
                    .client
                    .put(self.app.url(&format!("/api/v1/feedback/{id}/response")))
                    .bearer_auth(&self.staff.token)
                    .header("If-Match", res.header("etag").expect("etag"))
                    .json(&json!({ "outcome": "acted", "we_did": "We moved the meeting to the library." }))
                    .send()
                    .await
                    .expect("request"),
            )
            .await;
            assert_eq!(res.status, 200, "{}", res.text);
            let res = self
                .app
                .post(
                    &format!("/api/v1/feedback/{id}/close"),
                    &self.staff.token,
                    &json!({ "communicated_how": "Told at the next meeting" }),
                )
                .await;
            assert_eq!(res.status, 200, "{}", res.text);
        }
        self.feedback.push(id);
    }
}

/// Builds the provider's year: see the module's doc.
pub(crate) async fn world() -> World {
    let app = spawn_app().await;
    let staff = provider(&app, "Riverside Recovery, Camden").await;
    let commissioner_org = app
        .create_organisation("North Central Commissioning", &["commissioner"])
        .await;
    let commissioner = token(&["commissioner"], Some(commissioner_org), None);
    let res = app
        .post(
            "/api/v1/contracts",
            &commissioner,
            &json!({
                "provider_id": staff.org,
                "title": "Recovery support 2026",
                "starts_on": date(days_ago(90)),
                "ends_on": date(days_ago(-30)),
                "requirements": [
                    { "metric": "co_produced_work", "threshold": 1, "label": "At least one piece of work co-produced" },
                    { "metric": "co_produced_work", "threshold": 2, "label": "At least two pieces of work co-produced" },
                    { "metric": "interview_panels_with_lived_experience_share", "threshold": 100, "label": "Lived experience on every interview panel" },
                    { "metric": "claims_paid_on_time_share", "threshold": 90, "label": "At least 90% of claims paid on time" },
                    { "metric": "feedback_closed_within_share", "threshold": 50, "within_days": 14, "label": "Half of feedback closed within 14 days" },
                    { "metric": "distinct_participants", "threshold": 5, "label": "At least 5 people with lived experience or carers" },
                    { "metric": "target_rung", "target_level": "involvement", "label": "Most work at involvement or above" },
                    { "metric": "median_days_to_pay", "threshold": 14, "label": "Claims paid in 14 days (median)" }
                ]
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let contract = res.body["id"].as_str().expect("contract id").to_owned();

    let mut people = BTreeMap::new();
    for (name, roles, experience) in [
        ('A', json!(["lived_experience"]), "lived_experience"),
        ('B', json!(["carer"]), "carer"),
        ('C', json!(["lived_experience"]), "lived_experience"),
        ('D', json!(["lived_experience"]), "lived_experience"),
        ('E', json!(["lived_experience", "carer"]), "both"),
        ('F', json!(["lived_experience"]), "lived_experience"),
    ] {
        let p = registered_person(&app, &staff, json!({ "roles": roles })).await;
        people.insert(name, (p.id, experience));
    }

    let mut works = Vec::new();
    for (title, kind, claimed, paid) in [
        (
            "Redesign the recovery cafe",
            "workshop",
            "co_production",
            true,
        ),
        (
            "Rewrite the welcome pack",
            "workshop",
            "co_production",
            true,
        ),
        (
            "Choose the new premises, with a comma",
            "workshop",
            "co_production",
            true,
        ),
        ("Monthly service meeting", "meeting", "involvement", true),
        ("Annual survey", "survey", "consultation", false),
        ("Staff planning day", "meeting", "involvement", false),
    ] {
        let id = advertised_work(
            &app,
            &staff.token,
            &work(
                title,
                json!({ "kind": kind, "claimed_mode": claimed, "paid": paid, "contract_id": contract }),
            ),
        )
        .await;
        assert_eq!(
            move_work(&app, &staff.token, &id, "start").await.status,
            200
        );
        works.push(id);
    }
    let mut w = World {
        app,
        staff,
        commissioner,
        commissioner_org,
        contract,
        works,
        people,
        present: Vec::new(),
        sessions: Vec::new(),
        paid_lines: Vec::new(),
        recognised: Vec::new(),
        claims: Vec::new(),
        feedback: Vec::new(),
        scores: Vec::new(),
    };

    // 0: true co-production: joined before the first session, there to the end, every decision
    // shared, paid, ended.
    w.member(0, 'A', 50).await;
    w.member(0, 'B', 50).await;
    let s0 = w
        .session(
            0,
            40,
            true,
            &[('A', 90, true), ('B', 60, false)],
            &[("Agree the aims", true)],
        )
        .await;
    w.session(0, 30, true, &[('A', 90, true), ('B', 90, true)], &[])
        .await;
    w.session(
        0,
        20,
        false,
        &[('A', 90, true), ('B', 90, true)],
        &[("Agree the menu", true)],
    )
    .await;
    // 1: claimed co-production, but the first session was held before anyone joined.
    w.session(1, 40, false, &[], &[]).await;
    w.member(1, 'C', 35).await;
    w.member(1, 'D', 35).await;
    let s1 = w
        .session(
            1,
            30,
            true,
            &[('C', 90, true), ('D', 90, true)],
            &[("Agree the words", true)],
        )
        .await;
    w.session(1, 20, true, &[('C', 90, true), ('D', 90, true)], &[])
        .await;
    // 2: a decision made without its lived-experience members having a say.
    w.member(2, 'A', 50).await;
    w.member(2, 'E', 50).await;
    w.session(
        2,
        40,
        true,
        &[('A', 90, true), ('E', 90, true)],
        &[("Agree the brief", true)],
    )
    .await;
    w.session(
        2,
        30,
        false,
        &[('A', 90, true), ('E', 90, true)],
        &[("Sign the lease", false)],
    )
    .await;
    w.session(2, 20, true, &[('A', 90, true), ('E', 60, false)], &[])
        .await;
    // 3: involvement, as claimed; still running.
    w.member(3, 'F', 35).await;
    let s3 = w.session(3, 30, true, &[('F', 60, true)], &[]).await;
    w.session(3, 20, false, &[('F', 45, false)], &[]).await;
    // 4: a survey: feedback only. 5: staff alone.
    // A decision marked shared, yet nobody with lived or caring experience was there.
    w.session(5, 30, false, &[], &[("Close the cafe on Fridays", true)])
        .await;
    w.session(5, 20, false, &[], &[]).await;
    for i in [0, 1, 2] {
        assert_eq!(
            move_work(&w.app, &w.staff.token, &w.works[i], "end")
                .await
                .status,
            200
        );
    }

    // Claims: A paid on time, C paid late (submitted 20 days ago, due 6 days ago), F approved
    // and overdue (due 5 days ago); B recognised otherwise for the cafe.
    w.claim(0, 'A', &s0, 90, true).await;
    let late = w.claim(1, 'C', &s1, 90, true).await;
    let overdue = w.claim(3, 'F', &s3, 60, false).await;
    let url = w.app.database_url.clone();
    execute_sql(
        &url,
        &format!(
            "UPDATE claims SET submitted_at = '{}', due_on = '{}' WHERE id = '{late}'",
            sql_time(days_ago(20)),
            date(days_ago(6))
        ),
    );
    execute_sql(
        &url,
        &format!(
            "UPDATE claims SET submitted_at = '{}', due_on = '{}' WHERE id = '{overdue}'",
            sql_time(days_ago(19)),
            date(days_ago(5))
        ),
    );
    let res = w
        .app
        .post(
            "/api/v1/recognitions",
            &w.staff.token,
            &json!({ "participant_id": w.people[&'B'].0, "opportunity_id": w.works[0],
                     "kind": "training_place", "description": "Peer facilitation course" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    w.recognised.push(('B', 0));

    // Feedback: two about the survey (one closed), one about the provider as a whole (closed),
    // and one from before the period (not counted, but open now).
    w.feedback(Some(4), 25, true).await;
    w.feedback(Some(4), 10, false).await;
    w.feedback(None, 15, true).await;
    w.feedback(None, 120, false).await;

    for scores in [[5, 4, 4, 5, 3], [4, 4, 3, 5, 2]] {
        let res = w
            .app
            .post(
                "/api/v1/evaluations",
                &w.staff.token,
                &json!({ "organisation_id": w.staff.org, "empathy": scores[0], "inclusion": scores[1],
                         "honesty": scores[2], "working_together": scores[3], "personalisation": scores[4] }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        w.scores.push(scores);
    }
    let res = w
        .app
        .post(
            &format!("/api/v1/organisations/{}/self-assessments", w.staff.org),
            &w.staff.token,
            &json!({ "period_from": date(days_ago(365)), "period_to": date(days_ago(0)),
                     "current_level": "co_production", "staff_knowledge": 3, "staff_confidence": 2,
                     "opportunities_completed": 6, "barriers": ["no_time", "jargon"], "commitment": 7,
                     "prepared_to_pay": "partly", "target_level": "co_production",
                     "successes": "The cafe menu" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    w
}

/// The figures of a report by metric.
fn figures(report: &Value) -> BTreeMap<String, Value> {
    report["figures"]
        .as_array()
        .unwrap_or_else(|| panic!("figures: {report}"))
        .iter()
        .map(|f| (f["metric"].as_str().expect("metric").to_owned(), f.clone()))
        .collect()
}

fn value(figures: &BTreeMap<String, Value>, metric: &str) -> Option<f64> {
    figures
        .get(metric)
        .unwrap_or_else(|| panic!("no figure {metric}"))["value"]
        .as_f64()
}

fn close(a: Option<f64>, b: Option<f64>, what: &str) {
    match (a, b) {
        (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "{what}: report {a}, expected {b}"),
        (a, b) => assert_eq!(a, b, "{what}"),
    }
}

fn share(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

fn median(mut v: Vec<i64>) -> Option<f64> {
    v.sort_unstable();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2] as f64),
        _ => Some((v[n / 2 - 1] + v[n / 2]) as f64 / 2.0),
    }
}

#[tokio::test]
async fn every_figure_of_the_report_is_what_the_records_made_through_the_api_say() {
    let w = world().await;
    let res = w
        .app
        .get(
            &format!("/api/v1/reports/evidence?contract={}", w.contract),
            &w.staff.token,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let report = res.body;
    let f = figures(&report);
    assert_eq!(report["subject"]["provider_id"], json!(w.staff.org));
    assert_eq!(report["subject"]["contract_id"], json!(w.contract));
    assert_eq!(report["small_numbers_suppressed"], false);
    assert_eq!(report["period"]["from"], date(days_ago(90)));
    assert!(report["computed_at"].is_string());

    // Work: by kind, by level claimed beside evidenced (each piece's level is what its own
    // evidence says), and the overclaimed with their failing criteria.
    let mut claimed: BTreeMap<String, usize> = BTreeMap::new();
    let mut evidenced: BTreeMap<String, usize> = BTreeMap::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut overclaimed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut reasons: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut levels = Vec::new();
    for id in &w.works {
        let o = w
            .app
            .get(&format!("/api/v1/opportunities/{id}"), &w.staff.token)
            .await;
        let v = verdict(&w.app, &w.staff.token, id).await;
        *claimed
            .entry(o.body["claimed_mode"].as_str().expect("claimed").to_owned())
            .or_default() += 1;
        *evidenced.entry(v.level.clone()).or_default() += 1;
        *kinds
            .entry(o.body["kind"].as_str().unwrap().to_owned())
            .or_default() += 1;
        if v.claim_check == "overclaimed" {
            overclaimed.insert(id.clone(), v.failing.clone());
            for c in &v.failing {
                reasons.insert((id.clone(), c.clone()), v.reason(c).to_owned());
            }
        }
        levels.push(ORDER.iter().position(|l| *l == v.level).unwrap());
    }
    // The six pieces are what they were built to be.
    assert_eq!(
        evidenced,
        BTreeMap::from([
            ("co_production".to_owned(), 1),
            ("involvement".to_owned(), 3),
            ("consultation".to_owned(), 1),
            ("no_engagement".to_owned(), 1)
        ])
    );
    assert_eq!(overclaimed.len(), 3, "{overclaimed:?}");
    assert_eq!(overclaimed[&w.works[1]], ["from_the_start"]);
    assert_eq!(overclaimed[&w.works[2]], ["equal_say_in_decisions"]);
    close(value(&f, "work"), Some(6.0), "work");
    for level in ORDER {
        close(
            value(&f, &format!("work_claimed_{level}")),
            Some(*claimed.get(level).unwrap_or(&0) as f64),
            level,
        );
        close(
            value(&f, &format!("work_evidenced_{level}")),
            Some(*evidenced.get(level).unwrap_or(&0) as f64),
            level,
        );
        close(
            value(&f, &format!("ladder_share_{level}")),
            share(*evidenced.get(level).unwrap_or(&0), 6),
            level,
        );
    }
    for (kind, n) in &kinds {
        close(
            value(&f, &format!("work_kind_{kind}")),
            Some(*n as f64),
            kind,
        );
    }
    close(value(&f, "work_overclaimed"), Some(3.0), "overclaimed");
    let listed: BTreeMap<String, Vec<String>> = report["overclaimed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["opportunity_id"].as_str().unwrap().to_owned(),
                o["failing"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| {
                        let id = o["opportunity_id"].as_str().unwrap().to_owned();
                        let criterion = c["criterion"].as_str().unwrap().to_owned();
                        // The provider reads why, in the words the piece of work itself gives.
                        assert_eq!(
                            c["reason"].as_str(),
                            reasons.get(&(id, criterion.clone())).map(String::as_str),
                            "{c}"
                        );
                        criterion
                    })
                    .collect(),
            )
        })
        .collect();
    assert_eq!(listed, overclaimed);
    assert!(
        reasons
            .values()
            .any(|r| r.contains("do not count: no lived-experience or carer member attended")),
        "the staff-only decision marked shared is named: {reasons:?}"
    );
    levels.sort_unstable();
    assert_eq!(report["position"], ORDER[levels[levels.len() / 2]]);
    let chart: Vec<(String, i64, i64)> = report["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["level"].as_str().unwrap().to_owned(),
                l["claimed"].as_i64().unwrap(),
                l["evidenced"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(chart.len(), 5);

    // People and hours.
    let everyone: BTreeSet<char> = w.present.iter().map(|p| p.person).collect();
    let of = |pred: &dyn Fn(&str) -> bool| {
        everyone.iter().filter(|p| pred(w.people[p].1)).count() as f64
    };
    close(value(&f, "people"), Some(everyone.len() as f64), "people");
    close(
        value(&f, "people_lived_experience"),
        Some(of(&|e| e == "lived_experience" || e == "both")),
        "lived experience",
    );
    close(
        value(&f, "people_carers"),
        Some(of(&|e| e == "carer" || e == "both")),
        "carers",
    );
    let minutes = |pred: &dyn Fn(&Present) -> bool| {
        w.present
            .iter()
            .filter(|p| pred(p))
            .map(|p| p.minutes)
            .sum::<i64>()
    };
    close(
        value(&f, "hours_participating"),
        Some(minutes(&|p| p.participated) as f64 / 60.0),
        "participating",
    );
    close(
        value(&f, "hours_attending"),
        Some(minutes(&|p| !p.participated) as f64 / 60.0),
        "attending",
    );
    let recognised = minutes(&|p| {
        w.paid_lines
            .iter()
            .any(|(who, s)| *who == p.person && *s == p.session)
            || w.recognised
                .iter()
                .any(|(who, work)| *who == p.person && *work == p.work)
    });
    close(
        value(&f, "hours_paid_or_recognised_share"),
        Some(recognised as f64 * 100.0 / minutes(&|_| true) as f64),
        "paid or recognised",
    );

    // The people and hours are counted from the attendance their link lists.
    let path = f["people"]["records"].as_str().unwrap().to_owned();
    let listed = w
        .app
        .get(&format!("{path}&limit=200"), &w.staff.token)
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let rows = listed.body["items"].as_array().unwrap();
    assert_eq!(rows.len(), w.present.len());
    let ids: BTreeSet<&str> = rows
        .iter()
        .filter_map(|a| a["participant_id"].as_str())
        .collect();
    assert_eq!(ids.len(), everyone.len());
    let listed_minutes: i64 = rows.iter().filter_map(|a| a["minutes"].as_i64()).sum();
    assert_eq!(listed_minutes, minutes(&|_| true));

    // Sessions.
    let with_slot = w.sessions.iter().filter(|s| s.2).count();
    close(
        value(&f, "sessions_held"),
        Some(w.sessions.len() as f64),
        "sessions",
    );
    close(
        value(&f, "sessions_with_agenda_slot"),
        Some(with_slot as f64),
        "slots",
    );
    close(
        value(&f, "agenda_slot_share"),
        share(with_slot, w.sessions.len()),
        "slot share",
    );
    close(value(&f, "interview_panels"), Some(0.0), "panels");
    close(
        value(&f, "interview_panels_with_lived_experience_share"),
        None,
        "no panels: no data",
    );
    assert_eq!(
        f["interview_panels_with_lived_experience_share"]["display"],
        "no data"
    );

    // Payments, from the claims as the API shows them now.
    let today = Utc::now().date_naive();
    let (from, to) = (days_ago(90).date_naive(), days_ago(-30).date_naive());
    let (mut paid_pence, mut paid, mut due, mut on_time, mut overdue, mut days) =
        (0, 0, 0, 0, 0, Vec::new());
    for id in &w.claims {
        let c = w
            .app
            .get(&format!("/api/v1/claims/{id}"), &w.staff.token)
            .await;
        assert_eq!(c.status, 200, "{}", c.text);
        let c = &c.body;
        let due_on: chrono::NaiveDate = c["due_on"].as_str().unwrap().parse().unwrap();
        let paid_at: Option<DateTime<Utc>> = c["paid_at"].as_str().map(|t| t.parse().unwrap());
        let submitted_at: DateTime<Utc> = c["submitted_at"].as_str().unwrap().parse().unwrap();
        if let Some(p) = paid_at {
            paid += 1;
            paid_pence += c["payable"]["amount_pence"].as_i64().unwrap();
            days.push((p - submitted_at).num_days());
        }
        if due_on >= from && due_on < to {
            due += 1;
            if paid_at.is_some_and(|p| p.date_naive() <= due_on) {
                on_time += 1;
            }
        }
        if paid_at.is_none() && due_on < today {
            overdue += 1;
        }
    }
    assert_eq!(
        (paid, due, on_time, overdue),
        (2, 3, 1, 1),
        "the data set is as built"
    );
    close(value(&f, "payments_total"), Some(paid_pence as f64), "paid");
    close(value(&f, "claims_paid"), Some(paid as f64), "claims paid");
    close(value(&f, "claims_due"), Some(due as f64), "due");
    close(
        value(&f, "claims_paid_on_time"),
        Some(on_time as f64),
        "on time",
    );
    close(
        value(&f, "claims_paid_on_time_share"),
        share(on_time, due),
        "on time share",
    );
    close(
        value(&f, "median_days_to_pay"),
        median(days),
        "median days to pay",
    );
    close(
        value(&f, "claims_overdue_now"),
        Some(overdue as f64),
        "overdue",
    );

    // The feedback loop, from the items as the API shows them.
    let (mut received, mut closed, mut within28, mut within14, mut open_now, mut close_days) =
        (0, 0, 0, 0, 0, Vec::new());
    for id in &w.feedback {
        let item = w
            .app
            .get(&format!("/api/v1/feedback/{id}"), &w.staff.token)
            .await;
        assert_eq!(item.status, 200, "{}", item.text);
        let r: DateTime<Utc> = item.body["received_at"].as_str().unwrap().parse().unwrap();
        let c: Option<DateTime<Utc>> = item.body["closed_at"].as_str().map(|t| t.parse().unwrap());
        if c.is_none() {
            open_now += 1;
        }
        if r.date_naive() >= from && r.date_naive() < to {
            received += 1;
            if let Some(c) = c {
                closed += 1;
                let d = (c - r).num_days();
                close_days.push(d);
                within28 += usize::from(d <= 28);
                within14 += usize::from(d <= 14);
            }
        }
    }
    close(
        value(&f, "feedback_received"),
        Some(received as f64),
        "received",
    );
    close(value(&f, "feedback_closed"), Some(closed as f64), "closed");
    close(
        value(&f, "feedback_closure_rate"),
        share(closed, received),
        "closure rate",
    );
    close(
        value(&f, "feedback_closed_within_share"),
        share(within28, received),
        "within 28",
    );
    close(
        value(&f, "median_days_to_close"),
        median(close_days),
        "median days to close",
    );
    close(
        value(&f, "feedback_open_now"),
        Some(open_now as f64),
        "open now",
    );

    // The Five Values.
    let n = w.scores.len() as f64;
    let avg = |i: usize| w.scores.iter().map(|s| f64::from(s[i])).sum::<f64>() / n;
    for (i, name) in [
        "empathy",
        "inclusion",
        "honesty",
        "working_together",
        "personalisation",
    ]
    .iter()
    .enumerate()
    {
        close(
            value(&f, &format!("five_values_{name}")),
            Some(avg(i)),
            name,
        );
    }
    let overall = (0..5).map(avg).sum::<f64>() / 5.0;
    close(value(&f, "five_values_average"), Some(overall), "overall");

    // The self-assessment beside the evidence.
    assert_eq!(report["self_assessment"]["current_level"], "co_production");
    assert_eq!(
        report["self_assessment"]["evidenced_position"],
        report["position"]
    );
    assert_eq!(report["self_assessment"]["commitment"], 7);

    // Requirements: met, missed by one unit, and a percentage with no data.
    let status: Vec<(String, String)> = report["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["requirement"]["label"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let of_label = |l: &str| {
        status
            .iter()
            .find(|(x, _)| x.starts_with(l))
            .map(|(_, s)| s.clone())
            .unwrap()
    };
    let co = *evidenced.get("co_production").unwrap_or(&0);
    assert_eq!(
        of_label("At least one piece"),
        if co >= 1 { "met" } else { "not_met" }
    );
    assert_eq!(
        of_label("At least two pieces"),
        "not_met",
        "missed by one unit ({co} of 2)"
    );
    assert_eq!(
        of_label("Lived experience on every interview panel"),
        "no_data"
    );
    assert_eq!(of_label("At least 90% of claims"), "not_met");
    let within14_share = share(within14, received).unwrap();
    assert_eq!(
        of_label("Half of feedback"),
        if within14_share >= 50.0 {
            "met"
        } else {
            "not_met"
        }
    );
    assert_eq!(
        of_label("At least 5 people"),
        if everyone.len() >= 5 {
            "met"
        } else {
            "not_met"
        }
    );
    assert_eq!(of_label("Most work"), "met");
    assert_eq!(of_label("Claims paid in 14 days"), "met");

    // Every figure names where its records are, and that list answers the provider.
    for (metric, fig) in &f {
        let path = fig["records"]
            .as_str()
            .unwrap_or_else(|| panic!("{metric} has no records path"));
        assert!(path.starts_with("/api/v1/"), "{metric}: {path}");
    }
    let paths: BTreeSet<&str> = f
        .values()
        .filter_map(|fig| fig["records"].as_str())
        .collect();
    for path in paths {
        let listed = w.app.get(path, &w.staff.token).await;
        assert_eq!(listed.status, 200, "{path}: {}", listed.text);
    }
    let listed = w
        .app
        .get(f["work"]["records"].as_str().unwrap(), &w.staff.token)
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 6);
    let listed = w
        .app
        .get(
            f["work_kind_survey"]["records"].as_str().unwrap(),
            &w.staff.token,
        )
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);

    // GraphQL gives the same figures.
    let body = w
        .app
        .graphql(
            &w.staff.token,
            "query($c: UUID!) { evidenceReport(contract: $c) { position smallNumbersSuppressed figures { metric value display } requirements { status } levels { level claimed evidenced } } }",
            json!({ "c": w.contract }),
        )
        .await;
    let g = &body["data"]["evidenceReport"];
    assert_eq!(
        g["figures"].as_array().map(Vec::len),
        Some(f.len()),
        "{body}"
    );
    for fig in g["figures"].as_array().unwrap() {
        let metric = fig["metric"].as_str().unwrap();
        close(fig["value"].as_f64(), value(&f, metric), metric);
    }
    assert_eq!(
        g["position"],
        report["position"].as_str().unwrap().to_uppercase()
    );
}

#[tokio::test]
async fn people_and_hours_count_only_the_work_the_report_covers_in_whole_and_part_months() {
    let w = world().await;
    // Two attended pieces of work leave every period: one's dates corrected to long ago, and
    // one a draft again. Their attendance is still kept in its months beside the records.
    let (dated, drafted) = (1, 3);
    execute_sql(
        &w.app.database_url,
        &format!(
            "UPDATE opportunities SET starts_on = '2020-01-01', ends_on = '2020-12-31' \
             WHERE id = '{}'",
            w.works[dated]
        ),
    );
    execute_sql(
        &w.app.database_url,
        &format!(
            "UPDATE opportunities SET status = 'draft' WHERE id = '{}'",
            w.works[drafted]
        ),
    );
    for left_out in [dated, drafted] {
        assert!(
            w.present.iter().any(|p| p.work == left_out),
            "the world has attendance at work {left_out}"
        );
    }
    let first_of = |d: DateTime<Utc>| d.date_naive().with_day(1).expect("the first of the month");
    let today = Utc::now().date_naive();
    let next_month = first_of(Utc::now())
        .checked_add_months(Months::new(1))
        .expect("next month");
    // Whole months only; mid-month to mid-month; inside one month; and a period running on past
    // today (judged now, so its last month is only part-way).
    let periods = [
        (first_of(days_ago(120)), first_of(Utc::now())),
        (days_ago(80).date_naive(), days_ago(10).date_naive()),
        (
            first_of(days_ago(35)),
            first_of(days_ago(35)) + chrono::Days::new(20),
        ),
        (days_ago(50).date_naive(), next_month),
    ];
    for (from, to) in periods {
        let res = w
            .app
            .get(
                &format!(
                    "/api/v1/reports/evidence?provider={}&from={from}&to={to}",
                    w.staff.org
                ),
                &w.staff.token,
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        let f = figures(&res.body);
        let counted: Vec<&Present> = w
            .present
            .iter()
            .filter(|p| p.work != dated && p.work != drafted)
            .filter(|p| {
                let day = p.starts.date_naive();
                day >= from && day < to && day <= today
            })
            .collect();
        let everyone: BTreeSet<char> = counted.iter().map(|p| p.person).collect();
        let of = |pred: &dyn Fn(&str) -> bool| {
            everyone.iter().filter(|p| pred(w.people[p].1)).count() as f64
        };
        let what = format!("{from} to {to}");
        close(value(&f, "people"), Some(everyone.len() as f64), &what);
        close(
            value(&f, "people_lived_experience"),
            Some(of(&|e| e == "lived_experience" || e == "both")),
            &what,
        );
        close(
            value(&f, "people_carers"),
            Some(of(&|e| e == "carer" || e == "both")),
            &what,
        );
        let hours = |participated: bool| {
            counted
                .iter()
                .filter(|p| p.participated == participated)
                .map(|p| p.minutes)
                .sum::<i64>() as f64
                / 60.0
        };
        close(value(&f, "hours_participating"), Some(hours(true)), &what);
        close(value(&f, "hours_attending"), Some(hours(false)), &what);
    }
}

#[tokio::test]
async fn a_commissioner_sees_the_contract_with_small_counts_of_people_withheld_and_nobody_else_sees_it(
) {
    let w = world().await;
    let path = format!("/api/v1/reports/evidence?contract={}", w.contract);
    let res = w.app.get(&path, &w.commissioner).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let report = res.body;
    assert_eq!(report["small_numbers_suppressed"], true);
    assert_eq!(
        report["subject"]["commissioner_id"],
        json!(w.commissioner_org)
    );
    let f = figures(&report);
    // Two carers: fewer than 5, withheld; five people with lived experience and six in all:
    // shown rounded to 5.
    assert_eq!(f["people_carers"]["display"], "fewer than 5");
    assert_eq!(f["people_carers"]["value"], Value::Null);
    assert_eq!(f["people_carers"]["suppressed"], true);
    assert_eq!(f["people_lived_experience"]["value"], 5.0);
    assert_eq!(f["people"]["value"], 5.0, "six people are shown as about 5");
    // No counts of people in the reasons, and no records they may not list.
    for o in report["overclaimed"].as_array().unwrap() {
        for c in o["failing"].as_array().unwrap() {
            assert_eq!(c["reason"], "", "{c}");
        }
    }
    assert_eq!(f["claims_paid"]["records"], Value::Null);
    // The attendance behind the people figures is theirs to list (work under the contract);
    // another provider lists none of it, through either door.
    let attendance = format!("{}&limit=200", f["people"]["records"].as_str().unwrap());
    let listed = w.app.get(&attendance, &w.commissioner).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let seen = listed.body["items"].as_array().unwrap().len();
    assert_eq!(seen, w.present.len());
    let stranger = provider(&w.app, "Stranger").await;
    let listed = w.app.get(&attendance, &stranger.token).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(0));
    let body = w
        .app
        .graphql(
            &stranger.token,
            "query($o: UUID!) { attendance(filter: { organisationId: $o }) { edges { node { id } } } }",
            json!({ "o": w.staff.org }),
        )
        .await;
    assert_eq!(
        body["data"]["attendance"]["edges"].as_array().map(Vec::len),
        Some(0),
        "{body}"
    );
    let body = w
        .app
        .graphql(
            &w.commissioner,
            "query($o: UUID!) { attendance(filter: { organisationId: $o }, first: 100) { edges { node { id } } } }",
            json!({ "o": w.staff.org }),
        )
        .await;
    assert_eq!(
        body["data"]["attendance"]["edges"].as_array().map(Vec::len),
        Some(seen),
        "{body}"
    );
    assert_eq!(f["feedback_received"]["records"], Value::Null);
    // The work under the contract is theirs to read.
    let listed = w
        .app
        .get(f["work"]["records"].as_str().unwrap(), &w.commissioner)
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 6);
    // The same through GraphQL.
    let body = w
        .app
        .graphql(
            &w.commissioner,
            "query($c: UUID!) { evidenceReport(contract: $c) { figures { metric value display suppressed } } }",
            json!({ "c": w.contract }),
        )
        .await;
    let carers = body["data"]["evidenceReport"]["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["metric"] == "people_carers")
        .cloned()
        .unwrap();
    assert_eq!(carers["display"], "fewer than 5", "{body}");
    assert_eq!(carers["value"], Value::Null);

    // By provider, the one contract covering the period is taken.
    let res = w
        .app
        .get(
            &format!("/api/v1/reports/evidence?provider={}", w.staff.org),
            &w.commissioner,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["subject"]["contract_id"], json!(w.contract));
    // Outside the contract's period: refused, naming it.
    let res = w
        .app
        .get(
            &format!(
                "{path}&from={}&to={}",
                date(days_ago(200)),
                date(days_ago(10))
            ),
            &w.commissioner,
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);

    // Another commissioner, another provider, a participant: not found, through both doors.
    let other_org = w
        .app
        .create_organisation("Elsewhere Commissioning", &["commissioner"])
        .await;
    let other = token(&["commissioner"], Some(other_org), None);
    let other_provider = provider(&w.app, "Another Provider").await;
    let person = token(&["participant"], None, Some(w.people[&'A'].0));
    for who in [&other, &other_provider.token, &person] {
        let res = w.app.get(&path, who).await;
        assert_eq!(res.status, 404, "{}", res.text);
        let res = w
            .app
            .get(
                &format!("/api/v1/reports/evidence?provider={}", w.staff.org),
                who,
            )
            .await;
        assert_eq!(res.status, 404, "{}", res.text);
        let body = w
            .app
            .graphql(
                who,
                "query($c: UUID!) { evidenceReport(contract: $c) { position } }",
                json!({ "c": w.contract }),
            )
            .await;
        assert_eq!(
            crate::helpers::gql_code(&body).as_deref(),
            Some("not_found"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn two_overlapping_periods_do_not_reveal_a_withheld_count() {
    let w = world().await;
    // The whole contract, and the same period without its last 25 days: between them the
    // sessions of the last 25 days (people A, B, C, D, E, F again) fall in or out.
    let mut shown = Vec::new();
    for (from, to) in [
        (days_ago(90), days_ago(-30)),
        (days_ago(90), days_ago(25)),
        (days_ago(35), days_ago(-30)),
        (days_ago(25), days_ago(15)),
    ] {
        let res = w
            .app
            .get(
                &format!(
                    "/api/v1/reports/evidence?contract={}&from={}&to={}",
                    w.contract,
                    date(from),
                    date(to)
                ),
                &w.commissioner,
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        let f = figures(&res.body);
        for metric in ["people", "people_lived_experience", "people_carers"] {
            let fig = &f[metric];
            match fig["value"].as_f64() {
                // Shown counts are multiples of 5, so no difference between two of them is a
                // count from 1 to 4.
                Some(v) => assert_eq!(v % 5.0, 0.0, "{metric}: {fig}"),
                None => assert_eq!(fig["display"], "fewer than 5", "{metric}: {fig}"),
            }
        }
        shown.push(f);
    }
    // The provider sees the exact counts of the same periods, which differ by less than 5.
    let staff = w.staff.token.as_str();
    let exact = |from: DateTime<Utc>, to: DateTime<Utc>| {
        let app = &w.app;
        let url = format!(
            "/api/v1/reports/evidence?contract={}&from={}&to={}",
            w.contract,
            date(from),
            date(to)
        );
        async move { figures(&app.get(&url, staff).await.body)["people"]["value"].as_f64() }
    };
    let whole = exact(days_ago(90), days_ago(-30)).await.unwrap();
    let early = exact(days_ago(90), days_ago(35)).await.unwrap();
    assert_eq!((whole, early), (6.0, 3.0), "the data set is as built");
    // The commissioner's figures for the same two periods: "about 5" and "fewer than 5", from
    // which the three who came later cannot be worked out.
    assert_eq!(shown[0]["people"]["value"].as_f64(), Some(5.0));
    let res = w
        .app
        .get(
            &format!(
                "/api/v1/reports/evidence?contract={}&from={}&to={}",
                w.contract,
                date(days_ago(90)),
                date(days_ago(35))
            ),
            &w.commissioner,
        )
        .await;
    let early_shown = &figures(&res.body)["people"];
    assert_eq!(early_shown["value"], Value::Null, "{early_shown}");
    assert_eq!(early_shown["display"], "fewer than 5");
}

#[tokio::test]
async fn the_report_comes_as_csv_one_row_per_figure_and_as_a_printable_page_without_script() {
    let w = world().await;
    let path = format!("/api/v1/reports/evidence?contract={}", w.contract);
    let json = w.app.get(&path, &w.staff.token).await.body;
    let figures = json["figures"].as_array().unwrap().len();
    let requirements = json["requirements"].as_array().unwrap().len();

    let res = w
        .app
        .client
        .get(w.app.url(&path))
        .bearer_auth(&w.staff.token)
        .header("Accept", "text/csv")
        .send()
        .await
        .expect("csv");
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    let mut reader = csv_rows(&csv);
    assert_eq!(
        reader.remove(0),
        [
            "section",
            "metric",
            "label",
            "value",
            "threshold",
            "met",
            "display",
            "records"
        ]
    );
    assert_eq!(reader.len(), figures + requirements);
    let work_kind = reader
        .iter()
        .find(|r| r[1] == "claims_paid_on_time_share")
        .unwrap();
    assert_eq!(work_kind[0], "payments");
    let two = reader
        .iter()
        .find(|r| r[2] == "At least two pieces of work co-produced")
        .unwrap();
    assert_eq!(
        (two[0].as_str(), two[4].as_str(), two[5].as_str()),
        ("requirements", "2", "not_met")
    );
    // A label with a comma stays one cell.
    assert!(reader.iter().all(|r| r.len() == 8));

    let res = w
        .app
        .client
        .get(w.app.url(&format!("{path}&format=html")))
        .bearer_auth(&w.staff.token)
        .send()
        .await
        .expect("html");
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    let page = res.text().await.unwrap();
    assert!(page.contains("<svg") && !page.to_lowercase().contains("<script"));
    assert_eq!(page.matches("class=\"bar claimed\"").count(), 5);
    assert_eq!(page.matches("class=\"bar evidenced\"").count(), 5);
    assert!(page.contains("Riverside Recovery, Camden"));
    assert!(page.contains("<th scope=\"col\">Met</th>"));
    assert!(
        page.contains("A partnership of people"),
        "the glossary's meaning of co-production"
    );
}

/// Parses CSV (RFC 4180 quoting) into rows of cells.
pub(crate) fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

/// Rows where what the database keeps beside the records for the report (each session's
/// lived-experience attendance; each attendance row's member experience and whether its time
/// was paid or recognised) differs from the records themselves, by kind.
fn kept_counts_astray(url: &str) -> [usize; 5] {
    let count = |sql: &str| -> usize {
        crate::helpers::stored_text(url, sql)
            .first()
            .and_then(|t| t.parse().ok())
            .expect("a count")
    };
    // Each person's months, recounted from the records, beside those kept (rows all of whose
    // counts have come back to zero are as good as absent).
    let month = if url.starts_with("postgres") {
        "CAST(date_trunc('month', s.starts_at) AS DATE)"
    } else {
        "date(s.starts_at, 'start of month')"
    };
    let recount = format!(
        "SELECT o.organisation_id, COALESCE(o.contract_id, '') AS contract_id, {month} AS month, \
         a.participant_id, COUNT(*) AS attended, \
         SUM(CASE WHEN a.experience IN ('lived_experience', 'both') THEN 1 ELSE 0 END) AS lived, \
         SUM(CASE WHEN a.experience IN ('carer', 'both') THEN 1 ELSE 0 END) AS carer, \
         SUM(CASE WHEN a.participation = 'participated' THEN a.minutes ELSE 0 END) AS p, \
         SUM(CASE WHEN a.participation = 'attended' THEN a.minutes ELSE 0 END) AS q, \
         SUM(CASE WHEN a.recognised THEN a.minutes ELSE 0 END) AS r \
         FROM attendance a JOIN sessions s ON s.id = a.session_id \
         JOIN opportunities o ON o.id = s.opportunity_id WHERE a.experience <> 'none' \
         GROUP BY o.organisation_id, COALESCE(o.contract_id, ''), {month}, a.participant_id"
    );
    let kept = "SELECT organisation_id, contract_id, month, participant_id, attended, lived, \
         carer, participating_minutes, attending_minutes, recognised_minutes FROM attendance_months \
         WHERE attended <> 0 OR lived <> 0 OR carer <> 0 OR participating_minutes <> 0 \
         OR attending_minutes <> 0 OR recognised_minutes <> 0";
    [
        count(
            "SELECT CAST(COUNT(*) AS TEXT) AS t FROM sessions s \
             WHERE s.present_with_experience <> (SELECT COUNT(*) FROM attendance a \
                   JOIN memberships m ON m.id = a.membership_id \
                   WHERE a.session_id = s.id AND m.experience <> 'none') \
                OR s.participated_with_experience <> (SELECT COUNT(*) FROM attendance a \
                   JOIN memberships m ON m.id = a.membership_id \
                   WHERE a.session_id = s.id AND m.experience <> 'none' \
                   AND a.participation = 'participated')",
        ),
        count(
            "SELECT CAST(COUNT(*) AS TEXT) AS t FROM attendance a \
             JOIN memberships m ON m.id = a.membership_id WHERE a.experience <> m.experience",
        ),
        count(
            "SELECT CAST(COUNT(*) AS TEXT) AS t FROM attendance a WHERE a.recognised <> \
             (EXISTS (SELECT 1 FROM claim_lines l JOIN claims c ON c.id = l.claim_id \
                      WHERE l.session_id = a.session_id AND c.participant_id = a.participant_id \
                      AND c.status = 'paid') \
              OR EXISTS (SELECT 1 FROM recognitions r JOIN sessions s ON s.opportunity_id = r.opportunity_id \
                      WHERE s.id = a.session_id AND r.participant_id = a.participant_id))",
        ),
        count(&format!(
            "SELECT CAST((SELECT COUNT(*) FROM ({recount} EXCEPT {kept}) x) \
             + (SELECT COUNT(*) FROM ({kept} EXCEPT {recount}) y) AS TEXT) AS t"
        )),
        count(
            "SELECT CAST(COUNT(*) AS TEXT) AS t FROM sessions s \
             WHERE s.decisions_made <> (SELECT COUNT(*) FROM decisions d WHERE d.session_id = s.id) \
                OR s.decisions_shared <> (SELECT COUNT(*) FROM decisions d \
                   WHERE d.session_id = s.id AND d.shared_with_lived_experience)",
        ),
    ]
}

fn one_text(url: &str, sql: &str) -> String {
    crate::helpers::stored_text(url, sql)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no row for {sql}"))
}

#[tokio::test]
async fn the_counts_kept_for_the_report_follow_every_change_to_the_records() {
    let w = world().await;
    let url = w.app.database_url.clone();
    let sums = |url: &str| {
        one_text(
            url,
            "SELECT CAST(SUM(present_with_experience) AS TEXT) || ' ' || \
             CAST(SUM(participated_with_experience) AS TEXT) || ' ' || \
             CAST((SELECT COUNT(*) FROM attendance WHERE recognised) AS TEXT) AS t FROM sessions",
        )
    };
    // As the API made them: attendance recorded, claims paid, a recognition recorded.
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);
    let recognised_before: usize = sums(&url)
        .split(' ')
        .nth(2)
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(recognised_before > 0, "the world pays some attendance");

    // Changes the service makes rarely or never, made directly: each kept count follows.
    let participated = one_text(
        &url,
        "SELECT a.id AS t FROM attendance a JOIN memberships m ON m.id = a.membership_id \
         WHERE m.experience <> 'none' AND a.participation = 'participated' ORDER BY a.id",
    );
    let before = sums(&url);
    execute_sql(
        &url,
        &format!("UPDATE attendance SET participation = 'attended' WHERE id = '{participated}'"),
    );
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);
    assert_ne!(sums(&url), before, "one fewer participated");

    let before = sums(&url);
    execute_sql(
        &url,
        &format!("DELETE FROM attendance WHERE id = '{participated}'"),
    );
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);
    assert_ne!(sums(&url), before, "one fewer present");

    let member = one_text(
        &url,
        "SELECT m.id AS t FROM memberships m WHERE m.experience <> 'none' \
         AND EXISTS (SELECT 1 FROM attendance a WHERE a.membership_id = m.id) ORDER BY m.id",
    );
    let before = sums(&url);
    execute_sql(
        &url,
        &format!("UPDATE memberships SET experience = 'none' WHERE id = '{member}'"),
    );
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);
    assert_ne!(sums(&url), before, "their attendance no longer counts");
    execute_sql(
        &url,
        &format!("UPDATE memberships SET experience = 'carer' WHERE id = '{member}'"),
    );
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);

    // A paid claim undone, and a recognition recorded for someone's work.
    let paid = one_text(
        &url,
        "SELECT c.id AS t FROM claims c WHERE c.status = 'paid' AND EXISTS \
         (SELECT 1 FROM claim_lines l JOIN attendance a ON a.session_id = l.session_id \
          AND a.participant_id = c.participant_id WHERE l.claim_id = c.id AND a.recognised) \
         ORDER BY c.id",
    );
    let before = sums(&url);
    execute_sql(
        &url,
        &format!("UPDATE claims SET status = 'approved' WHERE id = '{paid}'"),
    );
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);
    assert_ne!(sums(&url), before, "that time is no longer paid");
    let (opportunity, participant) = {
        let row = one_text(
            &url,
            "SELECT s.opportunity_id || ' ' || a.participant_id AS t FROM attendance a \
             JOIN sessions s ON s.id = a.session_id WHERE NOT a.recognised ORDER BY a.id",
        );
        let (o, p) = row.split_once(' ').expect("two ids");
        (o.to_owned(), p.to_owned())
    };
    let before = sums(&url);
    execute_sql(
        &url,
        &format!(
            "INSERT INTO recognitions (id, participant_id, opportunity_id, kind, description, \
             recorded_by, recorded_at) VALUES ('{}', '{participant}', '{opportunity}', \
             'voucher', 'A thank-you', 'test', '2026-01-01 00:00:00')",
            Uuid::now_v7()
        ),
    );
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);
    assert_ne!(sums(&url), before, "their time there is now recognised");

    // Each session's decisions follow one marked shared or not, moved and removed.
    let decisions = |url: &str| {
        one_text(
            url,
            "SELECT CAST(SUM(decisions_made) AS TEXT) || ' ' || CAST(SUM(decisions_shared) AS TEXT) \
             AS t FROM sessions",
        )
    };
    let decision = one_text(
        &url,
        "SELECT id AS t FROM decisions WHERE shared_with_lived_experience ORDER BY id",
    );
    let before = decisions(&url);
    execute_sql(
        &url,
        &format!(
            "UPDATE decisions SET shared_with_lived_experience = FALSE WHERE id = '{decision}'"
        ),
    );
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);
    assert_ne!(decisions(&url), before, "one fewer shared");
    execute_sql(
        &url,
        &format!(
            "UPDATE decisions SET session_id = (SELECT MIN(id) FROM sessions \
             WHERE id <> decisions.session_id) WHERE id = '{decision}'"
        ),
    );
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);
    let before = decisions(&url);
    execute_sql(
        &url,
        &format!("DELETE FROM decisions WHERE id = '{decision}'"),
    );
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);
    assert_ne!(decisions(&url), before, "one fewer made");

    // Each person's months follow a session moved to another month and to another piece of
    // work, a piece of work moved under a contract, and a session and a piece of work removed.
    let month_number = if crate::helpers::on_postgres() {
        "CAST(EXTRACT(MONTH FROM month) AS INTEGER)"
    } else {
        "CAST(strftime('%m', month) AS INTEGER)"
    };
    let months = |url: &str| {
        one_text(
            url,
            &format!(
                "SELECT CAST(COUNT(*) AS TEXT) || ' ' || CAST(SUM(attended) AS TEXT) || ' ' || \
                 CAST(SUM(attended * {month_number}) AS TEXT) || ' ' || \
                 CAST(COUNT(DISTINCT contract_id) AS TEXT) AS t \
                 FROM attendance_months WHERE attended <> 0"
            ),
        )
    };
    let attended_session = |extra: &str| {
        one_text(
            &url,
            &format!(
                "SELECT s.id AS t FROM sessions s WHERE EXISTS (SELECT 1 FROM attendance a \
                 WHERE a.session_id = s.id AND a.experience <> 'none') {extra} ORDER BY s.id"
            ),
        )
    };
    let session = attended_session("");
    let before = months(&url);
    let moved = if crate::helpers::on_postgres() {
        "starts_at - INTERVAL '45 days'"
    } else {
        "datetime(starts_at, '-45 days')"
    };
    execute_sql(
        &url,
        &format!("UPDATE sessions SET starts_at = {moved} WHERE id = '{session}'"),
    );
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);
    assert_ne!(
        months(&url),
        before,
        "their attendance moved to another month"
    );
    let elsewhere = one_text(
        &url,
        &format!(
            "SELECT o.id AS t FROM opportunities o WHERE o.id <> \
             (SELECT opportunity_id FROM sessions WHERE id = '{session}') ORDER BY o.id"
        ),
    );
    execute_sql(
        &url,
        &format!("UPDATE sessions SET opportunity_id = '{elsewhere}' WHERE id = '{session}'"),
    );
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);

    let (work, contract) = {
        let row = one_text(
            &url,
            "SELECT o.id || ' ' || o.contract_id AS t FROM sessions s \
             JOIN attendance a ON a.session_id = s.id JOIN opportunities o ON o.id = s.opportunity_id \
             WHERE a.experience <> 'none' AND o.contract_id IS NOT NULL ORDER BY s.id",
        );
        let (w, c) = row.split_once(' ').expect("two ids");
        (w.to_owned(), c.to_owned())
    };
    let before = months(&url);
    execute_sql(
        &url,
        &format!("UPDATE opportunities SET contract_id = NULL WHERE id = '{work}'"),
    );
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);
    assert_ne!(
        months(&url),
        before,
        "that work's attendance is under no contract now"
    );
    execute_sql(
        &url,
        &format!("UPDATE opportunities SET contract_id = '{contract}' WHERE id = '{work}'"),
    );
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);
    assert_eq!(months(&url), before, "and back again");

    let unclaimed =
        attended_session("AND NOT EXISTS (SELECT 1 FROM claim_lines l WHERE l.session_id = s.id)");
    let before = months(&url);
    try_execute_sql(
        &url,
        &format!("DELETE FROM sessions WHERE id = '{unclaimed}'"),
    )
    .expect("a session without claims can be removed");
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);
    assert_ne!(months(&url), before, "that session's attendance is gone");
    let removable = one_text(
        &url,
        "SELECT o.id AS t FROM opportunities o WHERE EXISTS (SELECT 1 FROM sessions s \
         JOIN attendance a ON a.session_id = s.id WHERE s.opportunity_id = o.id \
         AND a.experience <> 'none') \
         AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.opportunity_id = o.id) \
         AND NOT EXISTS (SELECT 1 FROM recognitions r WHERE r.opportunity_id = o.id) \
         AND NOT EXISTS (SELECT 1 FROM feedback_items f WHERE f.opportunity_id = o.id) \
         AND NOT EXISTS (SELECT 1 FROM evaluations e WHERE e.opportunity_id = o.id) \
         AND NOT EXISTS (SELECT 1 FROM claim_lines l JOIN sessions s ON s.id = l.session_id \
                         WHERE s.opportunity_id = o.id) ORDER BY o.id",
    );
    let before = months(&url);
    let removed = try_execute_sql(
        &url,
        &format!("DELETE FROM opportunities WHERE id = '{removable}'"),
    );
    assert_eq!(kept_counts_astray(&url), [0, 0, 0, 0, 0]);
    if crate::helpers::on_postgres() {
        // PostgreSQL removes the work's memberships before the attendance that names them, so
        // it refuses; the months it had already taken away come back with the statement.
        assert!(removed.is_err(), "{removed:?}");
        assert_eq!(months(&url), before, "nothing is half-removed");
    } else {
        assert!(removed.is_ok(), "{removed:?}");
        assert_ne!(months(&url), before, "that work's attendance is gone");
    }
}
