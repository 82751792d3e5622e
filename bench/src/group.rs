//! The directory scenario's group, seeded through the HTTP API as its users would make it: an
//! admin creates a provider, its staff advertise a piece of work and register the people, and
//! each person applies (first come, no limit: accepted) and consents to share their email and
//! phone with the work. Their postal address is sealed too but not shared.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::http::post_json;
use crate::procs::{in_parallel, log};
use crate::server::Server;

/// What a member's directory entry must show the staff: the email and the phone (as the
/// service writes it, E.164), decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub email: String,
    pub phone: String,
}

pub struct Group {
    /// The piece of work's id.
    pub work: String,
    /// A token of the provider's staff who run the work.
    pub staff_token: String,
    /// By participant id.
    pub members: HashMap<String, Expected>,
}

fn expected(i: usize) -> Expected {
    Expected {
        email: format!("member{i:03}@example.org"),
        phone: format!("+447700900{i:03}"),
    }
}

/// The registration body of the i-th person (i < 1000: Ofcom's drama range of numbers).
fn person(i: usize) -> Value {
    json!({
        "name": format!("Member {i:03}"),
        "roles": ["lived_experience"],
        "contact_details": {
            "email": expected(i).email,
            "phone": format!("07700 900{i:03}"),
            "postal_address": { "lines": [format!("{} Station Road", i + 1), "London"], "postcode": "SW1A 1AA" }
        }
    })
}

pub fn id_of(v: &Value, what: &str) -> Result<String> {
    v["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("{what}: no id in {v}"))
}

/// One person: registered by the staff, applies, consents to email and phone. Five requests
/// and one `coproduce token`.
fn member(srv: &Server, staff: &str, work: &str, i: usize) -> Result<String> {
    let port = srv.port;
    let id = id_of(
        &post_json(port, staff, "/api/v1/participants", &person(i), 201)?,
        "participant",
    )?;
    let token = srv.mint(&[
        "--role",
        "participant",
        "--participant",
        &id,
        "--sub",
        &format!("bench-member-{i}"),
    ])?;
    let joined = post_json(
        port,
        &token,
        &format!("/api/v1/opportunities/{work}/members"),
        &json!({}),
        201,
    )?;
    if joined["status"] != "accepted" {
        bail!("member {i} was not accepted: {joined}");
    }
    for field in ["email", "phone"] {
        post_json(
            port,
            &token,
            &format!("/api/v1/participants/{id}/consents"),
            &json!({ "field": field, "audience_kind": "opportunity", "audience_id": work, "granted": true }),
            201,
        )?;
    }
    Ok(id)
}

/// Seeds the group with `members` people, `workers` at a time.
pub fn seed(srv: &Server, members: usize, workers: usize) -> Result<Group> {
    let start = Instant::now();
    let port = srv.port;
    let org = id_of(
        &post_json(
            port,
            &srv.token,
            "/api/v1/organisations",
            &json!({ "name": "Bench provider", "kinds": ["provider"] }),
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
            &json!({ "title": "Panel", "description": "Help us plan.", "kind": "workshop",
                     "claimed_mode": "involvement", "format": "hybrid" }),
            201,
        )?,
        "opportunity",
    )?;
    post_json(
        port,
        &staff,
        &format!("/api/v1/opportunities/{work}/advertise"),
        &json!({}),
        200,
    )?;

    let ids = in_parallel(members, workers, |i| {
        member(srv, &staff, &work, i).with_context(|| format!("seeding member {i}"))
    })?;
    let by_id: HashMap<String, Expected> = ids
        .into_iter()
        .enumerate()
        .map(|(i, id)| (id, expected(i)))
        .collect();
    if by_id.len() != members {
        bail!("seeded {} members, expected {members}", by_id.len());
    }
    log(format!(
        "seeded through the API: 1 provider, 1 advertised piece of work, {members} members with contact details and 2 consents each ({} requests, {workers} at a time) in {:.1} s",
        3 + 4 * members,
        start.elapsed().as_secs_f64()
    ));
    Ok(Group {
        work,
        staff_token: staff,
        members: by_id,
    })
}

/// What one directory answer held.
#[derive(Debug, PartialEq, Eq)]
pub struct Sample {
    pub items: usize,
    pub emails: usize,
    pub phones: usize,
}

/// Checks a directory answer against the group: every member listed once, with the email and
/// phone they consented to share decrypted, and their unshared postal address left out.
pub fn check(answer: &Value, members: &HashMap<String, Expected>) -> Result<Sample> {
    let items = answer["items"]
        .as_array()
        .with_context(|| format!("no items in the directory: {answer}"))?;
    let mut seen = std::collections::HashSet::new();
    let (mut emails, mut phones) = (0, 0);
    for item in items {
        let pid = item["participant_id"].as_str().unwrap_or_default();
        let Some(want) = members.get(pid) else {
            bail!("the directory lists someone not seeded: {item}");
        };
        if !seen.insert(pid) {
            bail!("the directory lists {pid} twice");
        }
        if !item["postal_address"].is_null() {
            bail!("a postal address is shown without consent: {item}");
        }
        emails += usize::from(item["email"] == want.email.as_str());
        phones += usize::from(item["phone"] == want.phone.as_str());
    }
    let sample = Sample {
        items: items.len(),
        emails,
        phones,
    };
    let n = members.len();
    if sample
        != (Sample {
            items: n,
            emails: n,
            phones: n,
        })
    {
        bail!("the directory should list {n} members with their email and phone decrypted, it held {sample:?}");
    }
    if !answer["next_cursor"].is_null() {
        bail!("the directory of {n} was not on one page");
    }
    Ok(sample)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> HashMap<String, Expected> {
        (0..2).map(|i| (format!("p{i}"), expected(i))).collect()
    }

    fn entry(i: usize, email: &str) -> Value {
        json!({ "membership_id": format!("m{i}"), "participant_id": format!("p{i}"), "name": "x",
                "role": "member", "email": email, "phone": expected(i).phone, "postal_address": null })
    }

    #[test]
    fn a_full_decrypted_directory_passes() {
        let answer = json!({ "items": [entry(0, "member000@example.org"), entry(1, "member001@example.org")], "next_cursor": null });
        let s = check(&answer, &group()).unwrap();
        assert_eq!((s.items, s.emails, s.phones), (2, 2, 2));
    }

    #[test]
    fn missing_members_hidden_emails_and_unshared_addresses_fail() {
        let short = json!({ "items": [entry(0, "member000@example.org")], "next_cursor": null });
        assert!(check(&short, &group()).is_err());
        let mut hidden = json!({ "items": [entry(0, "member000@example.org"), entry(1, "x")], "next_cursor": null });
        assert!(check(&hidden, &group()).is_err());
        hidden["items"][1]["email"] = Value::Null;
        assert!(check(&hidden, &group()).is_err());
        let mut address = json!({ "items": [entry(0, "member000@example.org"), entry(1, "member001@example.org")], "next_cursor": null });
        address["items"][0]["postal_address"] = json!({ "lines": ["1"], "postcode": "SW1A 1AA" });
        assert!(check(&address, &group()).is_err());
        let twice = json!({ "items": [entry(0, "member000@example.org"), entry(0, "member000@example.org")], "next_cursor": null });
        assert!(check(&twice, &group()).is_err());
        assert!(check(&json!({ "error": "x" }), &group()).is_err());
    }

    #[test]
    fn people_get_distinct_contact_details() {
        assert_eq!(expected(7).email, "member007@example.org");
        assert_eq!(expected(199).phone, "+447700900199");
        assert_eq!(person(7)["contact_details"]["phone"], "07700 900007");
    }
}
