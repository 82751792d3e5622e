//! The claims scenario's payroll, made through the HTTP API as its users would: an admin
//! creates a provider (which gets the default payment policy), its staff register the people,
//! create a paid piece of work, record each person as a member who took part, and post a
//! session with everyone's attendance; each person then makes draft claims for it (the guide's
//! example: 150 minutes and 20 miles, £34). And the check that two staff pressing pay together
//! pay a claim once.

use std::sync::Barrier;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::group::id_of;
use crate::http::{self, post_json};
use crate::procs::{in_parallel, log};
use crate::server::Server;

pub struct Payroll {
    pub org: String,
    /// A token of the provider's staff (role provider, claim org).
    pub staff_token: String,
    pub work: String,
    pub session: String,
    /// (participant id, token) of each person.
    pub people: Vec<(String, String)>,
}

/// A draft claim: its id and the person (an index into `Payroll::people`) whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub id: String,
    pub person: usize,
}

/// The guide's example: 2.5 hours at £10 an hour and 20 miles at 45p, £34.
pub const DRAFT_TOTAL_PENCE: i64 = 3400;

pub fn draft_body(work: &str, session: &str) -> Value {
    json!({
        "opportunity_id": work,
        "lines": [
            { "kind": "participation", "session_id": session, "minutes": 150 },
            { "kind": "mileage", "session_id": session, "miles_tenths": 200 }
        ]
    })
}

/// The provider, its paid work, `people` people who took part in one session of it.
pub fn setup(srv: &Server, people: usize) -> Result<Payroll> {
    let port = srv.port;
    let org = id_of(
        &post_json(
            port,
            &srv.token,
            "/api/v1/organisations",
            &json!({ "name": "Bench payroll provider", "kinds": ["provider"] }),
            201,
        )?,
        "organisation",
    )?;
    let staff = srv.mint(&["--role", "provider", "--org", &org, "--sub", "bench-staff"])?;
    let work = id_of(
        &post_json(
            port,
            &staff,
            "/api/v1/opportunities",
            &json!({ "title": "Peer panel", "description": "Help us plan a new drop-in cafe.",
                     "kind": "workshop", "claimed_mode": "involvement", "format": "hybrid",
                     "paid": true }),
            201,
        )?,
        "opportunity",
    )?;
    let mut folk = Vec::with_capacity(people);
    for i in 0..people {
        let id = id_of(
            &post_json(
                port,
                &staff,
                "/api/v1/participants",
                &json!({ "name": format!("Claimant {i:02}"), "roles": ["lived_experience"] }),
                201,
            )?,
            "participant",
        )?;
        post_json(
            port,
            &staff,
            &format!("/api/v1/opportunities/{work}/members"),
            &json!({ "participant_id": id, "joined_at": "2026-02-01T09:00:00Z" }),
            201,
        )?;
        let token = srv.mint(&[
            "--role",
            "participant",
            "--participant",
            &id,
            "--sub",
            &format!("bench-claimant-{i}"),
        ])?;
        folk.push((id, token));
    }
    let attendance: Vec<Value> = folk
        .iter()
        .map(|(id, _)| json!({ "participant_id": id, "minutes": 150, "participation": "participated" }))
        .collect();
    let session = id_of(
        &post_json(
            port,
            &staff,
            &format!("/api/v1/opportunities/{work}/sessions"),
            &json!({ "starts_at": "2026-03-10T10:00:00Z", "duration_minutes": 180,
                     "format": "in_person", "lived_experience_agenda_slot": true,
                     "attendance": attendance }),
            201,
        )?,
        "session",
    )?;
    Ok(Payroll {
        org,
        staff_token: staff,
        work,
        session,
        people: folk,
    })
}

/// `count` draft claims, made by the people in turn, `workers` at a time; each checked to be a
/// draft of £34.
pub fn drafts(srv: &Server, p: &Payroll, count: usize, workers: usize) -> Result<Vec<Draft>> {
    let start = Instant::now();
    let body = draft_body(&p.work, &p.session);
    let made = in_parallel(count, workers, |i| {
        let person = i % p.people.len();
        let answer = post_json(srv.port, &p.people[person].1, "/api/v1/claims", &body, 201)
            .with_context(|| format!("draft claim {i}"))?;
        if answer["status"] != "draft" || answer["total"]["amount_pence"] != DRAFT_TOTAL_PENCE {
            bail!("draft claim {i} is not a £34 draft: {answer}");
        }
        Ok(Draft {
            id: id_of(&answer, "claim")?,
            person,
        })
    })?;
    let secs = start.elapsed().as_secs_f64();
    log(format!(
        "{count} draft claims made through the API ({workers} at a time) in {secs:.1} s, {:.0}/s",
        count as f64 / secs
    ));
    Ok(made)
}

/// What pressing pay twice at once did, over the claims.
#[derive(Debug, Default)]
pub struct PayCheck {
    pub claims: usize,
    /// One 200 and one 409: paid once, the other refused.
    pub once: usize,
    /// Two 200s: paid twice.
    pub twice: usize,
    /// Two 409s: not paid.
    pub never: usize,
    /// Any other pair of answers, the first few.
    pub other: Vec<String>,
    pub other_count: usize,
    pub secs: f64,
}

impl PayCheck {
    pub fn add(&mut self, id: &str, a: u16, b: u16) {
        self.claims += 1;
        match (a.min(b), a.max(b)) {
            (200, 409) => self.once += 1,
            (200, 200) => self.twice += 1,
            (409, 409) => self.never += 1,
            (x, y) => {
                self.other_count += 1;
                if self.other.len() < 5 {
                    self.other.push(format!("{id}: {x} and {y}"));
                }
            }
        }
    }

    pub fn clean(&self) -> bool {
        self.claims > 0 && self.once == self.claims
    }
}

fn pay(port: u16, bearer: &str, path: &str) -> Result<u16> {
    Ok(http::request(
        "POST",
        port,
        path,
        &[
            ("Authorization", bearer),
            ("Content-Type", "application/json"),
        ],
        Some(r#"{"method":"bank_transfer"}"#),
    )?
    .status)
}

/// Each claim paid by two clients at once (two threads, each with its own connection, released
/// together by a barrier), `pairs` claims at a time.
pub fn pay_twice(port: u16, staff_token: &str, ids: &[String], pairs: usize) -> Result<PayCheck> {
    let start = Instant::now();
    let bearer = format!("Bearer {staff_token}");
    let answers = in_parallel(ids.len(), pairs, |i| {
        let path = format!("/api/v1/claims/{}/pay", ids[i]);
        let together = Barrier::new(2);
        let press = || {
            together.wait();
            pay(port, &bearer, &path)
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(press);
            let b = s.spawn(press);
            (a.join(), b.join())
        });
        match (a, b) {
            (Ok(a), Ok(b)) => Ok((a?, b?)),
            _ => bail!("a paying thread panicked"),
        }
    })?;
    let mut check = PayCheck::default();
    for (id, (a, b)) in ids.iter().zip(answers) {
        check.add(id, a, b);
    }
    check.secs = start.elapsed().as_secs_f64();
    log(format!(
        "paid {} approved claims twice at once ({pairs} claims at a time) in {:.1} s: {} once, {} twice, {} never, {} otherwise",
        check.claims, check.secs, check.once, check.twice, check.never, check.other_count
    ));
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_of_answers_are_sorted_into_once_twice_and_never() {
        let mut c = PayCheck::default();
        c.add("a", 200, 409);
        c.add("b", 409, 200);
        assert!(c.clean());
        c.add("c", 200, 200);
        c.add("d", 409, 409);
        c.add("e", 500, 200);
        assert_eq!((c.claims, c.once, c.twice, c.never), (5, 2, 1, 1));
        assert_eq!(c.other, vec!["e: 200 and 500".to_owned()]);
        assert_eq!(c.other_count, 1);
        assert!(!c.clean());
        assert!(!PayCheck::default().clean());
    }

    #[test]
    fn a_draft_is_the_guide_s_example() {
        let b = draft_body("w", "s");
        assert_eq!(b["lines"][0]["minutes"], 150);
        assert_eq!(b["lines"][1]["miles_tenths"], 200);
        assert_eq!(b["lines"][1]["session_id"], "s");
        assert!(b.get("participant_id").is_none());
    }
}
