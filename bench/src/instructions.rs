//! Instructions per request, counted by callgrind: the service runs under valgrind and answers
//! a number of requests of one kind between zeroing its counters and dumping them. Unlike a
//! rate, the count is the same for the same binary and input whatever else the machine is
//! doing, so it compares two builds, or REST with GraphQL, without the machine's drift. It
//! counts the service's own instructions in user space: the kernel's work (sockets, wake-ups)
//! and PostgreSQL's are not in it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::procs::{ensure_tool, log, run_ok};
use crate::server::{Server, ServerConfig};

/// One kind of request: its name and how to send one (checking the answer).
pub type Kind<'a> = (&'a str, &'a dyn Fn(&Server) -> Result<()>);

/// Starts the server of `cfg` under callgrind, sends each kind `warmup` times and then `n`
/// times between zeroing and dumping the counters, and returns the instructions per request
/// of each kind.
pub fn per_request(
    cfg: &ServerConfig,
    dir: &Path,
    n: u32,
    warmup: u32,
    kinds: &[Kind],
) -> Result<Vec<(String, f64)>> {
    if n == 0 {
        bail!("no requests to count");
    }
    ensure_tool("valgrind", &["valgrind"])?;
    let out_dir = dir.join("callgrind");
    std::fs::create_dir_all(&out_dir)?;
    let cfg = ServerConfig {
        wrapper: vec![
            "valgrind".into(),
            "--tool=callgrind".into(),
            format!(
                "--callgrind-out-file={}",
                out_dir.join("callgrind.%p").display()
            ),
        ],
        ..*cfg
    };
    let mut srv = Server::start(&cfg, "coproduce-callgrind", dir)?;
    let pid = srv.svc.pid().to_string();
    let mut counts = Vec::new();
    for (label, send) in kinds {
        for _ in 0..warmup {
            send(&srv)?;
        }
        let before = dumps(&out_dir)?;
        control(&["-z", &pid])?;
        for _ in 0..n {
            send(&srv)?;
        }
        control(&["-d", &pid])?;
        let dump = newest_after(&out_dir, &before)?;
        let text = std::fs::read_to_string(&dump)
            .with_context(|| format!("cannot read {}", dump.display()))?;
        let total = summary(&text)
            .with_context(|| format!("no instruction count in {}", dump.display()))?;
        let per = total as f64 / f64::from(n);
        log(format!(
            "callgrind {label}: {per:.0} instructions per request"
        ));
        counts.push(((*label).to_owned(), per));
    }
    srv.svc.stop();
    Ok(counts)
}

fn control(args: &[&str]) -> Result<()> {
    run_ok(
        Command::new("callgrind_control").args(args),
        Duration::from_secs(60),
    )
    .map(|_| ())
}

fn dumps(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect())
}

/// The dump written since `before` was listed (callgrind writes it before it answers).
fn newest_after(dir: &Path, before: &[PathBuf]) -> Result<PathBuf> {
    for _ in 0..100 {
        if let Some(dump) = dumps(dir)?.into_iter().find(|p| !before.contains(p)) {
            return Ok(dump);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("callgrind wrote no dump in {}", dir.display())
}

/// The instructions a dump counts: its `summary:` line (`totals:` in some versions).
fn summary(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_count_of_a_dump() {
        let dump = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\n\nfn=(1) main\n3 10\n\nsummary: 324057163\n\n\ntotals: 324057163\n";
        assert_eq!(super::summary(dump), Some(324_057_163));
        assert_eq!(super::summary("events: Ir\n"), None);
    }
}
