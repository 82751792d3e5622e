//! Child processes with time limits, stopped on drop; free ports; memory sampling from /proc.

use std::fs::File;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub fn log(msg: impl AsRef<str>) {
    eprintln!(
        "[bench {}] {}",
        chrono::Local::now().format("%H:%M:%S"),
        msg.as_ref()
    );
}

/// Runs a command to its end within `limit`, capturing its output; kills it when the limit passes.
pub fn run(cmd: &mut Command, limit: Duration) -> Result<Output> {
    let what = format!("{:?}", cmd.get_program());
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(child.stdout.take().map(|s| Box::new(s) as _));
    let err = drain(child.stderr.take().map(|s| Box::new(s) as _));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{what} did not finish within {} s", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// `run`, failing unless the command exits 0; returns its standard output.
pub fn run_ok(cmd: &mut Command, limit: Duration) -> Result<String> {
    let what = format!("{:?}", cmd.get_program());
    let out = run(cmd, limit)?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs Debian packages when `program` is missing.
pub fn ensure_tool(program: &str, packages: &[&str]) -> Result<()> {
    if have(program) {
        return Ok(());
    }
    log(format!("installing {} with apt-get", packages.join(" ")));
    let install = || {
        run_ok(
            Command::new("apt-get")
                .args(["install", "-y", "-qq"])
                .args(packages)
                .env("DEBIAN_FRONTEND", "noninteractive"),
            Duration::from_secs(600),
        )
    };
    if install().is_err() {
        run_ok(
            Command::new("apt-get").args(["update", "-qq"]),
            Duration::from_secs(600),
        )?;
        install()?;
    }
    Ok(())
}

/// A port the kernel says is free on 127.0.0.1 just now.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// What a signal (Ctrl-C, SIGTERM) must still clean up: the services running, by (pid, whether
/// it leads its own process group), and the database to drop (admin URL, statement).
static LIVE: std::sync::Mutex<Vec<(u32, bool)>> = std::sync::Mutex::new(Vec::new());
pub static DROP_ON_SIGNAL: std::sync::Mutex<Option<(String, String)>> = std::sync::Mutex::new(None);

fn send(sig: &str, pid: u32, group: bool) {
    let target = if group {
        format!("-{pid}")
    } else {
        pid.to_string()
    };
    let _ = Command::new("kill")
        .args([sig, "--", &target])
        .stderr(Stdio::null())
        .status();
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: i32) {
    // Only an atomic store: all a signal handler may safely do here.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

extern "C" {
    // The C library's signal(2), which std links anyway.
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
}

/// On SIGINT or SIGTERM (which would end the program without running destructors): stops what
/// is running, drops the database, exits 130. A watcher thread does the work; the handler only
/// sets a flag.
pub fn clean_up_on_signal() {
    const SIGINT: i32 = 2;
    const SIGTERM: i32 = 15;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
    }
    std::thread::spawn(|| {
        while !INTERRUPTED.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let live: Vec<(u32, bool)> = LIVE.lock().map(|l| l.clone()).unwrap_or_default();
        log(format!(
            "interrupted: stopping what was started ({} services)",
            live.len()
        ));
        for &(pid, group) in &live {
            send("-TERM", pid, group);
        }
        std::thread::sleep(Duration::from_secs(2));
        for &(pid, group) in &live {
            send("-KILL", pid, group);
        }
        if let Some((url, sql)) = DROP_ON_SIGNAL.lock().ok().and_then(|mut d| d.take()) {
            let _ = run(
                Command::new("psql").args([url.as_str(), "-qAtX", "-c", sql.as_str()]),
                Duration::from_secs(30),
            );
        }
        std::process::exit(130);
    });
}

/// A long-running child (server, PostGraphile) with its output in a log file. Dropping it stops
/// it: SIGTERM (to its whole process group when it has one), then SIGKILL after 10 s.
pub struct Service {
    pub name: String,
    pub log: PathBuf,
    child: Child,
    group: bool,
    stopped: bool,
}

impl Service {
    pub fn spawn(name: &str, mut cmd: Command, log: &Path, group: bool) -> Result<Self> {
        let file = File::create(log)?;
        cmd.stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        if group {
            cmd.process_group(0);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        if let Ok(mut live) = LIVE.lock() {
            live.push((child.id(), group));
        }
        Ok(Self {
            name: name.to_owned(),
            log: log.to_owned(),
            child,
            group,
            stopped: false,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The last lines of its log, for error messages.
    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    fn signal(&self, sig: &str) {
        send(sig, self.pid(), self.group);
    }

    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        if self.alive() {
            self.signal("-TERM");
            let start = Instant::now();
            while self.alive() && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // The group's other members (node's cluster workers) may outlive the leader.
        self.signal("-KILL");
        let _ = self.child.wait();
        let pid = self.pid();
        if let Ok(mut live) = LIVE.lock() {
            live.retain(|(p, _)| *p != pid);
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits until `ready` holds, failing when the service exits or `limit` passes.
pub fn wait_ready(svc: &mut Service, limit: Duration, ready: impl Fn() -> bool) -> Result<()> {
    let start = Instant::now();
    loop {
        if !svc.alive() {
            bail!("{} exited at start:\n{}", svc.name, svc.tail());
        }
        if ready() {
            return Ok(());
        }
        if start.elapsed() > limit {
            bail!(
                "{} not ready within {} s:\n{}",
                svc.name,
                limit.as_secs(),
                svc.tail()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A field of /proc/<pid>/status in kB (VmRSS, VmHWM).
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Samples a process's VmRSS every 200 ms on a thread of its own until `finish`.
pub struct RssSampler {
    pid: u32,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<u64>>,
}

impl RssSampler {
    pub fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut max = 0;
            while !flag.load(Ordering::Relaxed) {
                max = max.max(status_kb(pid, "VmRSS").unwrap_or(0));
                std::thread::sleep(Duration::from_millis(200));
            }
            max
        });
        Self {
            pid,
            stop,
            handle: Some(handle),
        }
    }

    /// The peak in MB: the highest sample, or VmHWM when the kernel saw a higher one.
    pub fn finish(mut self) -> f64 {
        let hwm = status_kb(self.pid, "VmHWM").unwrap_or(0);
        self.stop.store(true, Ordering::Relaxed);
        let max = self.handle.take().and_then(|h| h.join().ok()).unwrap_or(0);
        max.max(hwm) as f64 / 1024.0
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A temporary folder, removed on drop unless the run failed (then its logs are kept).
pub struct WorkDir {
    pub path: PathBuf,
    pub keep: bool,
}

impl WorkDir {
    pub fn new(prefix: &str) -> Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}",
            std::process::id(),
            chrono::Local::now().format("%H%M%S")
        ));
        std::fs::create_dir_all(&path)?;
        Ok(Self { path, keep: true })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.keep {
            log(format!("logs kept in {}", self.path.display()));
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The load averages of /proc/loadavg (1, 5, 15 min).
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// 48 random characters from the kernel, for a JWT secret.
pub fn random_secret() -> Result<String> {
    let mut bytes = [0u8; 24];
    File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// CPU that processes other than the benchmark's own took while a load ran: every process's
/// user+system ticks from /proc/<pid>/stat, sampled every 250 ms (so short-lived compiler runs
/// count too). "Ours" are the server, PostgreSQL (but its backends for other databases), the load
/// generators, node and this program.
pub struct CpuMonitor {
    stop: Arc<AtomicBool>,
    start: Instant,
    handle: Option<JoinHandle<Ticks>>,
}

/// CPU ticks over a run: others', the service's (processes named `coproduce`, or the list's
/// floor server, `coproduce-floor`) and PostgreSQL's
/// for the benchmark's database.
#[derive(Default)]
struct Ticks {
    others: u64,
    server: u64,
    postgres: u64,
}

/// What [`CpuMonitor::finish_all`] measured.
pub struct CpuUse {
    /// Others' CPU, % of all cores over the run.
    pub others_pct: f64,
    /// CPU seconds the service took.
    pub server_s: f64,
    /// CPU seconds PostgreSQL took (the benchmark's backends and its own helpers).
    pub postgres_s: f64,
}

const OURS: &[&str] = &[
    "coproduce",
    "coproduce-floor",
    "postgres",
    "wrk",
    "pgbench",
    "node",
    "bench",
];

/// Whether a process is the benchmark's: by name, except that a PostgreSQL backend serving
/// another database (someone's tests) is not, while PostgreSQL's own helpers are.
fn ours(pid: u32, name: &str) -> bool {
    if name != "postgres" {
        return OURS.contains(&name);
    }
    let title = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let client =
        title.contains("127.0.0.1(") || title.contains("[local]") || title.contains("::1(");
    !client || title.contains("coproduce_bench")
}

fn proc_ticks() -> Vec<(u32, String, u64)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (open, close) = (stat.find('(')?, stat.rfind(')')?);
        let name = stat[open + 1..close].to_owned();
        let rest: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let ticks = rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?;
        Some((pid, name, ticks))
    })
    .collect()
}

impl CpuMonitor {
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let base: std::collections::HashMap<u32, u64> =
                proc_ticks().into_iter().map(|(p, _, t)| (p, t)).collect();
            let mut last: std::collections::HashMap<u32, (String, bool, u64)> = Default::default();
            loop {
                for (pid, name, ticks) in proc_ticks() {
                    let ours = ours(pid, &name);
                    last.insert(pid, (name, ours, ticks));
                }
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            let mut ticks = Ticks::default();
            for (pid, (name, ours, t)) in &last {
                let used = t.saturating_sub(base.get(pid).copied().unwrap_or(0));
                match (ours, name.as_str()) {
                    (false, _) => ticks.others += used,
                    (true, "coproduce" | "coproduce-floor") => ticks.server += used,
                    (true, "postgres") => ticks.postgres += used,
                    (true, _) => {}
                }
            }
            ticks
        });
        Self {
            stop,
            start: Instant::now(),
            handle: Some(handle),
        }
    }

    /// Others' CPU as a percentage of all cores over the run.
    pub fn finish(self) -> f64 {
        self.finish_all().others_pct
    }

    /// Others' share of the CPU, and the seconds the service and PostgreSQL took.
    pub fn finish_all(mut self) -> CpuUse {
        self.stop.store(true, Ordering::Relaxed);
        let ticks = self
            .handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let hz = 100.0; // USER_HZ, 100 on Linux
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        CpuUse {
            others_pct: 100.0 * ticks.others as f64
                / hz
                / (self.start.elapsed().as_secs_f64() * cores),
            server_s: ticks.server as f64 / hz,
            postgres_s: ticks.postgres as f64 / hz,
        }
    }
}

impl Drop for CpuMonitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// (--quiet-max %, --quiet-wait s), set once by main.
pub static QUIET: std::sync::OnceLock<(f64, u64)> = std::sync::OnceLock::new();

/// Before a measured run: waits (up to --quiet-wait s) until other processes take at most
/// --quiet-max % of the machine over 2 s, so that someone else's build skews fewer figures.
pub fn wait_quiet() {
    let (max, wait) = QUIET.get().copied().unwrap_or((25.0, 0));
    if wait == 0 {
        return;
    }
    let start = Instant::now();
    loop {
        let mon = CpuMonitor::start();
        std::thread::sleep(Duration::from_secs(2));
        let other = mon.finish();
        if other <= max {
            return;
        }
        if start.elapsed() > Duration::from_secs(wait) {
            log(format!(
                "others still take {other:.0}% CPU after {wait} s; measuring anyway"
            ));
            return;
        }
        if start.elapsed() < Duration::from_secs(3) {
            log(format!(
                "others take {other:.0}% CPU; waiting up to {wait} s for at most {max:.0}%"
            ));
        }
    }
}

/// Runs `job(i)` for every i below `count`, `workers` at a time on threads of their own,
/// stopping at the first error; the results in the order of i.
pub fn in_parallel<T: Send>(
    count: usize,
    workers: usize,
    job: impl Fn(usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let done: Vec<Result<Vec<(usize, T)>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers.clamp(1, count.max(1)))
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            break;
                        }
                        match job(i) {
                            Ok(t) => mine.push((i, t)),
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                return Err(e);
                            }
                        }
                    }
                    Ok(mine)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| bail!("a worker thread panicked"))
            })
            .collect()
    });
    let mut all = Vec::with_capacity(count);
    for mine in done {
        all.extend(mine?);
    }
    all.sort_by_key(|(i, _)| *i);
    if all.len() != count {
        bail!("{} of {count} jobs done", all.len());
    }
    Ok(all.into_iter().map(|(_, t)| t).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_jobs_come_back_in_order_and_the_first_error_stops_them() {
        let squares = in_parallel(100, 4, |i| Ok(i * i)).unwrap();
        assert_eq!(squares, (0..100).map(|i| i * i).collect::<Vec<_>>());
        assert!(in_parallel(0, 4, Ok).unwrap().is_empty());
        let failed = in_parallel(100, 4, |i| if i == 7 { bail!("job 7") } else { Ok(i) });
        assert!(format!("{:#}", failed.unwrap_err()).contains("job 7"));
    }
}
