//! The floor: the least an HTTP server on the service's own stack (actix-web and libpq, the
//! database call on the worker thread, as the service makes it) can do to answer the list of 50.
//! It runs pgbench's prepared SELECT and writes the rows as JSON strings: no token, no limits,
//! no log, no typed rows, no domain. What it reaches beside pgbench in the same run is the most
//! any service answering the page from PostgreSQL per request can expect on this machine.
//!
//! It runs as its own process (`bench floor --port P --db-url U --workers N`), started under the
//! name `coproduce-floor` so that its CPU is counted as the service's.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::{anyhow, bail, Result};
use pq_sys as pq;

use crate::pg::LIST_SQL;

/// The page's rows (the SELECT asks one more, as the service does, to know if a next page follows).
const PAGE: c_int = 50;
const STATEMENT: &CStr = c"floor_list";

/// One libpq connection with the list's statement prepared, and the page's keys (`"id":`,
/// ...) written once from the statement's description rather than for every row.
struct Conn {
    conn: *mut pq::PGconn,
    keys: Vec<Vec<u8>>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        // SAFETY: the pointer came from PQconnectdb and is finished once, here.
        unsafe { pq::PQfinish(self.conn) }
    }
}

/// A result of libpq's, cleared when dropped.
struct Answer(*mut pq::PGresult);

impl Drop for Answer {
    fn drop(&mut self) {
        // SAFETY: a result libpq returned, cleared once (PQclear accepts null).
        unsafe { pq::PQclear(self.0) }
    }
}

impl Conn {
    fn open(url: &str) -> Result<Self> {
        let url = CString::new(url)?;
        let mut conn = Conn {
            // SAFETY: a valid C string; the connection is owned by `Conn` from here on.
            conn: unsafe { pq::PQconnectdb(url.as_ptr()) },
            keys: Vec::new(),
        };
        // SAFETY: a connection object from PQconnectdb, even a failed one, may be asked its status.
        if unsafe { pq::PQstatus(conn.conn) } != pq::ConnStatusType::CONNECTION_OK {
            bail!("floor: cannot connect: {}", conn.error());
        }
        let sql = CString::new(LIST_SQL.replace(":limit", "$1"))?;
        // SAFETY: valid C strings on an open connection.
        let prepared = unsafe {
            pq::PQprepare(
                conn.conn,
                STATEMENT.as_ptr(),
                sql.as_ptr(),
                1,
                std::ptr::null(),
            )
        };
        conn.answer(
            prepared,
            pq::ExecStatusType::PGRES_COMMAND_OK,
            "prepare the list",
        )?;
        // SAFETY: the statement was prepared on this connection just above.
        let described = unsafe { pq::PQdescribePrepared(conn.conn, STATEMENT.as_ptr()) };
        let described = conn.answer(
            described,
            pq::ExecStatusType::PGRES_COMMAND_OK,
            "describe the list",
        )?;
        // SAFETY: field numbers below PQnfields; the names live as long as `described`.
        conn.keys = (0..unsafe { pq::PQnfields(described.0) })
            .map(|f| {
                let mut key = Vec::new();
                string(&mut key, unsafe {
                    CStr::from_ptr(pq::PQfname(described.0, f)).to_bytes()
                });
                key.push(b':');
                key
            })
            .collect();
        Ok(conn)
    }

    fn error(&self) -> String {
        // SAFETY: libpq returns a string owned by the connection, valid until its next call.
        unsafe { CStr::from_ptr(pq::PQerrorMessage(self.conn)) }
            .to_string_lossy()
            .into_owned()
    }

    /// Takes a result of this connection's, refusing it unless it has the status wanted.
    fn answer(
        &self,
        res: *mut pq::PGresult,
        want: pq::ExecStatusType,
        what: &str,
    ) -> Result<Answer> {
        let res = Answer(res);
        // SAFETY: a result of this connection's (null only when out of memory, which
        // PQresultStatus answers as a fatal error).
        if unsafe { pq::PQresultStatus(res.0) } != want {
            bail!("floor: cannot {what}: {}", self.error());
        }
        Ok(res)
    }

    /// The page as `{"items":[{column: text, ...}, ...]}`.
    fn page(&self, out: &mut Vec<u8>) -> Result<()> {
        let limit = c"51";
        let params = [limit.as_ptr()];
        // SAFETY: the statement was prepared on this connection with one text parameter.
        let res = unsafe {
            pq::PQexecPrepared(
                self.conn,
                STATEMENT.as_ptr(),
                1,
                params.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                0,
            )
        };
        let res = self.answer(res, pq::ExecStatusType::PGRES_TUPLES_OK, "read the list")?;
        // SAFETY: `res.0` is valid until `res` drops at the end of this function, and every
        // value libpq hands out below lives as long as it; row and field numbers stay below
        // PQntuples and the described fields (the statement's columns, `keys`).
        unsafe {
            let rows = pq::PQntuples(res.0).min(PAGE);
            out.extend_from_slice(b"{\"items\":[");
            for r in 0..rows {
                if r > 0 {
                    out.push(b',');
                }
                out.push(b'{');
                for (f, key) in (0..).zip(&self.keys) {
                    if f > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(key);
                    if pq::PQgetisnull(res.0, r, f) == 1 {
                        out.extend_from_slice(b"null");
                    } else {
                        let value = pq::PQgetvalue(res.0, r, f) as *const c_char as *const u8;
                        let len = usize::try_from(pq::PQgetlength(res.0, r, f)).unwrap_or(0);
                        string(out, std::slice::from_raw_parts(value, len));
                    }
                }
                out.push(b'}');
            }
            out.extend_from_slice(b"]}");
        }
        Ok(())
    }
}

/// A JSON string of UTF-8 text (PostgreSQL's text results are UTF-8 in the bench's database).
fn string(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'"');
    for &b in text {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

thread_local! {
    /// Each worker's own connection, opened at its first request (the service's pool hands
    /// each worker one in the same way while it answers).
    static CONN: RefCell<Option<Conn>> = const { RefCell::new(None) };
}

async fn list(url: web::Data<String>) -> HttpResponse {
    let mut body = Vec::with_capacity(32 * 1024);
    let answered = CONN.with(|slot| -> Result<()> {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = Some(Conn::open(&url)?);
        }
        let conn = slot.as_ref().ok_or_else(|| anyhow!("no connection"))?;
        let done = conn.page(&mut body);
        if done.is_err() {
            *slot = None;
        }
        done
    });
    match answered {
        Ok(()) => HttpResponse::Ok()
            .content_type("application/json")
            .body(body),
        Err(e) => HttpResponse::InternalServerError().body(format!("{e:#}")),
    }
}

/// Serves `GET /floor` on 127.0.0.1:`port` until killed.
pub fn serve(port: u16, db_url: String, workers: usize) -> Result<()> {
    // The connection is checked once before listening, so that a wrong URL fails at start.
    drop(Conn::open(&db_url)?);
    let url = web::Data::new(db_url);
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(url.clone())
                .route("/floor", web::get().to(list))
        })
        .workers(workers.max(1))
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::string;

    #[test]
    fn text_is_written_as_a_json_string() {
        let mut out = Vec::new();
        string(&mut out, "a\"b\\c\nd é".as_bytes());
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, "a\"b\\c\nd é");
    }
}
