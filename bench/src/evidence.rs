//! The evidence report over a large provider: 10,000 pieces of work, 100,000 sessions,
//! 1,000,000 attendance rows, 200,000 claims and 50,000 feedback items, made with set-based SQL
//! (the same statements on both backends but for a few spellings), then the report's time on
//! PostgreSQL and SQLite beside the time of the single fastest SQL aggregation over the same
//! attendance rows.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use coproduce::db::{Backend as DbBackend, Db, DbConnection, PoolOptions};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::http;
use crate::pg::BenchDb;
use crate::procs::{log, WorkDir};
use crate::server::{self, Server, ServerConfig};
use crate::{header, verdict, Opts};

const WORK: i64 = 10_000;
const SESSIONS_EACH: i64 = 10;
const MEMBERS_EACH: i64 = 10;
const PEOPLE: i64 = 5_000;
const CLAIMS: i64 = 200_000;
const CLAIMS_HALF: i64 = CLAIMS / 2;
const FEEDBACK: i64 = 50_000;
const TIMED: usize = 5;
/// The period: the year the data is spread over.
const FROM: &str = "2025-12-01";
const TO: &str = "2026-12-01";
const TARGET_SECS: f64 = 1.0;
const TARGET_RATIO: f64 = 2.0;

/// The floor: every attendance row of the provider's work, counted and summed.
const FLOOR_SQL: &str = "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(a.minutes), 0) AS BIGINT) AS m \
    FROM attendance a JOIN sessions s ON s.id = a.session_id \
    JOIN opportunities o ON o.id = s.opportunity_id WHERE o.organisation_id = '{P}'";

#[derive(QueryableByName)]
struct Floor {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    m: i64,
}

/// The spellings that differ: an id from a table digit and a number, a time or date some days
/// after a base.
struct Dialect(DbBackend);

impl Dialect {
    fn id(&self, table: u8, n: &str) -> String {
        match self.0 {
            DbBackend::Postgres => {
                format!("('0000000{table}-0000-7000-8000-' || lpad(to_hex({n}), 12, '0'))")
            }
            DbBackend::Sqlite => {
                format!("('0000000{table}-0000-7000-8000-' || printf('%012x', {n}))")
            }
        }
    }

    fn time(&self, days: &str) -> String {
        match self.0 {
            DbBackend::Postgres => {
                format!("(TIMESTAMP '{FROM} 10:00:00' + ({days}) * INTERVAL '1 day')")
            }
            DbBackend::Sqlite => {
                format!("datetime('{FROM} 10:00:00', '+' || ({days}) || ' days')")
            }
        }
    }

    fn date(&self, days: &str) -> String {
        match self.0 {
            DbBackend::Postgres => format!("(DATE '{FROM}' + CAST(({days}) AS INTEGER))"),
            DbBackend::Sqlite => format!("date('{FROM}', '+' || ({days}) || ' days')"),
        }
    }

    fn numbers(&self, up_to: i64) -> String {
        match self.0 {
            DbBackend::Postgres => {
                format!("INSERT INTO bench_numbers SELECT generate_series(1, {up_to})")
            }
            DbBackend::Sqlite => format!(
                "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {up_to}) \
                 INSERT INTO bench_numbers SELECT n FROM c"
            ),
        }
    }
}

/// The statements that make the provider's year (`{P}` the provider, `{POLICY}` its policy).
fn seed_statements(d: &Dialect) -> Vec<String> {
    let now = d.time("366");
    let work = WORK;
    let sessions = WORK * SESSIONS_EACH;
    let members = WORK * MEMBERS_EACH;
    let attendance = sessions * MEMBERS_EACH;
    let opp = |expr: &str| d.id(1, expr);
    vec![
        "CREATE TABLE bench_numbers (n BIGINT PRIMARY KEY)".to_owned(),
        d.numbers(attendance),
        format!(
            "INSERT INTO participants (id, organisation_id, name, roles, lived_experience_areas, involvement_kinds, contact_methods, support_needs, receives_benefits, created_at, updated_at, version) \
             SELECT {}, '{{P}}', 'Person ' || n, ',lived_experience,', ',', ',', ',', ',', false, {now}, {now}, 1 FROM bench_numbers WHERE n <= {PEOPLE}",
            d.id(2, "n")
        ),
        format!(
            "INSERT INTO opportunities (id, organisation_id, title, description, kind, claimed_mode, status, format, places_taken, paid, support_offered, lived_experience_areas, for_carers, admission, created_at, updated_at, version) \
             SELECT {}, '{{P}}', 'Work ' || n, 'A piece of work', \
             CASE n % 4 WHEN 0 THEN 'workshop' WHEN 1 THEN 'meeting' WHEN 2 THEN 'survey' ELSE 'interview_panel' END, \
             CASE n % 3 WHEN 0 THEN 'co_production' WHEN 1 THEN 'involvement' ELSE 'consultation' END, \
             CASE n % 5 WHEN 0 THEN 'advertised' WHEN 1 THEN 'running' ELSE 'ended' END, \
             'in_person', 0, n % 2 = 0, ',', ',', false, 'first_come', {now}, {now}, 1 FROM bench_numbers WHERE n <= {work}",
            opp("n")
        ),
        // Ten members each: participants in turn, so none is in one group twice.
        format!(
            "INSERT INTO memberships (id, opportunity_id, participant_id, role, experience, status, created_at, joined_at, has_conflict, scoring, version) \
             SELECT {}, {}, {}, 'member', \
             CASE n % 4 WHEN 0 THEN 'lived_experience' WHEN 1 THEN 'carer' WHEN 2 THEN 'both' ELSE 'none' END, \
             'accepted', {now}, {}, false, false, 1 FROM bench_numbers WHERE n <= {members}",
            d.id(3, "n"),
            opp("(n - 1) / 10 + 1"),
            d.id(2, &format!("(n - 1) % {PEOPLE} + 1")),
            d.time("((n - 1) / 10) % 300 + (n % 3) * 2")
        ),
        format!(
            "INSERT INTO sessions (id, opportunity_id, starts_at, duration_minutes, format, lived_experience_agenda_slot, created_at) \
             SELECT {}, {}, {}, 120, 'in_person', n % 3 = 0, {now} FROM bench_numbers WHERE n <= {sessions}",
            d.id(4, "n"),
            opp("(n - 1) / 10 + 1"),
            d.time("((n - 1) / 10) % 300 + ((n - 1) % 10) * 6 + 1")
        ),
        // Every member at every session of their work.
        format!(
            "INSERT INTO attendance (id, session_id, membership_id, participant_id, minutes, participation, recorded_at) \
             SELECT {}, {}, {}, {}, 60 + (n % 4) * 15, CASE WHEN n % 3 = 0 THEN 'attended' ELSE 'participated' END, {now} \
             FROM bench_numbers WHERE n <= {attendance}",
            d.id(5, "n"),
            d.id(4, "(n - 1) / 10 + 1"),
            d.id(3, "((n - 1) / 100) * 10 + (n - 1) % 10 + 1"),
            d.id(2, &format!("(((n - 1) / 100) * 10 + (n - 1) % 10) % {PEOPLE} + 1")),
        ),
        format!(
            "INSERT INTO decisions (id, session_id, description, shared_with_lived_experience, recorded_at) \
             SELECT {}, {}, 'Decision ' || n, n % 4 <> 0, {now} FROM bench_numbers WHERE n <= {}",
            d.id(6, "n"),
            d.id(4, "n * 2"),
            sessions / 2
        ),
        format!(
            "INSERT INTO claims (id, participant_id, organisation_id, opportunity_id, policy_id, status, total_pence, choice, payable_pence, currency, submitted_at, due_on, approved_at, paid_at, payment_method, created_by, created_at, updated_at, version) \
             SELECT {}, {}, '{{P}}', {}, '{{POLICY}}', \
             CASE WHEN n % 20 < 17 THEN 'paid' WHEN n % 20 = 17 THEN 'approved' WHEN n % 20 = 18 THEN 'submitted' ELSE 'rejected' END, \
             1500, 'take_all', 1500, 'GBP', {}, {}, {}, CASE WHEN n % 20 < 17 THEN {} END, CASE WHEN n % 20 < 17 THEN 'bank_transfer' END, 'bench', {now}, {now}, 1 \
             FROM bench_numbers WHERE n <= {CLAIMS}",
            d.id(7, "n"),
            // One of the piece of work's ten members (as the memberships above number them).
            d.id(2, &format!("(((n - 1) % {work}) * 10 + ((n - 1) / {work}) % 10) % {PEOPLE} + 1")),
            opp(&format!("(n - 1) % {work} + 1")),
            d.time("n % 360"),
            d.date("n % 360 + 14"),
            d.time("n % 360 + 1"),
            d.time("n % 360 + n % 20"),
        ),
        format!(
            "INSERT INTO claim_lines (id, claim_id, position, kind, activity_on, session_id, minutes, rate_pence, amount_pence) \
             SELECT {}, {}, 0, 'participation', {}, {}, 90, 1000, 1500 FROM bench_numbers WHERE n <= {CLAIMS}",
            d.id(8, "n"),
            d.id(7, "n"),
            d.date("n % 360"),
            // A session of the claim's piece of work (each member attends every one), a
            // different one for each of a member's two claims.
            d.id(4, &format!("((n - 1) % {work}) * 10 + ((n - 1) / {CLAIMS_HALF} + n) % 10 + 1")),
        ),
        format!(
            "INSERT INTO feedback_items (id, organisation_id, opportunity_id, said, channel, themes, received_at, outcome, we_did, responded_by, responded_at, communicated_how, closed_by, closed_at, recorded_by, created_at, updated_at, version) \
             SELECT {}, '{{P}}', CASE WHEN n % 10 = 0 THEN NULL ELSE {} END, 'Feedback ' || n, 'meeting', '[]', {}, \
             CASE WHEN n % 3 <> 0 THEN 'acted' END, CASE WHEN n % 3 <> 0 THEN 'Done' END, CASE WHEN n % 3 <> 0 THEN 'bench' END, \
             CASE WHEN n % 3 <> 0 THEN {} END, CASE WHEN n % 3 <> 0 THEN 'Told' END, CASE WHEN n % 3 <> 0 THEN 'bench' END, \
             CASE WHEN n % 3 <> 0 THEN {} END, 'bench', {now}, {now}, 1 FROM bench_numbers WHERE n <= {FEEDBACK}",
            d.id(9, "n"),
            opp(&format!("(n - 1) % {work} + 1")),
            d.time("n % 360"),
            d.time("n % 360 + 2"),
            d.time("n % 360 + n % 40"),
        ),
        format!(
            "INSERT INTO evaluations (id, organisation_id, empathy, inclusion, honesty, working_together, personalisation, evaluated_at, recorded_by, created_at) \
             SELECT {}, '{{P}}', 1 + n % 5, 1 + (n + 1) % 5, 1 + (n + 2) % 5, 1 + (n + 3) % 5, 1 + (n + 4) % 5, {}, 'bench', {now} \
             FROM bench_numbers WHERE n <= 1000",
            d.id(1, &format!("n + {}", WORK * 10)),
            d.time("n % 360"),
        ),
        "DROP TABLE bench_numbers".to_owned(),
    ]
}

fn open(url: &str) -> Result<Db> {
    Db::open(
        url,
        PoolOptions {
            statement_timeout: std::time::Duration::ZERO,
            max_size: 1,
            timeout: Duration::from_secs(600),
            sqlite_busy_timeout: Duration::from_secs(600),
        },
    )
}

fn run_sql<T: Send + 'static>(
    db: &Db,
    work: impl FnOnce(&mut DbConnection) -> Result<T, coproduce::error::AppError> + Send + 'static,
) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime
        .block_on(db.read(work))
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// One backend's figures.
struct Measured {
    backend: &'static str,
    seed_secs: f64,
    report: Vec<f64>,
    floor: Vec<f64>,
    work_figure: f64,
    attendance_rows: i64,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

fn measure(opts: &Opts, backend: DbBackend, url: &str, dir: &std::path::Path) -> Result<Measured> {
    let bin = server::binary(opts.server_bin.as_deref(), opts.build_jobs)?;
    let data_dir = dir.join(format!("data-{}", backend.name()));
    let cfg = ServerConfig::new(opts, &bin, url, &data_dir, &opts.server_env);
    // The server migrates the fresh database as it starts.
    let srv = Server::start(&cfg, &format!("coproduce-{}", backend.name()), dir)?;
    let org = http::post_json(
        srv.port,
        &srv.token,
        "/api/v1/organisations",
        &serde_json::json!({ "name": "A large provider", "kinds": ["provider"] }),
        201,
    )?;
    let provider = org["id"].as_str().context("organisation id")?.to_owned();
    let policy = org["default_payment_policy_id"]
        .as_str()
        .context("policy id")?
        .to_owned();
    let db = open(url)?;
    let started = Instant::now();
    let statements: Vec<String> = seed_statements(&Dialect(backend))
        .into_iter()
        .map(|s| s.replace("{P}", &provider).replace("{POLICY}", &policy))
        .collect();
    for (i, sql) in statements.into_iter().enumerate() {
        let t = Instant::now();
        run_sql(&db, move |conn| {
            conn.batch_execute(&sql)
                .map_err(|e| coproduce::error::AppError::internal(format!("seed {i}: {e}")))
        })?;
        log(format!(
            "seed statement {i}: {:.1} s",
            t.elapsed().as_secs_f64()
        ));
    }
    let analyse = match backend {
        DbBackend::Postgres => "VACUUM ANALYZE",
        DbBackend::Sqlite => "ANALYZE",
    };
    run_sql(&db, move |conn| {
        conn.batch_execute(analyse)
            .map_err(|e| coproduce::error::AppError::internal(e.to_string()))
    })?;
    let seed_secs = started.elapsed().as_secs_f64();
    log(format!("{}: seeded in {seed_secs:.1} s", backend.name()));

    let path = format!("/api/v1/reports/evidence?provider={provider}&from={FROM}&to={TO}");
    let auth = srv.bearer();
    let mut report = Vec::new();
    let mut work_figure = 0.0;
    for i in 0..=TIMED {
        let t = Instant::now();
        let resp = http::request("GET", srv.port, &path, &[("Authorization", &auth)], None)?;
        let secs = t.elapsed().as_secs_f64();
        if resp.status != 200 {
            bail!(
                "the report answered {}: {}",
                resp.status,
                &resp.body[..resp.body.len().min(400)]
            );
        }
        let body = resp.json()?;
        work_figure = body["figures"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["metric"] == "work"))
            .and_then(|f| f["value"].as_f64())
            .unwrap_or(-1.0);
        if i > 0 {
            report.push(secs);
        }
    }
    let floor_sql = FLOOR_SQL.replace("{P}", &provider);
    let mut floor = Vec::new();
    let mut attendance_rows = 0;
    for i in 0..=TIMED {
        let sql = floor_sql.clone();
        let t = Instant::now();
        let rows: Vec<Floor> = run_sql(&db, move |conn| {
            diesel::sql_query(sql)
                .load::<Floor>(conn)
                .map_err(|e| coproduce::error::AppError::internal(e.to_string()))
        })?;
        let secs = t.elapsed().as_secs_f64();
        if let Some(r) = rows.first() {
            attendance_rows = r.n;
            log(format!("floor: {} rows, {} minutes, {secs:.3} s", r.n, r.m));
        }
        if i > 0 {
            floor.push(secs);
        }
    }
    drop(srv);
    Ok(Measured {
        backend: backend.name(),
        seed_secs,
        report,
        floor,
        work_figure,
        attendance_rows,
    })
}

pub fn run(opts: &Opts) -> Result<String> {
    let work = WorkDir::new("coproduce-bench-evidence")?;
    let dir = work.path.clone();
    let mut measured = Vec::new();
    {
        let db = BenchDb::create(&opts.pg_admin_url)?;
        measured.push(measure(opts, DbBackend::Postgres, &db.url, &dir)?);
    }
    let lite = format!("sqlite://{}", dir.join("evidence.db").display());
    measured.push(measure(opts, DbBackend::Sqlite, &lite, &dir)?);

    let mut r = header(
        "The evidence report over a large provider",
        opts,
        &format!(
            "; no load generator: {TIMED} timed report requests after one warm-up, one at a time"
        ),
    );
    r.push_str(&format!(
        "\nData: one provider, {WORK} pieces of work (not drafts), {} sessions, {} attendance rows, {} memberships, {PEOPLE} people, {} decisions, {CLAIMS} claims (one line each), {FEEDBACK} feedback items, 1,000 evaluations, over the year {FROM} to {TO} (the report's period). The floor is the single fastest SQL aggregation over the same attendance rows: `{}` (run {TIMED} times through the same db layer after one warm-up).\n\n",
        WORK * SESSIONS_EACH,
        WORK * SESSIONS_EACH * MEMBERS_EACH,
        WORK * MEMBERS_EACH,
        WORK * SESSIONS_EACH / 2,
        FLOOR_SQL.replace("'{P}'", "$provider"),
    ));
    r.push_str("| Backend | Seeded in | Report median / max | Floor median | Report / floor (target at most 2) | Under 1 s (PostgreSQL's target) | Work figure (seeded 10,000) |\n|---|---:|---:|---:|---:|---|---:|\n");
    for m in &measured {
        let (rep, flo) = (median(&m.report), median(&m.floor));
        let max = m.report.iter().copied().fold(0.0, f64::max);
        let ratio = rep / flo.max(1e-9);
        r.push_str(&format!(
            "| {} | {:.0} s | {:.3} s / {:.3} s | {:.3} s ({} rows) | {:.2} ({}) | {} | {} |\n",
            m.backend,
            m.seed_secs,
            rep,
            max,
            flo,
            m.attendance_rows,
            ratio,
            verdict(ratio <= TARGET_RATIO),
            if m.backend == "postgres" {
                verdict(rep < TARGET_SECS).to_owned()
            } else {
                format!(
                    "{} (no target)",
                    if rep < TARGET_SECS { "yes" } else { "no" }
                )
            },
            m.work_figure,
        ));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_on_both_backends() {
        let pg = Dialect(DbBackend::Postgres).id(3, "n");
        assert!(pg.contains("lpad(to_hex(n), 12, '0')"), "{pg}");
        let lite = Dialect(DbBackend::Sqlite).id(3, "n");
        assert!(lite.contains("printf('%012x', n)"), "{lite}");
        assert_eq!("00000003-0000-7000-8000-".len() + 12, 36);
    }

    #[test]
    fn every_member_attends_only_sessions_of_their_own_work() {
        // Attendance row n: session (n-1)/10+1 of work ((n-1)/10)/10+1; membership
        // ((n-1)/100)*10 + (n-1)%10 + 1 of work (membership-1)/10+1: the same work.
        for n in [1_i64, 10, 11, 100, 101, 999_999, 1_000_000] {
            let session = (n - 1) / 10 + 1;
            let work_of_session = (session - 1) / 10 + 1;
            let membership = ((n - 1) / 100) * 10 + (n - 1) % 10 + 1;
            let work_of_membership = (membership - 1) / 10 + 1;
            assert_eq!(work_of_session, work_of_membership, "row {n}");
        }
    }

    #[test]
    fn every_claim_is_a_members_for_a_session_of_their_work_and_none_twice() {
        let mut pairs = std::collections::HashSet::new();
        for n in 1..=CLAIMS {
            let work = (n - 1) % WORK; // 0-based
            let person = ((work * 10 + ((n - 1) / WORK) % 10) % PEOPLE) + 1;
            let session = work * 10 + ((n - 1) / CLAIMS_HALF + n) % 10 + 1;
            // The work's members are memberships work*10+1..=work*10+10, person (m-1)%PEOPLE+1.
            let members: Vec<i64> = (work * 10 + 1..=work * 10 + 10)
                .map(|m| (m - 1) % PEOPLE + 1)
                .collect();
            assert!(members.contains(&person), "claim {n}");
            assert_eq!((session - 1) / 10, work, "claim {n}");
            assert!(
                pairs.insert((session, person)),
                "claim {n} repeats a session"
            );
        }
    }
}
