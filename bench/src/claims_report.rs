//! The claims scenario's report: the figures measured, as Markdown tables with the verdicts.

use chrono::NaiveDate;

use crate::claims::{
    clean, LIST_CONNECTIONS, PAY_PAIRS, PEOPLE, RATE_SHARE, SEED_WORKERS, TARGET_LIST_MS,
    TARGET_P99_MS, TARGET_RATE, TWICE_PAID_SQL, WARMUP,
};
use crate::overdue::{self, Explained};
use crate::payroll::PayCheck;
use crate::procs::loadavg;
use crate::wrk::{self, Load};
use crate::{header, verdict, Opts};

/// What the scenario measured.
pub struct Figures {
    /// Claims/s asked.
    pub rate: f64,
    pub paced_threads: u32,
    pub load_before: String,
    /// Drafts made through the API: all, for the warm-up, for the run; in how long; others' CPU.
    pub drafts: usize,
    pub warm_n: usize,
    pub run_n: usize,
    pub seed_secs: f64,
    pub seed_other: f64,
    pub warm: Load,
    pub paced: Load,
    /// The paced run's length as wrk measured it.
    pub secs: f64,
    pub claims_rate: f64,
    /// Claims by state after the paced run, and after the SQL insert.
    pub states: Vec<(String, u64)>,
    pub approved: usize,
    pub pays: PayCheck,
    pub pay_other: f64,
    pub twice_rows: usize,
    pub paid_events: u64,
    pub paid_claims: u64,
    pub sql_secs: f64,
    pub all_states: Vec<(String, u64)>,
    pub total_claims: u64,
    pub today: NaiveDate,
    pub overdue_count: u64,
    /// Claims in one answer of the list, their lines, its bytes.
    pub listed: usize,
    pub lines: usize,
    pub checked_bytes: usize,
    pub list: Load,
    pub alone: Load,
    pub sql: String,
    pub sql_source: String,
    pub explained: Explained,
    pub previous: String,
    pub peak_rss: f64,
}

fn states_text(states: &[(String, u64)]) -> String {
    states
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn write(opts: &Opts, f: &Figures) -> String {
    let &Figures {
        rate,
        paced_threads,
        ref load_before,
        drafts,
        warm_n,
        run_n,
        seed_secs,
        seed_other,
        ref warm,
        ref paced,
        secs,
        claims_rate,
        ref states,
        approved,
        ref pays,
        pay_other,
        twice_rows,
        paid_events,
        paid_claims,
        sql_secs,
        ref all_states,
        total_claims,
        today,
        overdue_count,
        listed,
        lines,
        checked_bytes,
        ref list,
        ref alone,
        ref sql,
        ref sql_source,
        ref explained,
        ref previous,
        peak_rss,
    } = f;
    // The header's load line shows the paced run's wrk.
    let mut shown = opts.clone();
    shown.threads = paced_threads;
    shown.connections = opts.paced_connections;
    let mut r = header(
        "Coproduce benchmark: expense claims",
        &shown,
        &format!(
            " paced at {:.0} requests/s ({rate:.0} claims/s) to submit and approve, after a {WARMUP} s warm-up at the same load on drafts of its own; the overdue list: wrk -t{} -c{LIST_CONNECTIONS} and -t1 -c1 -d{}s --latency, each after a 3 s warm-up; PostgreSQL",
            2.0 * rate,
            opts.threads.min(LIST_CONNECTIONS),
            opts.duration
        ),
    );
    r.push_str(&format!(
        "- Load average before the runs {load_before}, after {}\n\n",
        loadavg()
    ));
    r.push_str(&format!(
        "Made through the API: a provider organisation, its paid piece of work, {PEOPLE} people registered by its staff and recorded as members who took part, one session with everyone's attendance (150 minutes), and {} draft claims of the guide's example (150 minutes and 20 miles, £34: `POST /api/v1/claims` as each person in turn, {SEED_WORKERS} at a time) in {seed_secs:.1} s, {:.0} drafts/s (others took {seed_other:.0} % CPU meanwhile); {warm_n} of them for the warm-up, {run_n} for the run.\n\n",
        drafts,
        drafts as f64 / seed_secs
    ));

    r.push_str("### Submit and approve\n\n");
    r.push_str("| Load | Claims/s | Requests/s | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | Answers by status | Socket errors | Others' CPU % |\n|---|---:|---:|---:|---:|---:|---:|---|---:|---:|\n");
    for (what, l, s) in [
        (format!("warm-up, {WARMUP} s"), warm, WARMUP as f64),
        (
            format!(
                "paced at {rate:.0} claims/s, {} connections, {} s",
                opts.paced_connections, opts.duration
            ),
            paced,
            secs,
        ),
    ] {
        r.push_str(&format!(
            "| {what} | {:.1} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} | {} | {} | {:.0} |\n",
            l.count("approved") as f64 / s,
            l.rps,
            l.p50_ms,
            l.p90_ms,
            l.p99_ms,
            l.max_ms,
            l.statuses(),
            l.socket_errors,
            l.other_cpu
        ));
    }
    r.push_str(&format!(
        "\nThe paced run sent {} submits and {} approves; {} submits and {} approves were answered 200 (a submit still unanswered, or answered but not yet approved, when the run stopped stays submitted); drafts run short: {}. Claims by state after the runs: {}.\n",
        paced.count("submit_sent"),
        paced.count("approve_sent"),
        paced.count("submitted"),
        paced.count("approved"),
        if paced.count("exhausted") + warm.count("exhausted") == 0 { "never".to_owned() } else { format!("{} times", paced.count("exhausted") + warm.count("exhausted")) },
        states_text(states)
    ));
    r.push_str(&format!(
        "\nHow the load is made: one wrk run, one Lua script. Each wrk thread reads its share of the drafts; whenever one of its connections may send, it approves (as the staff) the oldest claim whose submission came back 200, reading the claim's id from that answer, or else submits (as the claim's person) the next draft. So a claim's approve is sent only after its submit was answered, the two requests alternate, and the claims rate is half the request rate. wrk's `delay()` paces the sends at {:.0} requests/s in all: each thread keeps a timetable of slots {:.1} ms apart and its connections take turns on it, so each connection sends once every {:.1} ms; a slot that passes while every connection of the thread still waits for an answer is lost, not made up (a paced, closed loop: latency is measured from a request's send to its answer, no coordinated-omission correction). The warm-up is the same load on drafts of its own.\n",
        2.0 * rate,
        wrk::pace_interval_ms(2.0 * rate, paced_threads),
        1000.0 * f64::from(opts.paced_connections) / (2.0 * rate),
    ));

    r.push_str("\n### Paying twice at once\n\n");
    r.push_str(&format!(
        "Every approved claim ({}) paid by two clients at once (`POST /api/v1/claims/{{id}}/pay` `{{\"method\":\"bank_transfer\"}}` as the staff, two threads with a connection each, released together by a barrier; {PAY_PAIRS} claims at a time) in {:.1} s; others took {pay_other:.0} % CPU meanwhile.\n\n",
        approved,
        pays.secs
    ));
    r.push_str("| Check | Count |\n|---|---:|\n");
    r.push_str(&format!(
        "| Claims paid twice at once | {} |\n",
        pays.claims
    ));
    r.push_str(&format!("| One 200 and one 409 | {} |\n", pays.once));
    r.push_str(&format!("| Two 200s (paid twice) | {} |\n", pays.twice));
    r.push_str(&format!("| Two 409s (not paid) | {} |\n", pays.never));
    r.push_str(&format!(
        "| Other answers | {}{} |\n",
        pays.other_count,
        if pays.other.is_empty() {
            String::new()
        } else {
            format!(" ({})", pays.other.join("; "))
        }
    ));
    r.push_str(&format!("| Rows of `{TWICE_PAID_SQL}` | {twice_rows} |\n"));
    r.push_str(&format!(
        "| `paid` events in claim_events / claims paid | {paid_events} / {paid_claims} |\n"
    ));

    r.push_str("\n### The overdue list over 200,000 claims\n\n");
    r.push_str(&format!(
        "200,000 claims (and one line each) inserted for the same organisation with SQL (`INSERT ... SELECT` from `generate_series`, fixed seed: 85 % paid and due over the past year, 5 % approved and 5 % submitted and due over the past year and the next 30 days, 3 % drafts, 2 % rejected; ids `gen_random_uuid()::text`), then `VACUUM ANALYZE`, in {sql_secs:.1} s. The table then held {total_claims} claims ({}); {overdue_count} of them overdue (submitted or approved, due before {today}). `GET {}` as the staff: checked before and after the load to be the {} overdue claims due earliest, in due order, each with its line ({lines} lines, {checked_bytes} bytes).\n\n",
        states_text(all_states),
        overdue::PATH,
        listed
    ));
    r.push_str("| Load | Requests/s | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | Answers by status | Body bytes (least-most) | Others' CPU % |\n|---|---:|---:|---:|---:|---:|---|---|---:|\n");
    for (connections, l) in [(LIST_CONNECTIONS, list), (1, alone)] {
        r.push_str(&format!(
            "| {connections} connection{}, as fast as answered, {} s | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} | {} | {} | {:.0} |\n",
            if connections == 1 { "" } else { "s" },
            opts.duration,
            l.rps,
            l.p50_ms,
            l.p90_ms,
            l.p99_ms,
            l.max_ms,
            l.statuses(),
            l.body_bytes
                .map_or("-".to_owned(), |(lo, hi)| format!("{lo}-{hi}")),
            l.other_cpu
        ));
    }
    let (custom_plan_ms, custom_exec_ms) = overdue::times(&explained.custom);
    let (_, generic_exec_ms) = overdue::times(&explained.generic);
    let (_, previous_exec_ms) = overdue::times(previous);
    let ms = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.3} ms"));
    r.push_str(&format!(
        "\nThe list's SELECT, {sql_source}:\n\n```sql\n{sql}\n```\n\nThen the claims' lines are read (`claim_lines.claim_id = ANY($1)` with the 200 ids). `PREPARE` with the types diesel binds (text, date, bigint), `EXPLAIN (ANALYZE, BUFFERS) EXECUTE` with the organisation, {today} and {} (run once before, to warm the cache), after the load.\n\nThe plan for these values (a custom plan, as PostgreSQL makes for a prepared statement's first five runs): {}; planning {}, execution {}.\n\n```\n{}\n```\n\nThe generic plan (`SET plan_cache_mode = force_generic_plan`), which PostgreSQL keeps for a statement a connection has prepared when it costs no more than the custom plans did: {}; execution {}.\n\n```\n{}\n```\n",
        overdue::LIMIT,
        overdue::shape(&explained.custom),
        ms(custom_plan_ms),
        ms(custom_exec_ms),
        explained.custom,
        overdue::shape(&explained.generic),
        ms(generic_exec_ms),
        explained.generic
    ));
    r.push_str(&format!(
        "\nFor comparison, the index the list had before (`{}`; `{}`), inside a transaction rolled back after the EXPLAIN: {}; execution {}.\n\n```\n{previous}\n```\n",
        overdue::PREVIOUS_INDEX[0],
        overdue::PREVIOUS_INDEX[1],
        overdue::shape(previous),
        ms(previous_exec_ms)
    ));
    r.push_str("\nOthers' CPU: what processes not started here (builds, tests) took during the run, as a share of all cores; above a few % the figures are noisy.\n");

    // The verdicts.
    let reached = claims_rate >= rate * RATE_SHARE;
    let fast = paced.p99_ms < TARGET_P99_MS;
    let paced_clean = clean(paced) && clean(warm);
    let once = pays.clean()
        && twice_rows == 0
        && paid_events == pays.claims as u64
        && paid_claims == pays.claims as u64;
    let list_fast = list.p99_ms < TARGET_LIST_MS;
    let list_clean = [list, alone].iter().all(|l| {
        l.all_200()
            && l.body_bytes
                .is_some_and(|(least, _)| least as f64 >= checked_bytes as f64 * 0.99)
    });
    r.push_str("\n| Figure | Value | Target | |\n|---|---:|---|---|\n");
    r.push_str(&format!(
        "| Claims submitted and approved per s, paced | {claims_rate:.1}/s ({:.0} requests/s) | {rate:.0}/s (at least {:.0} %) | {} |\n",
        paced.rps,
        RATE_SHARE * 100.0,
        verdict(reached)
    ));
    r.push_str(&format!(
        "| p99 of submit and approve, paced | {:.2} ms (p50 {:.2}, max {:.1}) | < {TARGET_P99_MS:.0} ms | {} |\n",
        paced.p99_ms,
        paced.p50_ms,
        paced.max_ms,
        verdict(fast)
    ));
    r.push_str(&format!(
        "| Every answer of the warm-up and the paced run 200, no socket error, drafts enough | {} | | {} |\n",
        if paced_clean { "yes" } else { "no" },
        verdict(paced_clean)
    ));
    r.push_str(&format!(
        "| Claims paid once when paid twice at once (200 + 409), none twice in the history | {} of {}, {twice_rows} twice | all, none | {} |\n",
        pays.once,
        pays.claims,
        verdict(once)
    ));
    r.push_str(&format!(
        "| Overdue list of {} over {total_claims} claims, {LIST_CONNECTIONS} connections, p99 (p50) | {:.2} ms ({:.2} ms) | < {TARGET_LIST_MS:.0} ms | {} |\n",
        overdue::LIMIT,
        list.p99_ms,
        list.p50_ms,
        verdict(list_fast)
    ));
    r.push_str(&format!(
        "| The same, one connection, p99 (p50) | {:.2} ms ({:.2} ms) | | |\n",
        alone.p99_ms, alone.p50_ms
    ));
    r.push_str(&format!(
        "| Its SELECT, EXPLAIN ANALYZE execution (custom / generic plan; custom with the previous index) | {} / {} ({}) | | |\n",
        ms(custom_exec_ms),
        ms(generic_exec_ms),
        ms(previous_exec_ms)
    ));
    r.push_str(&format!(
        "| Every list answer 200 and full (body at least 99 % of the checked {checked_bytes} bytes) | {} | | {} |\n",
        if list_clean { "yes" } else { "no" },
        verdict(list_clean)
    ));
    r.push_str(&format!(
        "| Server peak RSS (VmRSS sampled every 200 ms from the paced run to the end, VmHWM) | {peak_rss:.1} MB | | |\n"
    ));
    let as_target = rate == TARGET_RATE;
    r.push_str(&format!(
        "\nTarget \"submit and approve {TARGET_RATE:.0} claims/s, p99 under {TARGET_P99_MS:.0} ms\": "
    ));
    let met = reached && fast && paced_clean;
    if as_target {
        r.push_str(&format!("{}\n", verdict(met)));
    } else {
        r.push_str(&format!(
            "not judged: this run asked {rate:.0} claims/s (it would be {})\n",
            verdict(met)
        ));
    }
    r.push_str(&format!(
        "\nTarget \"no claim paid twice\": {}\n",
        verdict(once)
    ));
    r.push_str(&format!(
        "\nTarget \"the overdue list over 200,000 claims under {TARGET_LIST_MS:.0} ms (show the plan)\", judged on the p99 of the whole answer at {LIST_CONNECTIONS} connections: {}\n",
        verdict(list_fast && list_clean)
    ));
    r
}
