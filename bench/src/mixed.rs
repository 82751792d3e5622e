//! A mixed workload on PostgreSQL, as a day of use looks: people browse advertised work, staff
//! post sessions with their attendance, people make and submit claims that staff approve, staff
//! read a group's directory (contact details decrypted) and the provider pulls its evidence
//! report, all at once in one paced wrk script. It looks for the highest rate the machine holds
//! with p99 under 100 ms and no error, on one instance and then on two sharing the database
//! (a wrk per instance, each taking half the rate), and runs --duration seconds at that rate.

use std::path::Path;

use anyhow::{bail, Result};
use serde_json::json;

use crate::group::{self, id_of};
use crate::http::{self, post_json};
use crate::payroll::{self, Payroll};
use crate::pg::BenchDb;
use crate::procs::{log, random_secret, CpuMonitor, RssSampler, WorkDir};
use crate::server::{self, Server, ServerConfig};
use crate::wrk::{self, lua_bearer, lua_str, Load, Script, Wrk};
use crate::{header, verdict, Backend, Opts};

pub const TARGET_P99_MS: f64 = 100.0;
/// A run holds a rate when it reaches this share of it.
pub const RATE_SHARE: f64 = 0.98;
/// Seconds of each probe while looking for the highest rate.
pub const PROBE_SECS: u64 = 10;
/// Each probe's rate over the last one that held, until one does not.
pub const STEP: f64 = 1.5;
pub const FIRST_RATE: f64 = 100.0;
/// Probes at most, growing and then halving the gap.
pub const MAX_PROBES: usize = 11;
/// Long runs at most, each lower than the last.
pub const MAX_RUNS: usize = 4;
/// A long run that does not hold is made again at this share of its rate.
pub const RUN_STEP: f64 = 0.85;
/// Members of the group whose directory is read (one page).
pub const MEMBERS: usize = 50;
/// People who take part in the paid work and claim for it.
pub const PEOPLE: usize = 20;
/// Advertised pieces of work besides the group's, for browsing.
pub const ADVERTS: usize = 40;
/// Sessions in the reported provider's year, posted before the load.
pub const YEAR_SESSIONS: usize = 300;
/// Attendance rows posted with each session.
pub const ATTENDING: usize = 5;
/// Twenty sends in turn, by what they do.
pub const MIX: &str = "browse claim session browse directory claim browse session claim browse \
    directory report browse claim session browse directory claim browse browse";

fn mix() -> impl Iterator<Item = &'static str> {
    MIX.split_whitespace()
}

fn in_mix(kind: &str) -> usize {
    mix().filter(|k| *k == kind).count()
}
pub const REPORT_PERIOD: (&str, &str) = ("2026-01-01", "2026-12-31");

/// What the script needs: paths and the tokens of each kind of caller.
pub struct World {
    pub browse_token: String,
    pub directory: String,
    pub directory_token: String,
    /// The provider whose staff post the sessions of the load (not the reported one, whose
    /// year is set before the load).
    pub posting: Payroll,
    pub report: String,
    pub payroll: Payroll,
}

/// wrk's Lua: each send takes the next kind in `MIX`. A claim is three requests by turns: the
/// person makes a draft; once its answer is back the person submits it; once that is back the
/// staff approve it (the ids read from the answers). A session carries `ATTENDING` people's
/// attendance. Counts what was sent and what came back by name.
pub fn script(w: &World) -> String {
    let people: Vec<String> = w
        .payroll
        .people
        .iter()
        .map(|(id, t)| format!("{{ {}, {} }}", lua_str(id), lua_bearer(t)))
        .collect();
    let attendees: Vec<String> = w.posting.people.iter().map(|(id, _)| lua_str(id)).collect();
    let mix: Vec<String> = mix().map(lua_str).collect();
    format!(
        r#"
local people = {{ {people} }}
local attendees = {{ {attendees} }}
local mix = {{ {mix} }}
local browse_h = {{ ["Authorization"] = {browse} }}
local directory_h = {{ ["Authorization"] = {directory_token} }}
local staff_h = {{ ["Authorization"] = {staff}, ["Content-Type"] = "application/json" }}
local posting_h = {{ ["Authorization"] = {posting}, ["Content-Type"] = "application/json" }}
local browse_path, directory_path, report_path = "/api/v1/opportunities?limit=20", {directory}, {report}
local sessions_path = "/api/v1/opportunities/" .. {work} .. "/sessions"
local claims_path, draft_body = "/api/v1/claims", {draft}
local person_h, sent = {{}}, 0
local submits, approves = {{ first = 1, last = 0 }}, {{ first = 1, last = 0 }}
counts = {{}}
local function count(k) counts[k] = (counts[k] or 0) + 1 end
local function push(q, v) q.last = q.last + 1 q[q.last] = v end
local function pop(q)
  if q.first > q.last then return nil end
  local v = q[q.first]
  q[q.first] = nil
  q.first = q.first + 1
  return v
end
for _, p in ipairs(people) do
  person_h[p[1]] = {{ ["Authorization"] = p[2], ["Content-Type"] = "application/json" }}
end
-- Sessions fall from February, after the people joined (payroll's setup), to November.
local function session_body(n)
  local rows = {{}}
  for i = 0, {attending} - 1 do
    rows[#rows + 1] = string.format('{{"participant_id":"%s","minutes":120,"participation":"participated"}}',
      attendees[(n + i) % #attendees + 1])
  end
  return string.format('{{"starts_at":"2026-%02d-%02dT%02d:%02d:00Z","duration_minutes":120,' ..
    '"format":"in_person","lived_experience_agenda_slot":%s,"attendance":[%s]}}',
    2 + n % 10, 1 + n % 28, 9 + n % 8, n % 60, tostring(n % 2 == 0), table.concat(rows, ","))
end
function request()
  sent = sent + 1
  local kind = mix[(sent - 1) % #mix + 1]
  count("sent_" .. kind)
  if kind == "browse" then
    return wrk.format("GET", browse_path, browse_h)
  elseif kind == "directory" then
    return wrk.format("GET", directory_path, directory_h)
  elseif kind == "report" then
    return wrk.format("GET", report_path, staff_h)
  elseif kind == "session" then
    return wrk.format("POST", sessions_path, posting_h, session_body(sent + 7919 * (bench_thread or 1)))
  end
  local a = pop(approves)
  if a then
    count("approve_sent")
    return wrk.format("POST", "/api/v1/claims/" .. a .. "/approve", staff_h, "{{}}")
  end
  local s = pop(submits)
  if s then
    count("submit_sent")
    return wrk.format("POST", "/api/v1/claims/" .. s[1] .. "/submit", person_h[s[2]], "{{}}")
  end
  local p = people[sent % #people + 1]
  count("draft_sent")
  return wrk.format("POST", claims_path, person_h[p[1]], draft_body)
end
function response(status, headers, body)
  if status >= 300 then return end
  if body:sub(1, 10) == '{{"claim":{{' then
    local id = body:match('^{{"claim":{{"id":"([^"]+)"')
    if id == nil then count("unread") return end
    if body:find('"status":"submitted"', 1, true) then
      count("submitted")
      push(approves, id)
    elseif body:find('"status":"approved"', 1, true) then
      count("approved")
    else
      count("other_state")
    end
  elseif status == 201 and body:find('"status":"draft"', 1, true) then
    local id, person = body:match('^{{"id":"([^"]+)","participant_id":"([^"]+)"')
    if id == nil or person_h[person] == nil then count("unread") return end
    count("drafted")
    push(submits, {{ id, person }})
  end
end
"#,
        people = people.join(", "),
        mix = mix.join(", "),
        browse = lua_bearer(&w.browse_token),
        directory_token = lua_bearer(&w.directory_token),
        staff = lua_bearer(&w.payroll.staff_token),
        directory = lua_str(&w.directory),
        report = lua_str(&w.report),
        attendees = attendees.join(", "),
        posting = lua_bearer(&w.posting.staff_token),
        work = lua_str(&w.posting.work),
        draft = lua_str(&payroll::draft_body(&w.payroll.work, &w.payroll.session).to_string()),
        attending = ATTENDING,
    )
}

/// Every answer a 200 or 201, and every claim answer placed.
pub fn clean(l: &Load) -> bool {
    l.statuses.iter().all(|(s, _)| *s == 200 || *s == 201)
        && l.statuses.iter().map(|(_, n)| n).sum::<u64>() > 0
        && l.non2xx == 0
        && l.socket_errors == 0
        && l.count("unread") == 0
        && l.count("other_state") == 0
}

pub fn holds(l: &Load, rate: f64) -> bool {
    clean(l) && l.p99_ms < TARGET_P99_MS && l.rps >= RATE_SHARE * rate
}

/// Two wrk runs side by side as one: counts added up, the worse of each latency (the
/// percentiles of the whole cannot be worse than the worse of the parts' by more than the
/// parts differ; reporting the worse is the cautious reading).
pub fn combine(parts: &[Load]) -> Load {
    let mut all = Load::default();
    for l in parts {
        all.rps += l.rps;
        all.requests += l.requests;
        all.p50_ms = all.p50_ms.max(l.p50_ms);
        all.p90_ms = all.p90_ms.max(l.p90_ms);
        all.p99_ms = all.p99_ms.max(l.p99_ms);
        all.max_ms = all.max_ms.max(l.max_ms);
        all.socket_errors += l.socket_errors;
        all.non2xx += l.non2xx;
        all.other_cpu = all.other_cpu.max(l.other_cpu);
        for (s, n) in &l.statuses {
            match all.statuses.iter_mut().find(|(k, _)| k == s) {
                Some((_, m)) => *m += n,
                None => all.statuses.push((*s, *n)),
            }
        }
        for (k, n) in &l.counts {
            match all.counts.iter_mut().find(|(c, _)| c == k) {
                Some((_, m)) => *m += n,
                None => all.counts.push((k.clone(), *n)),
            }
        }
    }
    all.statuses.sort();
    all.counts.sort();
    all
}

/// The rates tried after `held` held and `failed` did not (None: none failed yet): grow by
/// `STEP` until one fails, then halve the gap until it is within 5% or `MAX_PROBES` were made.
pub fn next_rate(held: Option<f64>, failed: Option<f64>, tried: usize) -> Option<f64> {
    match (held, failed) {
        (None, None) => Some(FIRST_RATE),
        (Some(h), None) => Some(h * STEP),
        (None, Some(f)) if f > 10.0 && tried < 6 => Some(f / 2.0),
        (Some(h), Some(f)) if tried < MAX_PROBES && f - h > h * 0.05 => {
            Some(((h + f) / 2.0).round())
        }
        _ => None,
    }
}

/// The next long run's rate after one at `rate` (the `runs`-th): none once one holds or after
/// `MAX_RUNS`, else `RUN_STEP` lower.
pub fn lower_rate(rate: f64, held: bool, runs: usize) -> Option<f64> {
    (!held && runs < MAX_RUNS).then(|| (rate * RUN_STEP).round())
}

/// The world, made through the API as its users would.
fn seed(srv: &Server) -> Result<World> {
    let g = group::seed(srv, MEMBERS, 8)?;
    for i in 0..ADVERTS {
        let id = id_of(
            &post_json(
                srv.port,
                &g.staff_token,
                "/api/v1/opportunities",
                &json!({ "title": format!("Advertised work {i}"), "description": "Come and help us plan.",
                         "kind": "workshop", "claimed_mode": "involvement", "format": "virtual" }),
                201,
            )?,
            "opportunity",
        )?;
        post_json(
            srv.port,
            &g.staff_token,
            &format!("/api/v1/opportunities/{id}/advertise"),
            &json!({}),
            200,
        )?;
    }
    let p = payroll::setup(srv, PEOPLE)?;
    // The reported provider's year before the load: a session most days, each with
    // `ATTENDING` of its people (the session payroll's setup made has all of them).
    for n in 0..YEAR_SESSIONS {
        let attendance: Vec<_> = (0..ATTENDING)
            .map(|i| json!({ "participant_id": p.people[(n + i) % PEOPLE].0, "minutes": 120, "participation": "participated" }))
            .collect();
        post_json(
            srv.port,
            &p.staff_token,
            &format!("/api/v1/opportunities/{}/sessions", p.work),
            &json!({ "starts_at": format!("2026-{:02}-{:02}T{:02}:00:00Z", 2 + n % 10, 1 + n % 28, 9 + n % 8),
                     "duration_minutes": 120, "format": "in_person",
                     "lived_experience_agenda_slot": n % 2 == 0, "attendance": attendance }),
            201,
        )?;
    }
    log(format!(
        "seeded the reported provider: {PEOPLE} people, {YEAR_SESSIONS} sessions with {ATTENDING} attending each"
    ));
    let posting = payroll::setup(srv, PEOPLE)?;
    // The script reads a draft's id and person from the head of its answer.
    let (person, token) = &p.people[0];
    let raw = http::request(
        "POST",
        srv.port,
        "/api/v1/claims",
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("Content-Type", "application/json"),
        ],
        Some(&payroll::draft_body(&p.work, &p.session).to_string()),
    )?;
    let head = raw.body.split(',').take(2).collect::<Vec<_>>().join(",");
    if raw.status != 201 || !head.starts_with("{\"id\":\"") || !head.contains(person.as_str()) {
        bail!(
            "a draft's answer does not start with its id and person: {}",
            raw.body
        );
    }
    let org = &p.org;
    Ok(World {
        browse_token: p.people[1].1.clone(),
        directory: format!("/api/v1/opportunities/{}/directory?limit={MEMBERS}", g.work),
        directory_token: g.staff_token,
        posting,
        report: format!(
            "/api/v1/reports/evidence?provider={org}&from={}&to={}",
            REPORT_PERIOD.0, REPORT_PERIOD.1
        ),
        payroll: p,
    })
}

/// One paced load over the servers, `rate` in all, each server its share.
fn load(
    opts: &Opts,
    dir: &Path,
    name: &str,
    servers: &[Server],
    lua: &str,
    rate: f64,
    secs: u64,
) -> Result<Load> {
    let threads = if servers.len() == 1 { opts.threads } else { 1 };
    let share = rate / servers.len() as f64;
    let s = Script {
        method: "GET",
        custom: Some(format!("{lua}{}", wrk::paced(share, threads))),
        tally: true,
        ..Script::default()
    };
    let parts: Vec<Result<Load>> = std::thread::scope(|scope| {
        let handles: Vec<_> = servers
            .iter()
            .enumerate()
            .map(|(i, srv)| {
                let s = &s;
                scope.spawn(move || {
                    Wrk {
                        threads,
                        connections: opts.paced_connections.max(threads),
                        duration: secs,
                        warmup: 0,
                        quiet: i == 0,
                    }
                    .run(
                        dir,
                        &format!("{name}-{}", i + 1),
                        &format!("http://127.0.0.1:{}", srv.port),
                        s,
                        &[],
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| bail!("a wrk thread panicked")))
            .collect()
    });
    Ok(combine(&parts.into_iter().collect::<Result<Vec<_>>>()?))
}

pub struct Phase {
    pub instances: usize,
    pub probes: Vec<(f64, Load)>,
    /// The long runs in the order made: each lower than the last, until one holds.
    pub runs: Vec<(f64, Load)>,
    pub rss_mb: Vec<f64>,
}

fn phase(opts: &Opts, dir: &Path, servers: &[Server], lua: &str) -> Result<Phase> {
    let n = servers.len();
    let rss: Vec<RssSampler> = servers
        .iter()
        .map(|s| RssSampler::start(s.svc.pid()))
        .collect();
    let (mut held, mut failed, mut probes) = (None::<f64>, None::<f64>, Vec::new());
    while let Some(rate) = next_rate(held, failed, probes.len()) {
        let l = load(
            opts,
            dir,
            &format!("probe-{n}x-{rate:.0}"),
            servers,
            lua,
            rate,
            PROBE_SECS,
        )?;
        let ok = holds(&l, rate);
        log(format!(
            "{n} instance(s) at {rate:.0}/s: {}",
            if ok { "holds" } else { "does not hold" }
        ));
        if ok {
            held = Some(rate);
        } else {
            failed = Some(rate);
        }
        probes.push((rate, l));
    }
    // The long run at the highest rate a probe held; when the long run does not hold (the data
    // grows, and a minute finds what ten seconds miss), again at a lower rate.
    let mut runs = Vec::new();
    let mut rate = held;
    while let Some(r) = rate {
        let l = load(
            opts,
            dir,
            &format!("run-{n}x-{r:.0}"),
            servers,
            lua,
            r,
            opts.duration,
        )?;
        let ok = holds(&l, r);
        log(format!(
            "{n} instance(s) for {} s at {r:.0}/s: {}",
            opts.duration,
            if ok { "holds" } else { "does not hold" }
        ));
        runs.push((r, l));
        rate = lower_rate(r, ok, runs.len());
    }
    Ok(Phase {
        instances: n,
        probes,
        runs,
        rss_mb: rss.into_iter().map(RssSampler::finish).collect(),
    })
}

pub fn run(opts: &Opts) -> Result<String> {
    if opts.backend != Backend::Postgres {
        bail!("the mixed scenario runs on PostgreSQL (two instances share one database)");
    }
    let mut work = WorkDir::new("coproduce-bench-mixed")?;
    let dir = work.path.clone();
    let bin = server::binary(opts.server_bin.as_deref(), opts.build_jobs)?;
    let db = BenchDb::create(&opts.pg_admin_url)?;
    // Both instances verify the tokens either mints.
    let mut env = opts.server_env.clone();
    env.push(("COPRODUCE_JWT_SECRET".into(), random_secret()?));
    let data_dir = dir.join("data");
    let cfg = ServerConfig::new(opts, &bin, &db.url, &data_dir, &env);
    let mut servers = vec![Server::start(&cfg, "coproduce-1", &dir)?];
    let world = seed(&servers[0])?;
    let lua = script(&world);
    let cpu = CpuMonitor::start();
    let one = phase(opts, &dir, &servers, &lua)?;
    servers.push(Server::start(&cfg, "coproduce-2", &dir)?);
    let two = phase(opts, &dir, &servers, &lua)?;
    let others = cpu.finish();
    for s in &mut servers {
        if !s.svc.alive() {
            bail!("{} died under the load:\n{}", s.svc.name, s.svc.tail());
        }
        s.svc.stop();
    }
    drop(db);
    work.keep = false;
    Ok(report(opts, &[one, two], others))
}

fn row(label: &str, rate: f64, l: &Load) -> String {
    format!(
        "| {label} | {rate:.0} | {:.0} ({:.2}) | {} | {:.1} | {:.1} | **{:.1}** | {:.1} | {} | {} |\n",
        l.rps,
        l.rps / rate,
        l.requests,
        l.p50_ms,
        l.p90_ms,
        l.p99_ms,
        l.max_ms,
        l.statuses(),
        if holds(l, rate) { "holds" } else { "does not hold" },
    )
}

fn report(opts: &Opts, phases: &[Phase], others: f64) -> String {
    // The paced connections are the ones used; two instances get a one-thread wrk each.
    let shown = Opts {
        connections: opts.paced_connections,
        ..opts.clone()
    };
    let mut r = header(
        "Mixed load: browse, sessions with attendance, claims, directory, evidence report",
        &shown,
        &format!(", paced, per instance (two instances: -t1 each); probes of {PROBE_SECS} s"),
    );
    r.push_str(&format!(
        "\nThe mix, in turns of {}: {} browse advertised work (a participant, 20 a page), {} directory reads ({MEMBERS} members, contact details decrypted), {} sessions posted with {ATTENDING} people's attendance, {} claim steps (a person drafts, then submits; the staff approve), {} evidence report of the provider whose claims these are ({} to {}; its year holds {YEAR_SESSIONS} sessions with {ATTENDING} people each, posted before the load, and the claims of the load). The sessions of the load are posted by another provider, so that the report stays the size of a busy provider's year rather than growing by a hundred sessions a second (the report over a provider of 100,000 sessions is the evidence scenario's). The data grows as the run goes: the two-instance runs start where the one-instance runs ended. Two instances share one PostgreSQL, each driven by a wrk of its own at half the rate; their latencies are the worse of the two wrks. The rate is found by probes of {PROBE_SECS} s (from {FIRST_RATE:.0}/s, x{STEP} until one misses, then halving the gap); the long run is made at the highest rate a probe held and, when it misses, again at {RUN_STEP} of its rate ({MAX_RUNS} runs at most). Other processes took {others:.0}% of the machine on average (PostgreSQL included).\n\n",
        mix().count(),
        in_mix("browse"),
        in_mix("directory"),
        in_mix("session"),
        in_mix("claim"),
        in_mix("report"),
        REPORT_PERIOD.0,
        REPORT_PERIOD.1,
    ));
    r.push_str("| run | rate asked /s | answered /s (share) | requests | p50 ms | p90 ms | p99 ms | max ms | answers | verdict |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for p in phases {
        for (rate, l) in &p.probes {
            r.push_str(&row(
                &format!("{} instance(s), probe {PROBE_SECS} s", p.instances),
                *rate,
                l,
            ));
        }
        for (rate, l) in &p.runs {
            r.push_str(&row(
                &format!("**{} instance(s), {} s**", p.instances, opts.duration),
                *rate,
                l,
            ));
        }
    }
    r.push_str("\n| instances | highest rate held | p99 under 100 ms, no error, for the whole run | claims drafted / submitted / approved | sessions posted | reports | resident memory per instance (peak) |\n|---|---|---|---|---|---|---|\n");
    for p in phases {
        let (rate, ok, claims, sessions, reports) = match p.runs.last() {
            Some(&(rate, ref l)) => (
                format!("{rate:.0}/s"),
                verdict(holds(l, rate)),
                format!(
                    "{} / {} / {}",
                    l.count("drafted"),
                    l.count("submitted"),
                    l.count("approved")
                ),
                l.count("sent_session").to_string(),
                l.count("sent_report").to_string(),
            ),
            _ => (
                "none".into(),
                verdict(false),
                "-".into(),
                "-".into(),
                "-".into(),
            ),
        };
        let rss: Vec<String> = p.rss_mb.iter().map(|m| format!("{m:.0} MB")).collect();
        r.push_str(&format!(
            "| {} | {rate} | {ok} | {claims} | {sessions} | {reports} | {} |\n",
            p.instances,
            rss.join(", ")
        ));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_twenty_sends_of_five_kinds() {
        assert_eq!(mix().count(), 20);
        let kinds = ["browse", "directory", "session", "claim", "report"];
        assert_eq!(kinds.iter().map(|k| in_mix(k)).sum::<usize>(), 20);
        assert_eq!(
            (in_mix("browse"), in_mix("claim"), in_mix("report")),
            (8, 5, 1)
        );
    }

    #[test]
    fn the_search_grows_then_halves_the_gap() {
        assert_eq!(next_rate(None, None, 0), Some(FIRST_RATE));
        assert_eq!(next_rate(Some(100.0), None, 1), Some(150.0));
        assert_eq!(next_rate(Some(150.0), Some(225.0), 2), Some(188.0));
        assert_eq!(next_rate(None, Some(100.0), 1), Some(50.0));
        assert_eq!(next_rate(Some(200.0), Some(205.0), 3), None);
        assert_eq!(next_rate(Some(1139.0), Some(1709.0), 8), Some(1424.0));
        assert_eq!(next_rate(Some(100.0), Some(200.0), MAX_PROBES), None);
    }

    #[test]
    fn a_long_run_that_misses_is_made_again_lower_a_few_times_at_most() {
        assert_eq!(lower_rate(1000.0, true, 1), None);
        assert_eq!(lower_rate(1000.0, false, 1), Some(850.0));
        assert_eq!(lower_rate(850.0, false, 2), Some(723.0));
        assert_eq!(lower_rate(723.0, false, 3), Some(615.0));
        assert_eq!(lower_rate(615.0, false, MAX_RUNS), None);
    }

    #[test]
    fn two_loads_add_up_and_keep_the_worse_latency() {
        let a = Load {
            rps: 100.0,
            requests: 1000,
            p99_ms: 20.0,
            statuses: vec![(200, 900), (201, 100)],
            counts: vec![("approved".into(), 10)],
            ..Load::default()
        };
        let b = Load {
            rps: 90.0,
            requests: 900,
            p99_ms: 30.0,
            statuses: vec![(200, 900)],
            counts: vec![("approved".into(), 5), ("drafted".into(), 1)],
            ..Load::default()
        };
        let c = combine(&[a, b]);
        assert_eq!((c.rps, c.requests, c.p99_ms), (190.0, 1900, 30.0));
        assert_eq!(c.statuses, vec![(200, 1800), (201, 100)]);
        assert_eq!((c.count("approved"), c.count("drafted")), (15, 1));
        assert!(clean(&c));
        assert!(holds(&c, 190.0));
        assert!(!holds(&c, 200.0), "answered under 98% of the rate asked");
        let mut bad = c.clone();
        bad.statuses.push((409, 1));
        assert!(!clean(&bad));
        let mut slow = c;
        slow.p99_ms = 100.0;
        assert!(!holds(&slow, 190.0));
    }
}
