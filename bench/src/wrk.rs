//! wrk runs: a Lua script (written from strings here) whose `done()` prints one JSON line.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::procs::{log, run_ok, wait_quiet, CpuMonitor};

/// What one load did.
#[derive(Debug, Clone, Default)]
pub struct Load {
    pub rps: f64,
    pub requests: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub socket_errors: u64,
    /// Answers with status 400 or above (wrk's `errors.status`).
    pub non2xx: u64,
    /// Answers by status, when the script tallies them.
    pub statuses: Vec<(u16, u64)>,
    /// The smallest and largest body answered, in bytes, when the script tallies.
    pub body_bytes: Option<(u64, u64)>,
    /// What a script counted in its global `counts` table (name -> number), summed over the
    /// threads, by name.
    pub counts: Vec<(String, u64)>,
    /// CPU that other processes on the machine took during the run, % of all cores.
    pub other_cpu: f64,
    /// CPU seconds the service (processes named `coproduce`) took during the run.
    pub server_cpu_s: f64,
    /// CPU seconds PostgreSQL took during the run.
    pub postgres_cpu_s: f64,
}

impl Load {
    pub fn errors(&self) -> String {
        format!("{} non-2xx, {} socket", self.non2xx, self.socket_errors)
    }

    /// Milliseconds of CPU per answered request: the service's and PostgreSQL's.
    pub fn cpu_ms_per_request(&self) -> (f64, f64) {
        let n = self.requests.max(1) as f64;
        (
            1000.0 * self.server_cpu_s / n,
            1000.0 * self.postgres_cpu_s / n,
        )
    }

    /// Slices of one load run at different times, as one. The list alternates REST's slices
    /// with GraphQL's, so that the machine's drift from one minute to the next falls on both
    /// alike. The rate is the requests over the seconds of all slices; p50, p90, p99 and the
    /// maximum are the highest slice's, an upper bound on the whole's (no slice has more than
    /// 1 % of its answers above its p99, so the whole has none above the highest); counts and
    /// CPU are summed, others' CPU weighted by time.
    pub fn combine(slices: &[Load]) -> Load {
        let seconds = |l: &Load| {
            if l.rps > 0.0 {
                l.requests as f64 / l.rps
            } else {
                0.0
            }
        };
        let total_s: f64 = slices.iter().map(seconds).sum();
        let requests: u64 = slices.iter().map(|l| l.requests).sum();
        let highest = |f: fn(&Load) -> f64| slices.iter().map(f).fold(0.0, f64::max);
        let mut statuses: Vec<(u16, u64)> = Vec::new();
        let mut counts: Vec<(String, u64)> = Vec::new();
        for l in slices {
            for (status, n) in &l.statuses {
                match statuses.iter_mut().find(|(s, _)| s == status) {
                    Some((_, total)) => *total += n,
                    None => statuses.push((*status, *n)),
                }
            }
            for (name, n) in &l.counts {
                match counts.iter_mut().find(|(k, _)| k == name) {
                    Some((_, total)) => *total += n,
                    None => counts.push((name.clone(), *n)),
                }
            }
        }
        statuses.sort();
        counts.sort();
        Load {
            rps: if total_s > 0.0 {
                requests as f64 / total_s
            } else {
                0.0
            },
            requests,
            p50_ms: highest(|l| l.p50_ms),
            p90_ms: highest(|l| l.p90_ms),
            p99_ms: highest(|l| l.p99_ms),
            max_ms: highest(|l| l.max_ms),
            socket_errors: slices.iter().map(|l| l.socket_errors).sum(),
            non2xx: slices.iter().map(|l| l.non2xx).sum(),
            statuses,
            body_bytes: slices
                .iter()
                .filter_map(|l| l.body_bytes)
                .reduce(|(lo, hi), (l, h)| (lo.min(l), hi.max(h))),
            counts,
            other_cpu: if total_s > 0.0 {
                slices.iter().map(|l| l.other_cpu * seconds(l)).sum::<f64>() / total_s
            } else {
                0.0
            },
            server_cpu_s: slices.iter().map(|l| l.server_cpu_s).sum(),
            postgres_cpu_s: slices.iter().map(|l| l.postgres_cpu_s).sum(),
        }
    }

    /// A number the script counted (0 when it never did).
    pub fn count(&self, name: &str) -> u64 {
        self.counts
            .iter()
            .find(|(k, _)| k == name)
            .map_or(0, |(_, n)| *n)
    }

    /// Answered with 200, and every answer was (at least one, and no socket error).
    pub fn all_200(&self) -> bool {
        self.statuses.iter().all(|(s, _)| *s == 200)
            && self.statuses.iter().map(|(_, n)| n).sum::<u64>() > 0
            && self.non2xx == 0
            && self.socket_errors == 0
    }

    pub fn statuses(&self) -> String {
        self.statuses
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// An Authorization header's value for a bearer token, as a Lua string literal.
pub fn lua_bearer(token: &str) -> String {
    lua_str(&format!("Bearer {token}"))
}

/// Quotes text as a Lua string literal.
pub fn lua_str(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out.push('"');
    out
}

/// What wrk sends: method, headers, body, or a `request()` function of its own.
#[derive(Default)]
pub struct Script {
    pub method: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Lua defining `request()` (and `init(args)` when it needs wrk's arguments; the global
    /// `bench_thread` is the thread's number there, from 1), `delay()` (see `paced`), or
    /// `response()`. A global table `counts` of name -> number is summed into `Load::counts`.
    pub custom: Option<String>,
    /// Count the answers by status and note the smallest and largest body (defines
    /// `response()`, which costs wrk some CPU; a `response()` of the custom Lua is still called
    /// after it).
    pub tally: bool,
}

const DONE: &str = r#"
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("bench_thread", #threads)
end
function done(summary, latency, requests)
  local e, parts, total, least, most = summary.errors, {}, {}, -1, -1
  local counted, named = {}, {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then for k, v in pairs(s) do total[k] = (total[k] or 0) + v end end
    local c = t:get("counts")
    if c then for k, v in pairs(c) do counted[k] = (counted[k] or 0) + v end end
    local lo, hi = t:get("least_body"), t:get("most_body")
    if lo and (least < 0 or lo < least) then least = lo end
    if hi and hi > most then most = hi end
  end
  for k, v in pairs(total) do table.insert(parts, string.format('"%d":%d', k, v)) end
  for k, v in pairs(counted) do table.insert(named, string.format('"%s":%d', k, v)) end
  io.write(string.format('BENCH_JSON {"requests":%d,"rps":%.2f,"p50_ms":%.3f,"p90_ms":%.3f,' ..
    '"p99_ms":%.3f,"max_ms":%.3f,"socket_errors":%d,"non2xx":%d,"statuses":{%s},' ..
    '"least_body":%d,"most_body":%d,"counts":{%s}}\n',
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, e.status, table.concat(parts, ","), least, most,
    table.concat(named, ",")))
end
"#;

const TALLY: &str = r#"
statuses = {}
local bench_response = response
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local n = body and #body or 0
  if least_body == nil or n < least_body then least_body = n end
  if most_body == nil or n > most_body then most_body = n end
  if bench_response then bench_response(status, headers, body) end
end
"#;

/// Milliseconds between two sends of one wrk thread, for `rate` requests/s over `threads`.
pub fn pace_interval_ms(rate: f64, threads: u32) -> f64 {
    1000.0 * f64::from(threads) / rate
}

/// A `delay()` that paces the load at `rate` requests/s in all over `threads` wrk threads.
/// wrk calls `delay()` on a connection before each of its requests and sends once that many
/// ms have passed. Each thread keeps a timetable of send slots `pace_interval_ms` apart and
/// gives the connection asking the next free slot, so its connections take turns and each
/// sends once every connections/rate s, whatever the answers took (a fixed wait of
/// connections/rate s would add the answer's time and fall short of the rate). A slot that
/// passes with no connection free is lost, not made up later: this is a paced but closed
/// loop, and a slow server gets fewer requests. The clock is CLOCK_MONOTONIC through LuaJIT's
/// ffi (wrk is built on LuaJIT).
pub fn paced(rate: f64, threads: u32) -> String {
    format!(
        r#"
local ffi = require("ffi")
ffi.cdef[[
typedef struct {{ long tv_sec; long tv_nsec; }} bench_timespec;
int clock_gettime(int clock, bench_timespec *tp);
]]
local clock, interval, next_slot = ffi.new("bench_timespec"), {interval:.6}, nil
local function now_ms()
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
function delay()
  local now = now_ms()
  if next_slot == nil or next_slot < now then next_slot = now end
  local wait = next_slot - now
  next_slot = next_slot + interval
  return math.floor(wait + 0.5)
end
"#,
        interval = pace_interval_ms(rate, threads)
    )
}

impl Script {
    pub fn get(headers: &[(&str, &str)]) -> Self {
        Self {
            method: "GET",
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Self::default()
        }
    }

    pub fn graphql(token: Option<&str>, query: &str) -> Self {
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        if let Some(t) = token {
            headers.push(("Authorization".to_owned(), format!("Bearer {t}")));
        }
        Self {
            method: "POST",
            headers,
            body: Some(serde_json::json!({ "query": query }).to_string()),
            ..Self::default()
        }
    }

    /// The script's text, as written for wrk.
    pub fn lua(&self) -> String {
        let mut s = format!("wrk.method = {}\n", lua_str(self.method));
        for (k, v) in &self.headers {
            s.push_str(&format!("wrk.headers[{}] = {}\n", lua_str(k), lua_str(v)));
        }
        if let Some(b) = &self.body {
            s.push_str(&format!("wrk.body = {}\n", lua_str(b)));
        }
        if let Some(c) = &self.custom {
            s.push_str(c);
        }
        if self.tally {
            s.push_str(TALLY);
        }
        s.push_str(DONE);
        s
    }
}

pub struct Wrk {
    pub threads: u32,
    pub connections: u32,
    pub duration: u64,
    /// Seconds of load before the measured run (not counted); 0 = none.
    pub warmup: u64,
    /// Wait for a quiet machine first (`procs::wait_quiet`).
    pub quiet: bool,
}

impl Wrk {
    /// Runs wrk against `url` (on 127.0.0.1) with the script; `args` go to the script's init().
    pub fn run(
        &self,
        dir: &Path,
        name: &str,
        url: &str,
        script: &Script,
        args: &[&str],
    ) -> Result<Load> {
        let lua = dir.join(format!("{name}.lua"));
        std::fs::write(&lua, script.lua())?;
        let go = |secs: u64| -> Result<String> {
            let mut cmd = Command::new("wrk");
            cmd.arg(format!("-t{}", self.threads))
                .arg(format!("-c{}", self.connections))
                .arg(format!("-d{secs}s"))
                .args(["--timeout", "10s", "--latency", "-s"])
                .arg(&lua)
                .arg(url);
            if !args.is_empty() {
                cmd.arg("--").args(args);
            }
            run_ok(&mut cmd, Duration::from_secs(secs + 60))
        };
        if self.quiet {
            wait_quiet();
        }
        if self.warmup > 0 {
            go(self.warmup).with_context(|| format!("wrk warm-up for {name}"))?;
        }
        log(format!(
            "wrk {name}: -t{} -c{} -d{}s {url}",
            self.threads, self.connections, self.duration
        ));
        let cpu = CpuMonitor::start();
        let out = go(self.duration).with_context(|| format!("wrk {name}"))?;
        let used = cpu.finish_all();
        let other_cpu = used.others_pct;
        let mut load =
            parse(&out).with_context(|| format!("wrk {name} printed no result: {out}"))?;
        load.other_cpu = other_cpu;
        load.server_cpu_s = used.server_s;
        load.postgres_cpu_s = used.postgres_s;
        log(format!(
            "  -> {:.0}/s ({} requests), p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, {}; others took {other_cpu:.0}% CPU",
            load.rps,
            load.requests,
            load.p50_ms,
            load.p90_ms,
            load.p99_ms,
            load.errors()
        ));
        Ok(load)
    }
}

fn parse(out: &str) -> Result<Load> {
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("BENCH_JSON "))
        .context("no BENCH_JSON line")?;
    let v: serde_json::Value = serde_json::from_str(line)?;
    let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
    let mut statuses: Vec<(u16, u64)> = v["statuses"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, n)| Some((k.parse().ok()?, n.as_u64()?)))
                .collect()
        })
        .unwrap_or_default();
    statuses.sort();
    let mut counts: Vec<(String, u64)> = v["counts"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, n)| Some((k.clone(), n.as_u64()?)))
                .collect()
        })
        .unwrap_or_default();
    counts.sort();
    Ok(Load {
        rps: f("rps"),
        requests: v["requests"].as_u64().unwrap_or(0),
        p50_ms: f("p50_ms"),
        p90_ms: f("p90_ms"),
        p99_ms: f("p99_ms"),
        max_ms: f("max_ms"),
        socket_errors: v["socket_errors"].as_u64().unwrap_or(0),
        non2xx: v["non2xx"].as_u64().unwrap_or(0),
        statuses,
        body_bytes: match (v["least_body"].as_i64(), v["most_body"].as_i64()) {
            (Some(lo), Some(hi)) if lo >= 0 && hi >= 0 => Some((lo as u64, hi as u64)),
            _ => None,
        },
        counts,
        other_cpu: 0.0,
        server_cpu_s: 0.0,
        postgres_cpu_s: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_strings_escape_quotes_backslashes_and_control_characters() {
        assert_eq!(
            lua_str(r#"{"query":"{ a }"}"#),
            r#""{\"query\":\"{ a }\"}""#
        );
        assert_eq!(lua_str("a\\b\nc"), "\"a\\\\b\\010c\"");
    }

    #[test]
    fn slices_combine_into_one_load() {
        let a = Load {
            rps: 100.0,
            requests: 1000,
            p99_ms: 5.0,
            statuses: vec![(200, 1000)],
            other_cpu: 2.0,
            server_cpu_s: 1.0,
            ..Load::default()
        };
        let b = Load {
            rps: 50.0,
            requests: 1000,
            p99_ms: 9.0,
            statuses: vec![(200, 990), (503, 10)],
            non2xx: 10,
            other_cpu: 8.0,
            server_cpu_s: 2.0,
            ..Load::default()
        };
        let whole = Load::combine(&[a, b]);
        // 2000 requests in 10 s + 20 s.
        assert!((whole.rps - 2000.0 / 30.0).abs() < 1e-9);
        assert_eq!(whole.requests, 2000);
        assert_eq!(whole.p99_ms, 9.0);
        assert_eq!(whole.statuses, vec![(200, 1990), (503, 10)]);
        assert_eq!(whole.non2xx, 10);
        assert!((whole.other_cpu - (2.0 * 10.0 + 8.0 * 20.0) / 30.0).abs() < 1e-9);
        assert_eq!(whole.server_cpu_s, 3.0);
    }

    #[test]
    fn the_done_line_is_read_with_its_statuses() {
        let out = "Running 1s test\nBENCH_JSON {\"requests\":10,\"rps\":9.5,\"p50_ms\":1.5,\"p90_ms\":2,\"p99_ms\":3.25,\"max_ms\":4,\"socket_errors\":1,\"non2xx\":2,\"statuses\":{\"429\":2,\"200\":8}}\n";
        let l = parse(out).unwrap();
        assert_eq!((l.requests, l.non2xx, l.socket_errors), (10, 2, 1));
        assert_eq!(l.p99_ms, 3.25);
        assert_eq!(l.statuses, vec![(200, 8), (429, 2)]);
        assert_eq!(l.body_bytes, None);
        assert!(parse("no line").is_err());
    }

    #[test]
    fn the_body_sizes_are_read_when_tallied() {
        let line = |lo: i64, hi: i64| {
            format!("BENCH_JSON {{\"requests\":2,\"rps\":2,\"p50_ms\":1,\"p90_ms\":1,\"p99_ms\":1,\"max_ms\":1,\"socket_errors\":0,\"non2xx\":0,\"statuses\":{{\"200\":2}},\"least_body\":{lo},\"most_body\":{hi}}}")
        };
        assert_eq!(
            parse(&line(41000, 41234)).unwrap().body_bytes,
            Some((41000, 41234))
        );
        assert_eq!(parse(&line(-1, -1)).unwrap().body_bytes, None);
    }

    #[test]
    fn a_script_s_counts_are_read_by_name() {
        let out = "BENCH_JSON {\"requests\":4,\"rps\":4,\"p50_ms\":1,\"p90_ms\":1,\"p99_ms\":1,\"max_ms\":1,\"socket_errors\":0,\"non2xx\":0,\"statuses\":{\"200\":4},\"least_body\":10,\"most_body\":12,\"counts\":{\"submitted\":2,\"approved\":2}}";
        let l = parse(out).unwrap();
        assert_eq!(
            l.counts,
            vec![("approved".to_owned(), 2), ("submitted".to_owned(), 2)]
        );
        assert_eq!((l.count("submitted"), l.count("paid")), (2, 0));
        assert!(l.all_200());
        let mut bad = l.clone();
        bad.statuses.push((409, 1));
        assert!(!bad.all_200());
        assert!(!Load::default().all_200());
    }

    #[test]
    fn the_tally_calls_the_script_s_own_response_and_setup_numbers_the_threads() {
        let mut s = Script::get(&[]);
        s.custom = Some("function response(status, headers, body) end\n".to_owned());
        s.tally = true;
        let text = s.lua();
        let own = text.find("function response(status").unwrap();
        let keep = text.find("local bench_response = response").unwrap();
        assert!(
            own < keep,
            "the tally keeps the script's response() before replacing it"
        );
        assert!(text.contains("if bench_response then bench_response(status, headers, body) end"));
        assert!(text.contains("thread:set(\"bench_thread\", #threads)"));
        assert!(text.contains("t:get(\"counts\")"));
    }

    #[test]
    fn pacing_spreads_the_rate_over_the_threads() {
        assert_eq!(pace_interval_ms(1000.0, 2), 2.0);
        assert_eq!(pace_interval_ms(500.0, 1), 2.0);
        assert_eq!(pace_interval_ms(4000.0, 2), 0.5);
        let lua = paced(1000.0, 2);
        assert!(lua.contains("function delay()"));
        assert!(lua.contains("interval, next_slot = ffi.new(\"bench_timespec\"), 2.000000, nil"));
        // Inside a script, after the method and headers, before done().
        let mut s = Script::get(&[("Authorization", "Bearer t")]);
        s.custom = Some(lua);
        s.tally = true;
        let text = s.lua();
        let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("no {needle}"));
        assert!(at("wrk.headers") < at("function delay()"));
        assert!(at("function delay()") < at("function response("));
        assert!(at("function response(") < at("function done("));
    }

    #[test]
    fn the_script_sets_method_headers_and_body() {
        let lua = Script::graphql(Some("t"), "{ x }").lua();
        assert!(lua.contains("wrk.method = \"POST\""));
        assert!(lua.contains("wrk.headers[\"Authorization\"] = \"Bearer t\""));
        assert!(lua.contains("wrk.body = \"{\\\"query\\\":\\\"{ x }\\\"}\""));
        assert!(!lua.contains("function response"));
    }
}
