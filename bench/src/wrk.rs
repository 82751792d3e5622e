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
    /// CPU that other processes on the machine took during the run, % of all cores.
    pub other_cpu: f64,
}

impl Load {
    pub fn errors(&self) -> String {
        format!("{} non-2xx, {} socket", self.non2xx, self.socket_errors)
    }

    pub fn statuses(&self) -> String {
        self.statuses
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
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
    /// Lua defining `request()` (and `init(args)` when it needs wrk's arguments).
    pub custom: Option<String>,
    /// Count the answers by status (defines `response()`, which costs wrk some CPU).
    pub tally: bool,
}

const DONE: &str = r#"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local e, parts, total = summary.errors, {}, {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then for k, v in pairs(s) do total[k] = (total[k] or 0) + v end end
  end
  for k, v in pairs(total) do table.insert(parts, string.format('"%d":%d', k, v)) end
  io.write(string.format('BENCH_JSON {"requests":%d,"rps":%.2f,"p50_ms":%.3f,"p90_ms":%.3f,' ..
    '"p99_ms":%.3f,"max_ms":%.3f,"socket_errors":%d,"non2xx":%d,"statuses":{%s}}\n',
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, e.status, table.concat(parts, ",")))
end
"#;

const TALLY: &str = r#"
statuses = {}
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
"#;

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

    fn lua(&self) -> String {
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
        let other_cpu = cpu.finish();
        let mut load =
            parse(&out).with_context(|| format!("wrk {name} printed no result: {out}"))?;
        load.other_cpu = other_cpu;
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
        other_cpu: 0.0,
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
    fn the_done_line_is_read_with_its_statuses() {
        let out = "Running 1s test\nBENCH_JSON {\"requests\":10,\"rps\":9.5,\"p50_ms\":1.5,\"p90_ms\":2,\"p99_ms\":3.25,\"max_ms\":4,\"socket_errors\":1,\"non2xx\":2,\"statuses\":{\"429\":2,\"200\":8}}\n";
        let l = parse(out).unwrap();
        assert_eq!((l.requests, l.non2xx, l.socket_errors), (10, 2, 1));
        assert_eq!(l.p99_ms, 3.25);
        assert_eq!(l.statuses, vec![(200, 8), (429, 2)]);
        assert!(parse("no line").is_err());
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
