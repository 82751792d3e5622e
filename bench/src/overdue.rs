//! The finance team's overdue list over 200,000 claims: the claims inserted straight into
//! PostgreSQL with SQL (most paid, some submitted or approved and due over the past year and
//! the next month, one line each), the list's answer checked against SQL, its SELECT as the
//! server runs it (read from pg_stat_activity) and `EXPLAIN (ANALYZE, BUFFERS)` of it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use serde_json::Value;

use crate::http;
use crate::pg::{psql, psql_session};
use crate::procs::log;

pub const PATH: &str = "/api/v1/finance/overdue?limit=200";
pub const LIMIT: usize = 200;

/// The columns of `claims` that db::claims selects (its `ClaimRow`), in its order.
const COLUMNS: [&str; 23] = [
    "id",
    "participant_id",
    "organisation_id",
    "opportunity_id",
    "policy_id",
    "status",
    "total_pence",
    "choice",
    "payable_pence",
    "currency",
    "submitted_at",
    "due_on",
    "activity_week",
    "approved_at",
    "paid_at",
    "payment_method",
    "payment_reference",
    "payment_run_id",
    "rejection_reason",
    "created_by",
    "created_at",
    "updated_at",
    "version",
];

/// The SELECT db::claims::finance runs for `FinanceView::Overdue` of one organisation, written
/// by hand the way diesel writes it: $1 the organisation, $2 today, $3 the limit; the unpaid
/// states are written out (so the planner can match the partial index `claims_unpaid_due` on
/// every plan). The run compares it with what the server sent.
pub fn mirror_sql() -> String {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|c| format!("\"claims\".\"{c}\""))
        .collect();
    format!(
        "SELECT {} FROM \"claims\" WHERE (((\"claims\".\"organisation_id\" = $1) AND \"claims\".\"status\" IN ('submitted', 'approved')) AND (\"claims\".\"due_on\" < $2)) ORDER BY \"claims\".\"due_on\" ASC, \"claims\".\"id\" ASC LIMIT $3",
        columns.join(", ")
    )
}

/// Whether the SQL read from pg_stat_activity (cut at track_activity_query_size, 1 kB by
/// default) is the mirror, or its start.
pub fn matches_mirror(captured: &str, mirror: &str) -> bool {
    let captured = captured.trim();
    !captured.is_empty()
        && (captured == mirror || (captured.len() >= 1000 && mirror.starts_with(captured)))
}

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Inserts `count` claims for the organisation, from generate_series with a fixed seed: 85 %
/// paid (due over the past year), 5 % approved and 5 % submitted (due over the past year and
/// the next 30 days, so most of them overdue), 3 % drafts, 2 % rejected; £10-£60 each; the
/// people, the work and the organisation's default policy those of the payroll. Then one
/// participation line each, priced at £10 an hour.
pub fn seed_statements(
    org: &str,
    work: &str,
    people: &[String],
    today: NaiveDate,
    count: usize,
) -> Vec<String> {
    let people: Vec<String> = people.iter().map(|p| quoted(p)).collect();
    let (org, work) = (quoted(org), quoted(work));
    let claims = format!(
        "WITH c AS (SELECT ARRAY[{people}]::text[] AS people, default_payment_policy_id AS policy FROM organisations WHERE id = {org}),
r AS (SELECT g, random() AS r, random() AS d, random() AS t FROM generate_series(1, {count}) g),
s AS (SELECT g, d, 500 * (2 + floor(t * 11))::bigint AS total,
        CASE WHEN r < 0.85 THEN 'paid' WHEN r < 0.90 THEN 'approved' WHEN r < 0.95 THEN 'submitted'
             WHEN r < 0.98 THEN 'draft' ELSE 'rejected' END AS status FROM r),
d AS (SELECT g, total, status,
        DATE '{today}' - 365 + floor(d * CASE WHEN status IN ('submitted', 'approved') THEN 396 ELSE 365 END)::int AS due
      FROM s),
w AS (SELECT g, total, status, due, (due - 16) + TIME '18:00' AS created,
        CASE WHEN status <> 'draft' THEN (due - 14) + TIME '10:00' END AS submitted,
        CASE WHEN status IN ('approved', 'paid') THEN (due - 10) + TIME '15:00' END AS approved,
        CASE WHEN status = 'paid' THEN (due - 3) + TIME '11:00' END AS paid,
        CASE WHEN status = 'rejected' THEN (due - 9) + TIME '12:00' END AS rejected
      FROM d)
INSERT INTO claims (id, participant_id, organisation_id, opportunity_id, policy_id, status,
  total_pence, choice, payable_pence, currency, submitted_at, due_on, activity_week,
  approved_at, paid_at, payment_method, payment_reference, payment_run_id, rejection_reason,
  created_by, created_at, updated_at, version)
SELECT gen_random_uuid()::text, c.people[1 + w.g % array_length(c.people, 1)], {org}, {work}, c.policy,
  status, total, 'take_all', total, 'GBP', submitted, CASE WHEN status <> 'draft' THEN due END,
  date_trunc('week', due - 18)::date, approved, paid,
  CASE WHEN paid IS NOT NULL THEN 'bank_transfer' END, NULL, NULL,
  CASE WHEN rejected IS NOT NULL THEN 'Not a session of this work' END,
  'bench-sql', created, COALESCE(paid, rejected, approved, submitted, created),
  CASE status WHEN 'draft' THEN 1 WHEN 'submitted' THEN 2 WHEN 'paid' THEN 4 ELSE 3 END
FROM w, c",
        people = people.join(", "),
    );
    let lines = "INSERT INTO claim_lines (id, claim_id, position, kind, activity_on, session_id,
  minutes, miles_tenths, description, receipt_id, rate_pence, amount_pence)
SELECT gen_random_uuid()::text, id, 0, 'participation', created_at::date - 2, NULL,
  (total_pence * 60 / 1000)::int, NULL, NULL, NULL, 1000, total_pence
FROM claims WHERE created_by = 'bench-sql'"
        .to_owned();
    vec!["SELECT setseed(0.42)".to_owned(), claims, lines]
}

/// The organisation's overdue claims: (how many, the first `LIMIT` ids in the list's order).
pub fn expected(url: &str, org: &str, today: NaiveDate) -> Result<(u64, Vec<String>)> {
    let filter = format!(
        "organisation_id = {} AND status IN ('submitted', 'approved') AND due_on < DATE '{today}'",
        quoted(org)
    );
    let count = psql(url, &format!("SELECT count(*) FROM claims WHERE {filter}"))?
        .trim()
        .parse()
        .context("the count of overdue claims")?;
    let ids = psql(
        url,
        &format!("SELECT id FROM claims WHERE {filter} ORDER BY due_on, id LIMIT {LIMIT}"),
    )?
    .lines()
    .map(str::to_owned)
    .collect();
    Ok((count, ids))
}

/// Checks an answer of the list: the expected claims in the expected order, each unpaid, due
/// before today, with its lines. Returns how many lines it held.
pub fn check(answer: &Value, expected: &[String], today: NaiveDate) -> Result<usize> {
    let items = answer
        .as_array()
        .with_context(|| format!("the overdue list is not a list: {answer}"))?;
    let ids: Vec<&str> = items.iter().filter_map(|c| c["id"].as_str()).collect();
    if ids != expected {
        bail!(
            "the overdue list held {} claims, not the {} expected in due order (first {:?}, expected {:?})",
            ids.len(),
            expected.len(),
            ids.first(),
            expected.first()
        );
    }
    let mut lines = 0;
    let mut last = NaiveDate::MIN;
    for c in items {
        let due: NaiveDate = c["due_on"]
            .as_str()
            .and_then(|d| d.parse().ok())
            .with_context(|| format!("a listed claim has no due day: {c}"))?;
        if due >= today || due < last {
            bail!("the list is not of overdue claims, earliest due first: {c}");
        }
        last = due;
        if !matches!(c["status"].as_str(), Some("submitted" | "approved")) {
            bail!("a listed claim is not unpaid: {c}");
        }
        let n = c["lines"].as_array().map_or(0, Vec::len);
        if n == 0 {
            bail!("a listed claim came without its lines: {c}");
        }
        lines += n;
    }
    Ok(lines)
}

/// The claims SELECT the server runs for the list, read from pg_stat_activity while our
/// client asks for the list one request after another (up to 5 s).
pub fn capture(url: &str, port: u16, bearer: &str) -> Result<Option<String>> {
    let stop = AtomicBool::new(false);
    let probe = "SELECT query FROM pg_stat_activity WHERE datname = current_database() \
        AND pid <> pg_backend_pid() AND query LIKE 'SELECT %FROM \"claims\" WHERE%\"due_on\" <%' LIMIT 1";
    std::thread::scope(|s| {
        let asker = s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                if http::request("GET", port, PATH, &[("Authorization", bearer)], None).is_err() {
                    break;
                }
            }
        });
        let mut found = None;
        for _ in 0..100 {
            let q = psql(url, probe)?;
            if !q.trim().is_empty() {
                found = Some(q.trim().to_owned());
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        stop.store(true, Ordering::Relaxed);
        let _ = asker.join();
        Ok(found)
    })
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of the list's SELECT, prepared with the types diesel binds
/// (text, date, bigint):
/// the plan PostgreSQL makes for these values (a custom plan, as for a statement's first five
/// runs), and the generic plan it may switch to for a statement a connection has prepared.
pub struct Explained {
    pub custom: String,
    pub generic: String,
}

const SPLIT: &str = "BENCH_SPLIT";

fn execute(org: &str, today: NaiveDate) -> String {
    format!(
        "EXPLAIN (ANALYZE, BUFFERS) EXECUTE overdue({}, DATE '{today}', {LIMIT})",
        quoted(org)
    )
}

fn prepare(sql: &str) -> String {
    format!("PREPARE overdue (text, date, bigint) AS {sql}")
}

pub fn explain(url: &str, sql: &str, org: &str, today: NaiveDate) -> Result<Explained> {
    let execute = execute(org, today);
    let split = format!("SELECT '{SPLIT}'");
    let out = psql_session(
        url,
        &[
            &prepare(sql),
            // Once to warm the cache for the plan's own pages, then measured.
            &execute,
            &split,
            &execute,
            &split,
            "SET plan_cache_mode = force_generic_plan",
            &execute,
        ],
        Duration::from_secs(120),
    )?;
    let parts: Vec<&str> = out.split(SPLIT).collect();
    let [_, custom, generic] = parts[..] else {
        bail!("EXPLAIN printed {} parts: {out}", parts.len());
    };
    Ok(Explained {
        custom: custom.trim().to_owned(),
        generic: generic.trim().to_owned(),
    })
}

/// The index the overdue list had before revision 7afe80b, which gave the unpaid claims in due
/// order per state only, put back in place of the partial index for comparison.
pub const PREVIOUS_INDEX: [&str; 2] = [
    "DROP INDEX claims_unpaid_due",
    "CREATE INDEX claims_due ON claims (organisation_id, status, due_on, id)",
];

/// The same EXPLAIN (custom plan) with `PREVIOUS_INDEX` in place of the partial index, inside a
/// transaction rolled back after: what the partial index changed, leaving the database as it
/// was.
pub fn explain_previous(url: &str, sql: &str, org: &str, today: NaiveDate) -> Result<String> {
    let execute = execute(org, today);
    let split = format!("SELECT '{SPLIT}'");
    let mut statements = vec!["BEGIN"];
    statements.extend(PREVIOUS_INDEX);
    let prepare = prepare(sql);
    statements.extend([prepare.as_str(), &execute, &split, &execute, "ROLLBACK"]);
    let out = psql_session(url, &statements, Duration::from_secs(120))?;
    match out.split_once(SPLIT) {
        Some((_, plan)) => Ok(plan.trim().to_owned()),
        None => bail!("EXPLAIN with the previous index printed: {out}"),
    }
}

/// "Planning Time" and "Execution Time" of an EXPLAIN ANALYZE, in ms.
pub fn times(plan: &str) -> (Option<f64>, Option<f64>) {
    let find = |label: &str| {
        plan.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|rest| rest.trim().trim_end_matches("ms").trim().parse().ok())
    };
    (find("Planning Time:"), find("Execution Time:"))
}

/// The plan's nodes, outermost first, without their figures: "Limit > Sort > Bitmap Heap
/// Scan on claims > Bitmap Index Scan on claims_due".
pub fn shape(plan: &str) -> String {
    plan.lines()
        .filter_map(|l| {
            let t = l.trim_start().trim_start_matches("->").trim();
            let node = t.split("  (").next()?.trim();
            let first = node.chars().next()?;
            (first.is_ascii_uppercase()
                && !node.contains(':')
                && (l.trim_start().starts_with("->") || !l.starts_with(' ')))
            .then(|| node.to_owned())
        })
        .collect::<Vec<_>>()
        .join(" > ")
}

/// How many claims the table holds, by status.
pub fn by_status(url: &str) -> Result<Vec<(String, u64)>> {
    let out = psql(
        url,
        "SELECT status, count(*) FROM claims GROUP BY status ORDER BY count(*) DESC",
    )?;
    Ok(out
        .lines()
        .filter_map(|l| {
            let (s, n) = l.split_once('|')?;
            Some((s.to_owned(), n.parse().ok()?))
        })
        .collect())
}

pub fn seed(url: &str, org: &str, work: &str, people: &[String], count: usize) -> Result<f64> {
    let start = std::time::Instant::now();
    let today = chrono::Utc::now().date_naive();
    let statements = seed_statements(org, work, people, today, count);
    let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
    psql_session(url, &refs, Duration::from_secs(900))?;
    psql_session(
        url,
        &["VACUUM ANALYZE claims", "VACUUM ANALYZE claim_lines"],
        Duration::from_secs(900),
    )?;
    let secs = start.elapsed().as_secs_f64();
    log(format!(
        "inserted {count} claims and their lines with SQL, then VACUUM ANALYZE, in {secs:.1} s"
    ));
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_mirror_selects_every_column_of_a_claim_row_in_due_order() {
        let sql = mirror_sql();
        assert!(sql.starts_with("SELECT \"claims\".\"id\", \"claims\".\"participant_id\","));
        assert!(sql.contains("\"claims\".\"version\" FROM \"claims\" WHERE"));
        assert!(sql.contains("AND \"claims\".\"status\" IN ('submitted', 'approved')) AND"));
        assert!(sql.ends_with("ORDER BY \"claims\".\"due_on\" ASC, \"claims\".\"id\" ASC LIMIT $3"));
        assert!(matches_mirror(&sql, &sql));
        assert!(matches_mirror(&format!(" {sql}\n"), &sql));
        let long = format!("{sql} {}", "x".repeat(400));
        assert!(matches_mirror(&long[..1023], &long));
        assert!(!matches_mirror(&sql[..200], &sql));
        assert!(!matches_mirror("", &sql));
        assert!(!matches_mirror(&sql.replace("< $2", "< $9"), &sql));
    }

    #[test]
    fn the_seed_names_the_payroll_and_quotes_what_it_is_given() {
        let s = seed_statements(
            "o'1",
            "w",
            &["p1".into(), "p2".into()],
            day("2026-12-02"),
            9,
        );
        assert_eq!(s.len(), 3);
        assert!(s[0].contains("setseed"));
        assert!(s[1].contains("ARRAY['p1', 'p2']::text[]"));
        assert!(s[1].contains("WHERE id = 'o''1'"));
        assert!(s[1].contains("generate_series(1, 9)"));
        assert!(s[1].contains("DATE '2026-12-02' - 365"));
        assert!(s[2].starts_with("INSERT INTO claim_lines"));
    }

    fn claim(id: &str, due: &str, status: &str) -> Value {
        json!({ "id": id, "due_on": due, "status": status, "lines": [{ "kind": "participation" }] })
    }

    #[test]
    fn an_answer_must_be_the_expected_overdue_claims_in_due_order_with_lines() {
        let today = day("2026-12-02");
        let want = vec!["a".to_owned(), "b".to_owned()];
        let good = json!([
            claim("a", "2026-01-01", "submitted"),
            claim("b", "2026-01-01", "approved")
        ]);
        assert_eq!(check(&good, &want, today).unwrap(), 2);
        let swapped = json!([
            claim("b", "2026-01-01", "approved"),
            claim("a", "2026-01-01", "submitted")
        ]);
        assert!(check(&swapped, &want, today).is_err());
        let not_due = json!([
            claim("a", "2026-01-01", "submitted"),
            claim("b", "2026-12-02", "approved")
        ]);
        assert!(check(&not_due, &want, today).is_err());
        let backwards = json!([
            claim("a", "2026-02-01", "submitted"),
            claim("b", "2026-01-01", "approved")
        ]);
        assert!(check(&backwards, &want, today).is_err());
        let paid = json!([
            claim("a", "2026-01-01", "submitted"),
            claim("b", "2026-01-01", "paid")
        ]);
        assert!(check(&paid, &want, today).is_err());
        let mut bare = good.clone();
        bare[1]["lines"] = json!([]);
        assert!(check(&bare, &want, today).is_err());
        assert!(check(&json!({ "items": [] }), &want, today).is_err());
    }

    const PLAN: &str = "Limit  (cost=1.1..2.2 rows=200 width=300) (actual time=12.1..12.3 rows=200 loops=1)
  Buffers: shared hit=1234
  ->  Sort  (cost=1.1..2.2 rows=18000 width=300) (actual time=12.1..12.2 rows=200 loops=1)
        Sort Key: due_on, id
        Sort Method: top-N heapsort  Memory: 150kB
        ->  Bitmap Heap Scan on claims  (cost=1.1..2.2 rows=18000 width=300) (actual time=1.2..9.8 rows=18400 loops=1)
              Recheck Cond: ((organisation_id = $1) AND (status = ANY ($2)) AND (due_on < $3))
              ->  Bitmap Index Scan on claims_due  (cost=0.00..1.1 rows=18000 width=0) (actual time=1.0..1.0 rows=18400 loops=1)
Planning Time: 0.250 ms
Execution Time: 12.412 ms";

    #[test]
    fn a_plan_s_times_and_shape_are_read() {
        assert_eq!(times(PLAN), (Some(0.25), Some(12.412)));
        assert_eq!(times("nothing"), (None, None));
        assert_eq!(
            shape(PLAN),
            "Limit > Sort > Bitmap Heap Scan on claims > Bitmap Index Scan on claims_due"
        );
    }
}
