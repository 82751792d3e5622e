//! The database: one portable schema over SQLite (embedded, the default) or PostgreSQL
//! (production), chosen from the URL scheme. Owns connections, the pool, migrations and rows.

/// One page of a boxed query in keyset order of a table's text id column: the rows whose id
/// sorts after the cursor, in id order, one more than the page size so the caller can tell
/// that more exist (`Page::from_rows`). Every list goes through it.
macro_rules! keyset_page {
    ($query:expr, $id:expr, $page:expr) => {{
        let page: $crate::domain::page::PageRequest = $page;
        let mut query = $query
            .order($id.asc())
            .limit(i64::from(page.limit) + 1)
            .into_boxed();
        if let Some(after) = page.after {
            query = query.filter($id.gt(after.to_string()));
        }
        query
    }};
}

pub mod api_clients;
pub mod claims;
pub mod contracts;
pub mod events;
pub mod feedback;
pub mod glossary;
pub mod idempotency;
pub mod members;
pub mod opportunities;
pub mod organisations;
pub mod participants;
pub mod reports;
pub mod schema;
pub mod sessions;
mod snapshot;
pub mod webhooks;

pub use snapshot::Handoff;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::R2D2Connection;
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::AppError;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Taken while migrating so that instances starting together against one PostgreSQL queue up
/// instead of racing (the value is arbitrary but fixed: "coproduce" in ASCII, truncated).
const MIGRATION_LOCK: i64 = 0x636f_7072_6f64;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://relative/path.db`, `sqlite:///absolute/path.db` or `sqlite:path.db`.
    Sqlite(PathBuf),
    /// `postgres://...` or `postgresql://...`, passed to libpq as it is.
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"));
        match path {
            Some(p) if !p.is_empty() && p != ":memory:" => Ok(DatabaseUrl::Sqlite(PathBuf::from(p))),
            Some(_) => bail!("DATABASE_URL names no SQLite file (in-memory databases are not shared between connections)"),
            None => bail!("DATABASE_URL must start with sqlite:// or postgres:// (got `{}`)", redact(url)),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    fn connect(&self, busy_timeout: Duration) -> Result<DbConnection, ConnectError> {
        match self {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgresql)
                .map_err(ConnectError::Connection),
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn =
                    SqliteConnection::establish(&path).map_err(ConnectError::Connection)?;
                // Per connection: wait for a writer rather than fail, enforce references, and
                // fsync less often (safe with WAL).
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                    busy_timeout.as_millis()
                ))
                .map_err(ConnectError::Query)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// Hides a password in a URL before it reaches a message.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// A pooled connection that remembers when it failed at the connection level, so the pool
/// drops it instead of lending it out again after the database restarts.
pub struct ManagedConnection {
    conn: DbConnection,
    broken: bool,
    /// The breaker's epoch when it was opened: one opened before an outage is not lent again.
    epoch: u64,
    breaker: Breaker,
}

/// Knows when PostgreSQL cannot be reached, so that requests are answered 503 at once instead
/// of each waiting out the pool's timeout. It opens on the first failed connection or lost
/// connection, and a background thread then tries to connect every [`PROBE_EVERY`] until one
/// succeeds, which closes it. Connections opened before it opened are discarded when next taken
/// from the pool (they point at a server that went away). SQLite never opens it.
#[derive(Clone)]
pub struct Breaker(std::sync::Arc<BreakerState>);

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker")
            .field("open", &self.is_open())
            .finish_non_exhaustive()
    }
}

struct BreakerState {
    /// PostgreSQL's URL, to probe; `None` on SQLite.
    url: Option<DatabaseUrl>,
    open: std::sync::atomic::AtomicBool,
    probing: std::sync::atomic::AtomicBool,
    epoch: std::sync::atomic::AtomicU64,
    opened: std::sync::atomic::AtomicU64,
}

/// How often the breaker's probe tries to connect while the database is unreachable.
pub const PROBE_EVERY: Duration = Duration::from_millis(250);

impl Breaker {
    fn new(url: &DatabaseUrl) -> Self {
        use std::sync::atomic::{AtomicBool, AtomicU64};
        Self(std::sync::Arc::new(BreakerState {
            url: matches!(url, DatabaseUrl::Postgres(_)).then(|| url.clone()),
            open: AtomicBool::new(false),
            probing: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            opened: AtomicU64::new(0),
        }))
    }

    pub fn is_open(&self) -> bool {
        self.0.open.load(std::sync::atomic::Ordering::Acquire)
    }

    /// How many times it has opened since the start.
    pub fn times_opened(&self) -> u64 {
        self.0.opened.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn epoch(&self) -> u64 {
        self.0.epoch.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The database could not be reached: answer at once from now on, and probe until it can.
    fn trip(&self, cause: &dyn std::fmt::Display) {
        use std::sync::atomic::Ordering;
        let Some(url) = self.0.url.clone() else {
            return;
        };
        self.0.epoch.fetch_add(1, Ordering::AcqRel);
        if !self.0.open.swap(true, Ordering::AcqRel) {
            self.0.opened.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%cause, "database unreachable: answering 503 until it is back");
        }
        if self.0.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let breaker = self.clone();
        let spawned = std::thread::Builder::new()
            .name("database-probe".to_owned())
            .spawn(move || {
                loop {
                    match url
                        .connect(Duration::ZERO)
                        .map(|mut c| c.batch_execute("SELECT 1"))
                    {
                        Ok(Ok(())) => break,
                        Ok(Err(e)) => tracing::debug!(error = %e, "database probe failed"),
                        Err(e) => tracing::debug!(error = %e, "database probe failed"),
                    }
                    std::thread::sleep(PROBE_EVERY);
                }
                breaker.0.open.store(false, Ordering::Release);
                breaker.0.probing.store(false, Ordering::Release);
                tracing::info!("database reachable again");
            });
        if spawned.is_err() {
            // No thread to probe with: close again, so requests find out for themselves.
            self.0.open.store(false, Ordering::Release);
            self.0.probing.store(false, Ordering::Release);
        }
    }

    fn refuse(&self) -> Result<(), AppError> {
        if self.is_open() {
            return Err(AppError::Unavailable(
                "the database cannot be reached; checking again in the background".to_owned(),
            ));
        }
        Ok(())
    }
}

/// A connection from the pool that was opened since the breaker last opened.
fn checkout(pool: &Pool, breaker: &Breaker) -> Result<r2d2::PooledConnection<Manager>, AppError> {
    breaker.refuse()?;
    let deadline = std::time::Instant::now() + pool.connection_timeout();
    let mut stale = 0;
    while stale <= pool.max_size() {
        // Waits in short steps, so that a request waiting for a connection when the database
        // goes away is answered as soon as the breaker opens, not at the pool's timeout.
        let step = deadline
            .saturating_duration_since(std::time::Instant::now())
            .min(PROBE_EVERY);
        let mut managed = match pool.get_timeout(step) {
            Ok(m) => m,
            Err(e) => {
                breaker.refuse()?;
                if std::time::Instant::now() >= deadline {
                    return Err(e.into());
                }
                continue;
            }
        };
        if managed.epoch >= breaker.epoch() {
            return Ok(managed);
        }
        managed.broken = true;
        stale += 1;
    }
    Err(AppError::Unavailable(
        "no database connection opened since the database came back".to_owned(),
    ))
}

/// As [`checkout`], but only a connection that is idle now.
fn try_checkout(pool: &Pool, breaker: &Breaker) -> Option<r2d2::PooledConnection<Manager>> {
    for _ in 0..=pool.max_size() {
        let mut managed = pool.try_get()?;
        if managed.epoch >= breaker.epoch() {
            return Some(managed);
        }
        managed.broken = true;
    }
    None
}

/// Opens connections for r2d2. Written by hand so libpq's own message reaches the log, and so
/// the backend is the one the URL names rather than the first that happens to accept it.
pub struct Manager {
    url: DatabaseUrl,
    busy_timeout: Duration,
    /// PostgreSQL's `statement_timeout` for pooled connections; zero is none.
    statement_timeout: Duration,
    queries: QueryCounter,
    breaker: Breaker,
}

/// Counts the statements every pooled connection sends, for `/metrics` (and the tests that
/// check nested GraphQL lists cost one query per level).
#[derive(Debug, Clone, Default)]
pub struct QueryCounter(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl QueryCounter {
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl diesel::connection::Instrumentation for QueryCounter {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        if let diesel::connection::InstrumentationEvent::StartQuery { .. } = event {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = ManagedConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<ManagedConnection, ConnectError> {
        let epoch = self.breaker.epoch();
        let mut conn = self.url.connect(self.busy_timeout)?;
        if let (DbConnection::Postgresql(c), false) = (&mut conn, self.statement_timeout.is_zero())
        {
            // No statement runs longer than this, and no transaction stays open and idle
            // longer: a runaway query cannot hold a connection or its locks for ever.
            let ms = self.statement_timeout.as_millis();
            c.batch_execute(&format!(
                "SET statement_timeout = {ms}; SET idle_in_transaction_session_timeout = {}",
                ms.saturating_mul(2)
            ))
            .map_err(ConnectError::Query)?;
        }
        conn.set_instrumentation(self.queries.clone());
        Ok(ManagedConnection {
            conn,
            broken: false,
            epoch,
            breaker: self.breaker.clone(),
        })
    }

    fn is_valid(&self, conn: &mut ManagedConnection) -> Result<(), ConnectError> {
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(ConnectError::Query)
    }

    fn has_broken(&self, conn: &mut ManagedConnection) -> bool {
        conn.broken || std::thread::panicking() || conn.conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<Manager>;

/// Pool settings.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    pub max_size: u32,
    pub timeout: Duration,
    pub sqlite_busy_timeout: Duration,
    /// PostgreSQL's `statement_timeout` on pooled connections (zero: none).
    pub statement_timeout: Duration,
}

/// The database handle the service layer works through.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: Backend,
    queries: QueryCounter,
    /// One permit per pooled connection, handed out first come, first served: callers queue
    /// here fairly instead of racing for the pool on blocking threads (which starves some and
    /// spends threads on waiting).
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    /// SQLite takes one writer at a time. Writes queue here, holding no connection, so that
    /// writes waiting out another process's lock (a backup, a second instance) cannot take
    /// every pooled connection and stall the reads. `None` on PostgreSQL.
    writer: Option<std::sync::Arc<tokio::sync::Semaphore>>,
    wait: Duration,
    breaker: Breaker,
}

/// Pool figures for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    pub size: u32,
    pub idle: u32,
    pub max_size: u32,
    /// Statements sent since the start.
    pub queries: u64,
}

impl Db {
    /// Opens the database, applies pending migrations (holding a lock on PostgreSQL) and builds
    /// the pool.
    pub fn open(url: &str, options: PoolOptions) -> anyhow::Result<Self> {
        let url = DatabaseUrl::parse(url)?;
        if let DatabaseUrl::Sqlite(path) = &url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create the folder {}", dir.display()))?;
            }
        }
        let mut conn = url
            .connect(options.sqlite_busy_timeout)
            .with_context(|| format!("cannot connect to {}", describe(&url)))?;
        if let DbConnection::Sqlite(c) = &mut conn {
            // WAL lets readers work while one connection writes; set once, before the pool opens.
            c.batch_execute("PRAGMA journal_mode = WAL;")
                .context("cannot switch SQLite to WAL")?;
        }
        migrate(&mut conn)?;
        drop(conn);
        let queries = QueryCounter::default();
        let breaker = Breaker::new(&url);
        let pool = r2d2::Pool::builder()
            .max_size(options.max_size)
            .min_idle(Some(options.max_size.min(4)))
            .connection_timeout(options.timeout)
            .test_on_check_out(false)
            .error_handler(Box::new(LogErrors(breaker.clone())))
            .build_unchecked(Manager {
                url: url.clone(),
                busy_timeout: options.sqlite_busy_timeout,
                statement_timeout: options.statement_timeout,
                queries: queries.clone(),
                breaker: breaker.clone(),
            });
        Ok(Db {
            pool,
            backend: url.backend(),
            queries,
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(options.max_size as usize)),
            writer: (url.backend() == Backend::Sqlite)
                .then(|| std::sync::Arc::new(tokio::sync::Semaphore::new(1))),
            wait: options.timeout,
            breaker,
        })
    }

    /// Whether the database is known to be unreachable now, and how often it has been.
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            size: state.connections,
            idle: state.idle_connections,
            max_size: self.pool.max_size(),
            queries: self.queries.get(),
        }
    }

    /// Runs a short read. When a pooled connection is idle it runs right here, on the HTTP
    /// worker thread: the query is short, and handing it to another thread and back cost more
    /// than the query itself (measured: 0.165 against 0.104 ms of server CPU per 50-row page,
    /// 8,168 against 12,105 requests/s, see BENCHMARKS.md). There are several HTTP workers per
    /// core for that reason. When no connection is idle, the work queues fairly for one on the
    /// blocking pool instead, so a worker never sleeps waiting for the pool. Reads never wait on
    /// a writer (PostgreSQL's MVCC, SQLite's WAL), so they cannot stall the worker.
    pub async fn read<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.breaker.refuse()?;
        if let Some(mut managed) = try_checkout(&self.pool, &self.breaker) {
            return run_on(&mut managed, work);
        }
        self.on_blocking_pool(None, work).await
    }

    /// Runs a long read (a report over a year of records) on the blocking pool, never on the
    /// HTTP worker, in one read-only transaction so that every query of it sees the same
    /// snapshot (PostgreSQL: repeatable read; SQLite: a deferred transaction under WAL), with
    /// room in memory for its sorts and hashes (PostgreSQL's `work_mem`, for this transaction
    /// only) and no just-in-time compilation (which costs a report's queries more than it
    /// saves them).
    pub async fn read_snapshot<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.on_blocking_pool(None, move |conn| {
            conn.transaction::<T, AppError, _>(|conn| {
                snapshot::begin_long_read(conn)?;
                work(conn)
            })
        })
        .await
    }

    /// Runs work that writes, on the blocking pool. A write may wait for a lock (up to SQLite's
    /// busy timeout while another process holds the write lock, as a backup or a second
    /// instance does), and it must not stall the other requests of an HTTP worker meanwhile.
    pub async fn run<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let writer = match &self.writer {
            Some(gate) => Some(
                tokio::time::timeout(self.wait, gate.clone().acquire_owned())
                    .await
                    .map_err(|_| {
                        AppError::Unavailable("timed out waiting for another write".to_owned())
                    })?
                    .map_err(|_| AppError::internal("the write gate is closed"))?,
            ),
            None => None,
        };
        self.on_blocking_pool(writer, work).await
    }

    /// Takes a connection permit (first come, first served), then runs the work on the
    /// blocking pool, holding `writer` (the SQLite write gate, when taken) until it ends.
    async fn on_blocking_pool<T, F>(
        &self,
        writer: Option<tokio::sync::OwnedSemaphorePermit>,
        work: F,
    ) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.breaker.refuse()?;
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                AppError::Unavailable("timed out waiting for a database connection".to_owned())
            })?
            .map_err(|_| AppError::internal("the database permits are closed"))?;
        let (pool, breaker) = (self.pool.clone(), self.breaker.clone());
        tokio::task::spawn_blocking(move || {
            let _permits = (permit, writer);
            let mut managed = checkout(&pool, &breaker)?;
            run_on(&mut managed, work)
        })
        .await
        .map_err(|e| AppError::internal(format!("database task failed: {e}")))?
    }

    /// Runs work in one transaction: all of it is stored, or none of it. The work must not
    /// open a transaction of its own.
    pub async fn transaction<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| match conn {
            // SQLite: take the write lock at BEGIN. A deferred transaction that reads and then
            // writes fails at once with SQLITE_BUSY when another writer got in between, which
            // concurrent applications for the last places would hit. Begun through diesel's
            // transaction manager, so anything inside that opens a transaction of its own (a
            // batch insert does) gets a savepoint.
            DbConnection::Sqlite(c) => {
                use diesel::connection::{AnsiTransactionManager, TransactionManager};
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
                let result = work(conn);
                let DbConnection::Sqlite(c) = conn else {
                    return Err(AppError::internal("the connection changed backend"));
                };
                match result {
                    Ok(value) => match AnsiTransactionManager::commit_transaction(c) {
                        Ok(()) => Ok(value),
                        Err(e) => {
                            let _ = AnsiTransactionManager::rollback_transaction(c);
                            Err(e.into())
                        }
                    },
                    Err(e) => {
                        let _ = AnsiTransactionManager::rollback_transaction(c);
                        Err(e)
                    }
                }
            }
            DbConnection::Postgresql(_) => conn.transaction(work),
        })
        .await
    }
}

/// Runs work on a pooled connection, marking the connection broken when the database went
/// away (and opening the breaker, when the connection itself is lost).
fn run_on<T>(
    managed: &mut r2d2::PooledConnection<Manager>,
    work: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let result = work(&mut managed.conn);
    if let Err(AppError::Unavailable(cause)) = &result {
        managed.broken = true;
        // On PostgreSQL every such error is a lost connection (SQLite never opens it).
        managed.breaker.trip(cause);
    }
    result
}

/// True when every embedded migration has been applied.
pub fn migrations_current(conn: &mut DbConnection) -> Result<bool, AppError> {
    let pending = match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConnection::Postgresql(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    };
    pending
        .map(|p| !p)
        .map_err(|e| AppError::Unavailable(e.to_string()))
}

/// Applies pending migrations; on PostgreSQL under an advisory lock so that concurrent starts
/// take turns (the second finds nothing left to do).
pub fn migrate(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let applied = match conn {
        // SQLite: under the write lock, so instances starting together on one file take turns.
        DbConnection::Sqlite(c) => c
            .immediate_transaction(|c| c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()))
            .map_err(|e: Box<dyn std::error::Error + Send + Sync>| {
                anyhow::anyhow!("migrations failed: {e}")
            })?,
        DbConnection::Postgresql(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .context("cannot take the migration lock")?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len())
                .map_err(|e| anyhow::anyhow!("migrations failed: {e}"));
            let unlock = c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
            let applied = result?;
            unlock.context("cannot release the migration lock")?;
            applied
        }
    };
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(applied)
}

/// Opens one connection and migrates: `coproduce migrate`.
pub fn migrate_url(url: &str) -> anyhow::Result<usize> {
    migrate(&mut connect_url(url)?)
}

/// Opens one connection, for the commands that work outside the server.
pub fn connect_url(url: &str) -> anyhow::Result<DbConnection> {
    let url = DatabaseUrl::parse(url)?;
    if let DatabaseUrl::Sqlite(path) = &url {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
    }
    url.connect(Duration::from_secs(30))
        .with_context(|| format!("cannot connect to {}", describe(&url)))
}

fn describe(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(p) => format!("SQLite at {}", p.display()),
        DatabaseUrl::Postgres(u) => format!("PostgreSQL at {}", redact(u)),
    }
}

/// Converts between the domain's UTC times and the zone-less timestamps both databases store.
pub fn to_db_time(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    t.naive_utc()
}

pub fn from_db_time(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}

/// Reads an id stored as text; a malformed one is a fault in the data, not in the request.
pub fn parse_id<I>(text: &str) -> Result<I, AppError>
where
    I: std::str::FromStr,
    I::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e| AppError::internal(format!("stored id `{text}` is not a UUID: {e}")))
}

#[derive(Debug)]
/// Logs a failed connection and opens the breaker.
struct LogErrors(Breaker);

impl r2d2::HandleError<ConnectError> for LogErrors {
    fn handle_error(&self, error: ConnectError) {
        tracing::warn!(%error, "database connection failed");
        if matches!(error, ConnectError::Connection(_)) {
            self.0.trip(&error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_is_chosen_from_the_url_scheme() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/coproduce.db").ok(),
            Some(DatabaseUrl::Sqlite(PathBuf::from("data/coproduce.db")))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/c.db").ok(),
            Some(DatabaseUrl::Sqlite(PathBuf::from("/var/lib/c.db")))
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(DatabaseUrl::parse("mysql://u@h/db").is_err());
        assert!(DatabaseUrl::parse("sqlite::memory:").is_err());
    }

    #[test]
    fn passwords_never_reach_messages() {
        let err = DatabaseUrl::parse("mongodb://me:secret@host/db").expect_err("refused");
        assert!(!err.to_string().contains("secret"));
        assert_eq!(
            redact("postgres://u:pw@h:5432/d"),
            "postgres://***@h:5432/d"
        );
    }
}
