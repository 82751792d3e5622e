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

/// One libpq connection with the list's statement prepared.
struct Conn(*mut pq::PGconn);

impl Drop for Conn {
    fn drop(&mut self) {
        // SAFETY: the pointer came from PQconnectdb and is finished once, here.
        unsafe { pq::PQfinish(self.0) }
    }
}

fn error_of(conn: *mut pq::PGconn) -> String {
    // SAFETY: libpq returns a string owned by the connection, valid until its next call.
    unsafe { CStr::from_ptr(pq::PQerrorMessage(conn)) }
        .to_string_lossy()
        .into_owned()
}

impl Conn {
    fn open(url: &str) -> Result<Self> {
        let url = CString::new(url)?;
        // SAFETY: a valid C string; the result is owned by `Conn` from here on.
        let conn = Conn(unsafe { pq::PQconnectdb(url.as_ptr()) });
        // SAFETY: a connection object from PQconnectdb, even a failed one, may be asked its status.
        if unsafe { pq::PQstatus(conn.0) } != pq::ConnStatusType::CONNECTION_OK {
            bail!("floor: cannot connect: {}", error_of(conn.0));
        }
        let sql = CString::new(LIST_SQL.replace(":limit", "$1"))?;
        // SAFETY: valid C strings; the result is cleared below.
        let res = unsafe {
            pq::PQprepare(
                conn.0,
                STATEMENT.as_ptr(),
                sql.as_ptr(),
                1,
                std::ptr::null(),
            )
        };
        // SAFETY: `res` is a result of PQprepare (null only when out of memory, which
        // PQresultStatus answers as a fatal error).
        let ok = unsafe { pq::PQresultStatus(res) } == pq::ExecStatusType::PGRES_COMMAND_OK;
        // SAFETY: cleared once.
        unsafe { pq::PQclear(res) };
        if !ok {
            bail!("floor: cannot prepare the list: {}", error_of(conn.0));
        }
        Ok(conn)
    }

    /// The page as `{"items":[{column: text, ...}, ...]}`.
    fn page(&self, out: &mut Vec<u8>) -> Result<()> {
        let limit = c"51";
        let params = [limit.as_ptr()];
        // SAFETY: the statement was prepared on this connection with one text parameter.
        let res = unsafe {
            pq::PQexecPrepared(
                self.0,
                STATEMENT.as_ptr(),
                1,
                params.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                0,
            )
        };
        struct Cleared(*mut pq::PGresult);
        impl Drop for Cleared {
            fn drop(&mut self) {
                // SAFETY: the result of PQexecPrepared, cleared once.
                unsafe { pq::PQclear(self.0) }
            }
        }
        let res = Cleared(res);
        // SAFETY: `res.0` is valid until `res` drops at the end of this function; every string
        // libpq hands out below lives as long as it.
        unsafe {
            if pq::PQresultStatus(res.0) != pq::ExecStatusType::PGRES_TUPLES_OK {
                bail!("floor: the list failed: {}", error_of(self.0));
            }
            let rows = pq::PQntuples(res.0).min(PAGE);
            let fields = pq::PQnfields(res.0);
            out.extend_from_slice(b"{\"items\":[");
            for r in 0..rows {
                if r > 0 {
                    out.push(b',');
                }
                out.push(b'{');
                for f in 0..fields {
                    if f > 0 {
                        out.push(b',');
                    }
                    string(out, CStr::from_ptr(pq::PQfname(res.0, f)).to_bytes());
                    out.push(b':');
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
