//! Expense claims on PostgreSQL: people submit their draft claims and the staff approve them at
//! a fixed rate (each claim two requests: submit by the person, then approve by the staff), the
//! approved claims are paid by two clients at once to show each is paid once, and the finance
//! team's overdue list is read over 200,000 claims, with its plan.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::claims_report::{self, Figures};
use crate::overdue;
use crate::payroll::{self, Draft, PayCheck};
use crate::pg::{self, BenchDb};
use crate::procs::{ensure_tool, loadavg, log, CpuMonitor, RssSampler, WorkDir};
use crate::server::{self, Server, ServerConfig};
use crate::wrk::{self, lua_bearer, Load, Script, Wrk};
use crate::{http, Backend, Opts};

pub const DEFAULT_RATE: f64 = 200.0;
pub const TARGET_RATE: f64 = 200.0;
pub const TARGET_P99_MS: f64 = 50.0;
pub const TARGET_LIST_MS: f64 = 50.0;
const SQL_CLAIMS: usize = 200_000;
/// The paced run must reach this share of --rate to count as "at" that rate.
pub const RATE_SHARE: f64 = 0.98;
/// People who make the claims (each a participant token of their own).
pub const PEOPLE: usize = 20;
/// Drafts made at a time through the API.
pub const SEED_WORKERS: usize = 8;
/// Claims paid twice at once at a time (two connections each).
pub const PAY_PAIRS: usize = 8;
/// Seconds of the warm-up before the paced run (on drafts of its own).
pub const WARMUP: u64 = 3;
/// Connections reading the overdue list.
pub const LIST_CONNECTIONS: u32 = 8;
/// The brief's check: no claim has two payments in its history.
pub const TWICE_PAID_SQL: &str = "SELECT claim_id, count(*) FROM claim_events WHERE action = 'paid' GROUP BY claim_id HAVING count(*) > 1";

/// Drafts for `secs` seconds at `rate` claims/s, with a tenth and 50 to spare.
pub fn drafts_for(rate: f64, secs: u64) -> usize {
    (rate * secs as f64 * 11.0 / 10.0).ceil() as usize + 50
}

/// The drafts file the script reads: one "claim-id person" a line, the person counted from 1
/// (Lua's first index).
pub fn drafts_file(drafts: &[Draft]) -> String {
    drafts
        .iter()
        .map(|d| format!("{} {}\n", d.id, d.person + 1))
        .collect()
}

/// wrk's Lua for the claims: each thread reads its share of the drafts file (`args[1]`: line n
/// goes to thread n mod threads). Whenever a connection may send, it approves the oldest claim
/// whose submission has been answered (as the staff), or else submits the next draft (as its
/// person): an approve goes out only after its submit came back 200 (the answer's claim id read
/// from the body), so the two alternate and every answer should be 200. It counts what it sent
/// and what came back in `counts`; when the drafts run out it asks for a claim that does not
/// exist (404), so a short supply shows as errors.
pub fn script(people_tokens: &[String], staff_token: &str, threads: u32) -> String {
    let people: Vec<String> = people_tokens.iter().map(|t| lua_bearer(t)).collect();
    format!(
        r#"
local people = {{ {people} }}
local staff, threads = {staff}, {threads}
local claims, next_claim, queue, first, last = {{}}, 1, {{}}, 1, 0
local staff_headers, people_headers = nil, {{}}
counts = {{}}
local function count(k) counts[k] = (counts[k] or 0) + 1 end
local function headers(bearer)
  return {{ ["Authorization"] = bearer, ["Content-Type"] = "application/json" }}
end
function init(args)
  local n, me = 0, (bench_thread or 1) - 1
  for line in io.lines(args[1]) do
    if n % threads == me then
      local id, person = line:match("^(%S+) (%d+)$")
      claims[#claims + 1] = {{ id, tonumber(person) }}
    end
    n = n + 1
  end
  staff_headers = headers(staff)
  for i, bearer in ipairs(people) do people_headers[i] = headers(bearer) end
end
function request()
  if first <= last then
    local id = queue[first]
    queue[first] = nil
    first = first + 1
    count("approve_sent")
    return wrk.format("POST", "/api/v1/claims/" .. id .. "/approve", staff_headers, "{{}}")
  end
  local c = claims[next_claim]
  if c == nil then
    count("exhausted")
    return wrk.format("POST", "/api/v1/claims/00000000-0000-0000-0000-000000000000/submit",
      staff_headers, "{{}}")
  end
  next_claim = next_claim + 1
  count("submit_sent")
  return wrk.format("POST", "/api/v1/claims/" .. c[1] .. "/submit", people_headers[c[2]], "{{}}")
end
function response(status, headers, body)
  if status ~= 200 then return end
  local id = body:match('^{{"claim":{{"id":"([^"]+)"')
  if id == nil then count("unread") return end
  if body:find('"status":"submitted"', 1, true) then
    count("submitted")
    last = last + 1
    queue[last] = id
  elseif body:find('"status":"approved"', 1, true) then
    count("approved")
  else
    count("other_state")
  end
end
"#,
        people = people.join(", "),
        staff = lua_bearer(staff_token),
    )
}

/// Every answer 200 and nothing the script could not place: no unread body, no claim in an
/// unexpected state, no shortage of drafts.
pub fn clean(l: &Load) -> bool {
    l.all_200()
        && l.count("unread") == 0
        && l.count("other_state") == 0
        && l.count("exhausted") == 0
}

/// The SQL to EXPLAIN: what the server was seen running when it is whole; the hand-written
/// mirror when nothing was seen or what was seen was cut short (pg_stat_activity keeps 1 kB).
pub fn chosen_sql(captured: Option<&str>, mirror: &str) -> (String, String) {
    match captured {
        Some(c) if c == mirror => (
            c.to_owned(),
            "read from pg_stat_activity while the server answered the list; the same as the hand-written mirror of db::claims::finance".to_owned(),
        ),
        Some(c) if overdue::matches_mirror(c, mirror) => (
            mirror.to_owned(),
            format!("the hand-written mirror of db::claims::finance; pg_stat_activity showed the server's SELECT cut at {} characters, the same up to there", c.len()),
        ),
        Some(c) if c.len() < 1000 => (
            c.to_owned(),
            "read from pg_stat_activity while the server answered the list (it differs from the hand-written mirror, which the program should follow)".to_owned(),
        ),
        Some(c) => (
            mirror.to_owned(),
            format!("the hand-written mirror of db::claims::finance; **pg_stat_activity showed a different SELECT** (cut at {} characters): {c}", c.len()),
        ),
        None => (
            mirror.to_owned(),
            "the hand-written mirror of db::claims::finance (the server's SELECT was not seen in pg_stat_activity)".to_owned(),
        ),
    }
}

fn write_drafts(dir: &Path, name: &str, drafts: &[Draft]) -> Result<String> {
    let path = dir.join(name);
    std::fs::write(&path, drafts_file(drafts))?;
    Ok(path.display().to_string())
}

fn count_of(url: &str, sql: &str) -> Result<u64> {
    pg::psql(url, sql)?
        .trim()
        .parse()
        .with_context(|| format!("not a count: {sql}"))
}

pub fn run(opts: &Opts) -> Result<String> {
    if opts.backend != Backend::Postgres {
        bail!("the claims scenario runs on PostgreSQL only (the overdue list's target is PostgreSQL's)");
    }
    let rate = opts.rate.unwrap_or(DEFAULT_RATE);
    if rate <= 0.0 || opts.paced_connections == 0 {
        bail!("--rate and --paced-connections must be above 0");
    }
    ensure_tool("psql", &["postgresql-client"])?;
    let mut work = WorkDir::new("coproduce-bench-claims")?;
    let dir = work.path.clone();
    let bin = server::binary(opts.server_bin.as_deref(), opts.build_jobs)?;
    let load_before = loadavg();

    let db = BenchDb::create(&opts.pg_admin_url)?;
    let data_dir = dir.join("data");
    let cfg = ServerConfig::new(opts, &bin, &db.url, &data_dir, &opts.server_env);
    let mut srv = Server::start(&cfg, "coproduce", &dir)?;

    // The payroll and the drafts, through the API.
    let p = payroll::setup(&srv, PEOPLE)?;
    let (warm_n, run_n) = (drafts_for(rate, WARMUP), drafts_for(rate, opts.duration));
    let seed_cpu = CpuMonitor::start();
    let seed_start = Instant::now();
    let drafts = payroll::drafts(&srv, &p, warm_n + run_n, SEED_WORKERS)?;
    let seed_secs = seed_start.elapsed().as_secs_f64();
    let seed_other = seed_cpu.finish();
    let warm_file = write_drafts(&dir, "drafts-warmup.txt", &drafts[..warm_n])?;
    let run_file = write_drafts(&dir, "drafts-run.txt", &drafts[warm_n..])?;
    pg::psql(&db.url, "VACUUM ANALYZE")?;

    // 1. Submit and approve at the rate.
    let rss = RssSampler::start(srv.svc.pid());
    let tokens: Vec<String> = p.people.iter().map(|(_, t)| t.clone()).collect();
    let paced_threads = opts.threads.min(opts.paced_connections);
    let url = format!("http://127.0.0.1:{}/api/v1/claims", srv.port);
    let lua = script(&tokens, &p.staff_token, paced_threads);
    let paced_script = Script {
        method: "POST",
        custom: Some(format!("{lua}{}", wrk::paced(2.0 * rate, paced_threads))),
        tally: true,
        ..Script::default()
    };
    let paced_wrk = |secs: u64, quiet: bool| Wrk {
        threads: paced_threads,
        connections: opts.paced_connections,
        duration: secs,
        warmup: 0,
        quiet,
    };
    let warm =
        paced_wrk(WARMUP, true).run(&dir, "claims-warmup", &url, &paced_script, &[&warm_file])?;
    let paced = paced_wrk(opts.duration, false).run(
        &dir,
        "claims-paced",
        &url,
        &paced_script,
        &[&run_file],
    )?;
    let secs = if paced.rps > 0.0 {
        paced.requests as f64 / paced.rps
    } else {
        opts.duration as f64
    };
    let claims_rate = paced.count("approved") as f64 / secs;
    let states = overdue::by_status(&db.url)?;

    // 2. Every approved claim paid by two clients at once.
    let approved: Vec<String> = pg::psql(
        &db.url,
        "SELECT id FROM claims WHERE status = 'approved' ORDER BY id",
    )?
    .lines()
    .map(str::to_owned)
    .collect();
    let pay_cpu = CpuMonitor::start();
    let pays: PayCheck = payroll::pay_twice(srv.port, &p.staff_token, &approved, PAY_PAIRS)?;
    let pay_other = pay_cpu.finish();
    let twice_rows = pg::psql(&db.url, TWICE_PAID_SQL)?.lines().count();
    let paid_events = count_of(
        &db.url,
        "SELECT count(*) FROM claim_events WHERE action = 'paid'",
    )?;
    let paid_claims = count_of(&db.url, "SELECT count(*) FROM claims WHERE status = 'paid'")?;

    // 3. The overdue list over 200,000 more claims.
    let ids: Vec<String> = p.people.iter().map(|(id, _)| id.clone()).collect();
    let sql_secs = overdue::seed(&db.url, &p.org, &p.work, &ids, SQL_CLAIMS)?;
    let all_states = overdue::by_status(&db.url)?;
    let total_claims: u64 = all_states.iter().map(|(_, n)| n).sum();
    let today = chrono::Utc::now().date_naive();
    let (overdue_count, expected) = overdue::expected(&db.url, &p.org, today)?;
    let bearer = format!("Bearer {}", p.staff_token);
    let read_list = || -> Result<(usize, usize)> {
        let answer = http::request(
            "GET",
            srv.port,
            overdue::PATH,
            &[("Authorization", &bearer)],
            None,
        )?;
        if answer.status != 200 {
            bail!(
                "the overdue list answered {}: {}",
                answer.status,
                answer.body
            );
        }
        Ok((
            overdue::check(&answer.json()?, &expected, today)?,
            answer.body.len(),
        ))
    };
    let (lines, checked_bytes) = read_list()?;
    log(format!(
        "an overdue list: {} claims of {overdue_count} overdue, {lines} lines, {checked_bytes} bytes",
        expected.len()
    ));
    let captured = overdue::capture(&db.url, srv.port, &bearer)?;
    let mirror = overdue::mirror_sql();
    let (sql, sql_source) = chosen_sql(captured.as_deref(), &mirror);
    let mut list_script = Script::get(&[("Authorization", &bearer)]);
    list_script.tally = true;
    let list_url = format!("http://127.0.0.1:{}{}", srv.port, overdue::PATH);
    let list_wrk = |connections: u32| Wrk {
        threads: opts.threads.min(connections),
        connections,
        duration: opts.duration,
        warmup: 3,
        quiet: true,
    };
    let list = list_wrk(LIST_CONNECTIONS).run(&dir, "overdue", &list_url, &list_script, &[])?;
    let alone = list_wrk(1).run(&dir, "overdue-alone", &list_url, &list_script, &[])?;
    let explained = overdue::explain(&db.url, &sql, &p.org, today)?;
    let previous = overdue::explain_previous(&db.url, &sql, &p.org, today)?;
    if !srv.svc.alive() {
        bail!("the server died during the loads:\n{}", srv.svc.tail());
    }
    read_list().context("the overdue list after the load")?;
    let peak_rss = rss.finish();
    srv.svc.stop();
    drop(db);

    let r = claims_report::write(
        opts,
        &Figures {
            rate,
            paced_threads,
            load_before,
            drafts: drafts.len(),
            warm_n,
            run_n,
            seed_secs,
            seed_other,
            warm,
            paced,
            secs,
            claims_rate,
            states,
            approved: approved.len(),
            pays,
            pay_other,
            twice_rows,
            paid_events,
            paid_claims,
            sql_secs,
            all_states,
            total_claims,
            today,
            overdue_count,
            listed: expected.len(),
            lines,
            checked_bytes,
            list,
            alone,
            sql,
            sql_source,
            explained,
            previous,
            peak_rss,
        },
    );
    work.keep = false;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_cover_the_run_with_some_to_spare() {
        assert_eq!(drafts_for(200.0, 60), 13_250);
        assert_eq!(drafts_for(200.0, 3), 710);
        assert!(drafts_for(0.5, 1) >= 1);
    }

    #[test]
    fn the_drafts_file_names_each_claim_and_its_person_from_one() {
        let drafts = [
            Draft {
                id: "c1".into(),
                person: 0,
            },
            Draft {
                id: "c2".into(),
                person: 19,
            },
        ];
        assert_eq!(drafts_file(&drafts), "c1 1\nc2 20\n");
    }

    #[test]
    fn the_script_approves_what_was_submitted_and_submits_as_each_person() {
        let lua = script(&["p\"1".into(), "p2".into()], "s", 2);
        assert!(lua.contains(r#"local people = { "Bearer p\"1", "Bearer p2" }"#));
        assert!(lua.contains(r#"local staff, threads = "Bearer s", 2"#));
        assert!(lua.contains("for line in io.lines(args[1]) do"));
        assert!(lua.contains(r#"line:match("^(%S+) (%d+)$")"#));
        assert!(lua.contains(r#""/api/v1/claims/" .. id .. "/approve", staff_headers, "{}")"#));
        assert!(
            lua.contains(r#""/api/v1/claims/" .. c[1] .. "/submit", people_headers[c[2]], "{}")"#)
        );
        assert!(lua.contains(r#"body:match('^{"claim":{"id":"([^"]+)"')"#));
        // The approve queue is filled only from submitted answers.
        let submitted = lua.find(r#"'"status":"submitted"'"#).unwrap();
        let queued = lua.find("queue[last] = id").unwrap();
        assert!(submitted < queued);
        // Inside a paced script, with the tally and done() after it.
        let s = Script {
            method: "POST",
            custom: Some(format!("{lua}{}", wrk::paced(400.0, 2))),
            tally: true,
            ..Script::default()
        };
        let text = s.lua();
        let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("no {needle}"));
        assert!(at("function response(status") < at("local bench_response = response"));
        assert!(at("function request()") < at("function delay()"));
        assert!(at("function delay()") < at("function done("));
    }

    #[test]
    fn the_sql_explained_is_the_servers_when_whole() {
        let mirror = overdue::mirror_sql();
        let (sql, how) = chosen_sql(Some(&mirror), &mirror);
        assert_eq!(sql, mirror);
        assert!(how.contains("the same as the hand-written mirror"));
        // A SELECT longer than pg_stat_activity keeps (1 kB) is seen cut short.
        let long = format!("{mirror} {}", "x".repeat(400));
        let (sql, how) = chosen_sql(Some(&long[..1023]), &long);
        assert_eq!(sql, long);
        assert!(how.contains("cut at 1023"));
        let (sql, how) = chosen_sql(Some("SELECT 1"), &mirror);
        assert_eq!(sql, "SELECT 1");
        assert!(how.contains("differs"));
        let (sql, how) = chosen_sql(None, &mirror);
        assert_eq!(sql, mirror);
        assert!(how.contains("not seen"));
    }

    #[test]
    fn a_run_is_clean_only_when_every_answer_is_placed() {
        let mut l = Load {
            statuses: vec![(200, 10)],
            counts: vec![("approved".into(), 5), ("submitted".into(), 5)],
            ..Load::default()
        };
        assert!(clean(&l));
        l.counts.push(("exhausted".into(), 1));
        assert!(!clean(&l));
        l.counts.pop();
        l.statuses.push((409, 1));
        assert!(!clean(&l));
    }
}
