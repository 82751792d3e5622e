//! A long read split over two connections that see one snapshot, so that a report's two
//! heaviest halves run at once on PostgreSQL: the first transaction exports its snapshot
//! (`pg_export_snapshot`) and the second imports it (`SET TRANSACTION SNAPSHOT`), so both
//! read exactly the same committed data. On SQLite, or with a pool of one connection, the
//! second half runs after the first, in the same transaction.

use std::thread::JoinHandle;

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::{Connection, QueryableByName, RunQueryDsl};

use super::{checkout, run_on, Breaker, Db, DbConnection, Pool};
use crate::error::AppError;

/// The settings of every transaction of a long read: repeatable read, read only, room in
/// memory for sorts and hashes, and no just-in-time compilation (which costs a report's
/// queries more than it saves them).
const LONG_READ: &str = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";
const LONG_READ_SETTINGS: &str = "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off";

/// Begins a long read's transaction settings on a connection inside its transaction.
pub(super) fn begin_long_read(conn: &mut DbConnection) -> Result<(), AppError> {
    if let DbConnection::Postgresql(c) = conn {
        c.batch_execute(&format!("{LONG_READ}; {LONG_READ_SETTINGS}"))?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Exported {
    #[diesel(sql_type = Text)]
    snapshot: String,
}

/// What the first half of a split read holds to start the second and collect its result.
pub struct Handoff<S, U, B> {
    second: Option<B>,
    way: Way<S, U>,
}

enum Way<S, U> {
    /// PostgreSQL with a second connection to spare: the snapshot to share.
    Beside {
        pool: Pool,
        breaker: Breaker,
        snapshot: String,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
        running: Option<JoinHandle<Result<U, AppError>>>,
    },
    /// One after the other, on the first half's connection.
    After { input: Option<S> },
}

impl<S, U, B> Handoff<S, U, B>
where
    S: Send + 'static,
    U: Send + 'static,
    B: FnOnce(&mut DbConnection, S) -> Result<U, AppError> + Send + 'static,
{
    /// Starts the second half with its input: at once on its own connection, or (SQLite) when
    /// [`Handoff::join`] is called.
    pub fn start(&mut self, input: S) {
        let Some(second) = self.second.take() else {
            return;
        };
        match &mut self.way {
            Way::Beside {
                pool,
                breaker,
                snapshot,
                permit,
                running,
            } => {
                let (pool, breaker, snapshot, permit) = (
                    pool.clone(),
                    breaker.clone(),
                    snapshot.clone(),
                    permit.take(),
                );
                *running = Some(std::thread::spawn(move || {
                    let _permit = permit;
                    let mut managed = checkout(&pool, &breaker)?;
                    run_on(&mut managed, |conn| {
                        conn.transaction(|conn| {
                            if let DbConnection::Postgresql(c) = conn {
                                c.batch_execute(&format!(
                                    "{LONG_READ}; SET TRANSACTION SNAPSHOT '{snapshot}'; {LONG_READ_SETTINGS}"
                                ))?;
                            }
                            second(conn, input)
                        })
                    })
                }));
            }
            Way::After { input: slot } => {
                *slot = Some(input);
                self.second = Some(second);
            }
        }
    }

    /// The second half's result (it must have been started).
    pub fn join(mut self, conn: &mut DbConnection) -> Result<U, AppError> {
        match &mut self.way {
            Way::Beside { running, .. } => running
                .take()
                .ok_or_else(|| AppError::internal("the second half of a read was not started"))?
                .join()
                .map_err(|_| AppError::internal("the second half of a read panicked"))?,
            Way::After { input } => {
                let (Some(second), Some(input)) = (self.second.take(), input.take()) else {
                    return Err(AppError::internal(
                        "the second half of a read was not started",
                    ));
                };
                second(conn, input)
            }
        }
    }
}

/// A snapshot id as PostgreSQL writes them (hex digits and dashes): checked before it is
/// written into `SET TRANSACTION SNAPSHOT`, which takes no parameter.
fn snapshot_id_is_plain(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

impl Db {
    /// Runs a long read in two halves that see one snapshot. `first` runs on one connection
    /// and calls [`Handoff::start`] with what `second` needs, then [`Handoff::join`] for its
    /// result; on PostgreSQL `second` meanwhile runs on another connection in a transaction
    /// that imports the first's snapshot, so the two halves use both cores. On SQLite, or
    /// when the pool has a single connection, `second` runs inside `join`, in the first's
    /// transaction.
    pub async fn read_snapshot_split<T, S, U, A, B>(
        &self,
        first: A,
        second: B,
    ) -> Result<T, AppError>
    where
        T: Send + 'static,
        S: Send + 'static,
        U: Send + 'static,
        A: FnOnce(&mut DbConnection, Handoff<S, U, B>) -> Result<T, AppError> + Send + 'static,
        B: FnOnce(&mut DbConnection, S) -> Result<U, AppError> + Send + 'static,
    {
        let beside = self.backend == super::Backend::Postgres && self.pool.max_size() >= 2;
        if !beside {
            return self
                .read_snapshot(move |conn| {
                    first(
                        conn,
                        Handoff {
                            second: Some(second),
                            way: Way::After { input: None },
                        },
                    )
                })
                .await;
        }
        // Both connections' permits at once, so that two split reads cannot each hold one and
        // wait for the other's.
        let permits = tokio::time::timeout(self.wait, self.permits.clone().acquire_many_owned(2))
            .await
            .map_err(|_| {
                AppError::Unavailable("timed out waiting for a database connection".to_owned())
            })?
            .map_err(|_| AppError::internal("the database permits are closed"))?;
        let mut permits = permits;
        let second_permit = permits.split(1);
        self.breaker.refuse()?;
        let (pool, breaker) = (self.pool.clone(), self.breaker.clone());
        tokio::task::spawn_blocking(move || {
            let _permit = permits;
            let mut managed = checkout(&pool, &breaker)?;
            run_on(&mut managed, |conn| {
                conn.transaction(|conn| {
                    begin_long_read(conn)?;
                    let snapshot = match conn {
                        DbConnection::Postgresql(c) => {
                            diesel::sql_query("SELECT pg_export_snapshot() AS snapshot")
                                .get_result::<Exported>(c)?
                                .snapshot
                        }
                        DbConnection::Sqlite(_) => {
                            return Err(AppError::internal("SQLite exports no snapshot"))
                        }
                    };
                    if !snapshot_id_is_plain(&snapshot) {
                        return Err(AppError::internal(format!(
                            "an unexpected snapshot id {snapshot:?}"
                        )));
                    }
                    first(
                        conn,
                        Handoff {
                            second: Some(second),
                            way: Way::Beside {
                                pool: pool.clone(),
                                breaker: breaker.clone(),
                                snapshot,
                                permit: second_permit,
                                running: None,
                            },
                        },
                    )
                })
            })
        })
        .await
        .map_err(|e| AppError::internal(format!("database task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::snapshot_id_is_plain;

    #[test]
    fn only_plain_snapshot_ids_are_written_into_sql() {
        assert!(snapshot_id_is_plain("00000003-0000001B-1"));
        assert!(!snapshot_id_is_plain(""));
        assert!(!snapshot_id_is_plain("1'; DROP TABLE x; --"));
    }
}
