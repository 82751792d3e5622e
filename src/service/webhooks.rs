//! Webhooks: endpoints an organisation registers (staff of that organisation, or admins), the
//! deliveries queued for them in the transaction that writes each event, and the deliverer that
//! posts them, signed as the Standard Webhooks specification says, at least once.
//!
//! Several instances on one PostgreSQL each run a deliverer: a delivery is taken with
//! `FOR UPDATE SKIP LOCKED` and leased while it is tried, so in the normal case each event
//! reaches each endpoint once. On SQLite one writer at a time takes deliveries.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;

use super::{events, Services};
use crate::crypto::{DataKeys, Sealed};
use crate::db::webhooks::StoredEndpoint;
use crate::db::{self, DbConnection};
use crate::domain::event::{Event, EventType, NewEvent};
use crate::domain::id::{EventId, OrganisationId, WebhookEndpointId};
use crate::domain::identity::Principal;
use crate::domain::page::{Page, PageRequest};
use crate::domain::webhook::{
    self, is_internal, DeliveryStatus, ReplayInput, RetrySchedule, RotateSecretInput, TargetUrl,
    WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEndpointInput, WebhookEndpointPatch,
    WebhookEndpointWithSecret,
};
use crate::domain::{new_id, now};
use crate::error::AppError;

const NOT_FOUND: AppError = AppError::NotFound("webhook endpoint");
/// Longest text kept of why an attempt failed.
const MAX_ERROR: usize = 500;

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Allow loopback and private targets (tests, or a receiver inside the same network).
    pub allow_internal: bool,
    pub schedule: RetrySchedule,
    /// How often the deliverer looks for due deliveries.
    pub poll: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Deliveries taken at once.
    pub batch: i64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_internal: false,
            schedule: RetrySchedule::default(),
            poll: Duration::from_millis(500),
            timeout: Duration::from_secs(10),
            batch: 32,
        }
    }
}

/// Staff of the organisation that owns the endpoints, or an admin.
fn manages(principal: &Principal, organisation_id: OrganisationId) -> bool {
    principal.is_admin() || (principal.is_staff() && principal.belongs_to(organisation_id))
}

fn context(id: WebhookEndpointId, generation: i32) -> Vec<u8> {
    format!("webhook-secret:{id}:{generation}").into_bytes()
}

fn load(
    conn: &mut DbConnection,
    principal: &Principal,
    id: WebhookEndpointId,
) -> Result<StoredEndpoint, AppError> {
    db::webhooks::find_endpoint(conn, id)?
        .filter(|s| manages(principal, s.endpoint.organisation_id))
        .ok_or(NOT_FOUND)
}

/// Registers an endpoint for the caller's organisation (admins name one). The secret is in
/// the answer, and nowhere else ever again.
pub async fn create(
    services: &Services,
    principal: &Principal,
    input: &WebhookEndpointInput,
) -> Result<WebhookEndpointWithSecret, AppError> {
    let org = owner(principal, input.organisation_id)?;
    let new = input.parse(services.webhooks.allow_internal)?;
    let (principal, keys) = (principal.clone(), services.keys.clone());
    services
        .db
        .transaction(move |conn| {
            if db::organisations::find(conn, org)?.is_none() {
                return Err(AppError::validation(
                    "organisation_id",
                    "no organisation has this id",
                ));
            }
            let at = now();
            let id: WebhookEndpointId = new_id();
            let secret = webhook::new_secret();
            let stored = StoredEndpoint {
                endpoint: WebhookEndpoint {
                    id,
                    organisation_id: org,
                    url: new.url.as_str().to_owned(),
                    event_types: new.event_types,
                    description: new.description,
                    enabled: true,
                    disabled_reason: None,
                    disabled_at: None,
                    previous_secret_expires_at: None,
                    created_by: principal.subject.clone(),
                    created_at: at,
                    updated_at: at,
                    version: 1,
                },
                secret: keys.seal(secret.as_bytes(), &context(id, 1))?,
                previous: None,
                generation: 1,
            };
            db::webhooks::insert_endpoint(conn, &stored)?;
            Ok(WebhookEndpointWithSecret::new(stored.endpoint, secret))
        })
        .await
}

fn owner(
    principal: &Principal,
    organisation_id: Option<OrganisationId>,
) -> Result<OrganisationId, AppError> {
    if principal.is_admin() {
        return organisation_id
            .or(principal.organisation_id)
            .ok_or_else(|| {
                AppError::validation(
                    "organisation_id",
                    "name the organisation the endpoint is for",
                )
            });
    }
    if !principal.is_staff() {
        return Err(AppError::Forbidden(
            "staff of an organisation register its webhooks".to_owned(),
        ));
    }
    let own = principal
        .organisation_id
        .ok_or_else(|| AppError::Forbidden("your token names no organisation".to_owned()))?;
    if organisation_id.is_some_and(|o| o != own) {
        return Err(AppError::Forbidden(
            "staff register webhooks for their own organisation".to_owned(),
        ));
    }
    Ok(own)
}

pub async fn list(
    services: &Services,
    principal: &Principal,
    organisation_id: Option<OrganisationId>,
    page: PageRequest,
) -> Result<Page<WebhookEndpoint>, AppError> {
    let scope = if principal.is_admin() {
        organisation_id
    } else {
        Some(owner(principal, organisation_id)?)
    };
    let rows = services
        .db
        .read(move |conn| db::webhooks::list_endpoints(conn, scope, page))
        .await?;
    let items: Vec<WebhookEndpoint> = rows.into_iter().map(|s| s.endpoint).collect();
    Ok(Page::from_rows(items, page, |e| e.id))
}

pub async fn get(
    services: &Services,
    principal: &Principal,
    id: WebhookEndpointId,
) -> Result<WebhookEndpoint, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| Ok(load(conn, &principal, id)?.endpoint))
        .await
}

/// Changes an endpoint. Enabling a disabled one sends what is queued for it from then on.
pub async fn update(
    services: &Services,
    principal: &Principal,
    id: WebhookEndpointId,
    expected_version: i32,
    patch: &WebhookEndpointPatch,
) -> Result<WebhookEndpoint, AppError> {
    let mut p = crate::domain::validation::Problems::default();
    let url = match patch.url.as_deref() {
        Some(u) => match TargetUrl::parse(u, services.webhooks.allow_internal) {
            Ok(u) => Some(u.as_str().to_owned()),
            Err(message) => {
                p.add("url", message);
                None
            }
        },
        None => None,
    };
    let description = p.optional_text("description", patch.description.as_deref(), 500);
    p.finish(())?;
    let (principal, patch) = (principal.clone(), patch.clone());
    services
        .db
        .transaction(move |conn| {
            let mut s = load(conn, &principal, id)?;
            if s.endpoint.version != expected_version {
                return Err(AppError::PreconditionFailed);
            }
            let e = &mut s.endpoint;
            if let Some(u) = url {
                e.url = u;
            }
            if let Some(mut types) = patch.event_types.clone() {
                types.sort();
                types.dedup();
                e.event_types = types;
            }
            if patch.description.is_some() {
                e.description = description;
            }
            match patch.enabled {
                Some(true) if !e.enabled => {
                    e.enabled = true;
                    e.disabled_at = None;
                    e.disabled_reason = None;
                }
                Some(false) if e.enabled => {
                    e.enabled = false;
                    e.disabled_at = Some(now());
                    e.disabled_reason = Some("disabled by staff".to_owned());
                }
                _ => {}
            }
            e.updated_at = now();
            e.version = expected_version + 1;
            if db::webhooks::update_endpoint_if_version(conn, &s, expected_version)? {
                Ok(s.endpoint)
            } else {
                Err(AppError::PreconditionFailed)
            }
        })
        .await
}

pub async fn delete(
    services: &Services,
    principal: &Principal,
    id: WebhookEndpointId,
) -> Result<(), AppError> {
    let principal = principal.clone();
    services
        .db
        .transaction(move |conn| {
            load(conn, &principal, id)?;
            db::webhooks::delete_endpoint(conn, id)?;
            Ok(())
        })
        .await
}

/// A new secret; the old one keeps signing beside it for the overlap, so receivers can move
/// over without missing an event.
pub async fn rotate_secret(
    services: &Services,
    principal: &Principal,
    id: WebhookEndpointId,
    input: &RotateSecretInput,
) -> Result<WebhookEndpointWithSecret, AppError> {
    let overlap = input.overlap()?;
    let (principal, keys) = (principal.clone(), services.keys.clone());
    services
        .db
        .transaction(move |conn| {
            let mut s = load(conn, &principal, id)?;
            let at = now();
            let expected = s.endpoint.version;
            let generation = s.generation + 1;
            let secret = webhook::new_secret();
            let old = std::mem::replace(
                &mut s.secret,
                keys.seal(secret.as_bytes(), &context(id, generation))?,
            );
            // The old secret is re-sealed for its new place (the previous slot).
            let plain = keys.open(&old, &context(id, s.generation))?;
            s.previous = (overlap > chrono::Duration::zero())
                .then(|| {
                    keys.seal(&plain, &context(id, -generation))
                        .map(|sealed| (sealed, at + overlap))
                })
                .transpose()?;
            s.generation = generation;
            s.endpoint.previous_secret_expires_at = s.previous.as_ref().map(|(_, until)| *until);
            s.endpoint.updated_at = at;
            s.endpoint.version = expected + 1;
            if !db::webhooks::update_endpoint_if_version(conn, &s, expected)? {
                return Err(AppError::PreconditionFailed);
            }
            Ok(WebhookEndpointWithSecret::new(s.endpoint, secret))
        })
        .await
}

/// Sends an event to the endpoint again (the organisation's own events only).
pub async fn replay(
    services: &Services,
    principal: &Principal,
    id: WebhookEndpointId,
    input: &ReplayInput,
) -> Result<WebhookDelivery, AppError> {
    let (principal, event_id) = (principal.clone(), input.event_id);
    services
        .db
        .transaction(move |conn| {
            let s = load(conn, &principal, id)?;
            let org = s.endpoint.organisation_id;
            let event = db::events::find(conn, event_id)?
                .filter(|e| e.organisation_id == org || e.facilitator_organisation_id == Some(org))
                .ok_or_else(|| {
                    AppError::validation("event_id", "names no event of this organisation")
                })?;
            db::webhooks::replay(conn, id, event.id, now())
        })
        .await
}

pub async fn attempts(
    services: &Services,
    principal: &Principal,
    id: WebhookEndpointId,
    page: PageRequest,
) -> Result<Page<WebhookAttempt>, AppError> {
    let principal = principal.clone();
    let rows = services
        .db
        .read(move |conn| {
            load(conn, &principal, id)?;
            db::webhooks::attempts(conn, id, page)
        })
        .await?;
    Ok(Page::from_rows(rows, page, |a| a.id))
}

pub async fn deliveries(
    services: &Services,
    principal: &Principal,
    id: WebhookEndpointId,
    page: PageRequest,
) -> Result<Page<WebhookDelivery>, AppError> {
    let principal = principal.clone();
    let rows = services
        .db
        .read(move |conn| {
            load(conn, &principal, id)?;
            db::webhooks::deliveries(conn, id, page)
        })
        .await?;
    Ok(Page::from_rows(rows, page, |d| d.id))
}

// --- Delivery -------------------------------------------------------------------------------

/// Queues an event for the endpoints that want it; part of writing the event.
pub(super) fn fan_out(conn: &mut DbConnection, event: &Event) -> Result<(), AppError> {
    db::webhooks::fan_out(conn, event)?;
    Ok(())
}

/// One delivery to try, with what it needs.
struct Job {
    delivery: WebhookDelivery,
    endpoint: Arc<StoredEndpoint>,
    event: Arc<Event>,
}

/// The deliverer's own state: one HTTP client per receiver address, kept so connections to a
/// receiver are reused from one delivery to the next.
#[derive(Default)]
pub struct Deliverer {
    clients: Mutex<HashMap<(String, SocketAddr), reqwest::Client>>,
}

/// Most clients kept; past it the cache starts again.
const MAX_CLIENTS: usize = 1_000;

impl Deliverer {
    /// A client that connects `host` to `addr` only (the address checked), following no
    /// redirect.
    fn client(
        &self,
        host: &str,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<reqwest::Client, String> {
        let key = (host.to_owned(), addr);
        let mut clients = self
            .clients
            .lock()
            .map_err(|_| "the client cache is poisoned".to_owned())?;
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .resolve(host, addr)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("Coproduce-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        if clients.len() >= MAX_CLIENTS {
            clients.clear();
        }
        clients.insert(key, client.clone());
        Ok(client)
    }
}

/// Runs until the process ends: takes due deliveries and tries them, a batch at a time.
pub async fn run_deliverer(services: Services) {
    let settings = services.webhooks.clone();
    let deliverer = Deliverer::default();
    loop {
        match deliver_due(&services, &deliverer).await {
            // A full batch: there may be more waiting.
            Ok(n) if n as i64 >= settings.batch => continue,
            Ok(_) => {}
            Err(AppError::Unavailable(_)) => {}
            Err(error) => tracing::warn!(%error, "webhook deliverer"),
        }
        tokio::time::sleep(settings.poll).await;
    }
}

/// Takes the due deliveries, tries each once (all at the same time) and records how each went,
/// together; returns how many were tried.
pub async fn deliver_due(services: &Services, deliverer: &Deliverer) -> Result<usize, AppError> {
    let settings = services.webhooks.clone();
    let due = services
        .db
        .read(|conn| db::webhooks::any_due(conn, now()))
        .await?;
    if !due {
        return Ok(0);
    }
    // Leased for longer than an attempt can take, so no one else takes it meanwhile.
    let lease = chrono::Duration::from_std(settings.timeout + Duration::from_secs(30))
        .map_err(AppError::internal)?;
    let batch = settings.batch;
    let jobs = services
        .db
        .transaction(move |conn| {
            let at = now();
            let due = db::webhooks::take_due(conn, at, at + lease, batch)?;
            if due.is_empty() {
                return Ok(Vec::new());
            }
            let mut endpoint_ids: Vec<WebhookEndpointId> =
                due.iter().map(|d| d.endpoint_id).collect();
            endpoint_ids.sort();
            endpoint_ids.dedup();
            let endpoints: HashMap<WebhookEndpointId, Arc<StoredEndpoint>> =
                db::webhooks::find_endpoints(conn, &endpoint_ids)?
                    .into_iter()
                    .map(|e| (e.endpoint.id, Arc::new(e)))
                    .collect();
            let event_ids: Vec<EventId> = due.iter().map(|d| d.event_id).collect();
            let events: HashMap<EventId, Arc<Event>> = db::events::find_many(conn, &event_ids)?
                .into_iter()
                .map(|e| (e.id, Arc::new(e)))
                .collect();
            Ok(due
                .into_iter()
                .filter_map(|delivery| {
                    Some(Job {
                        endpoint: endpoints.get(&delivery.endpoint_id)?.clone(),
                        event: events.get(&delivery.event_id)?.clone(),
                        delivery,
                    })
                })
                .collect::<Vec<_>>())
        })
        .await?;
    let n = jobs.len();
    let tries = jobs
        .into_iter()
        .map(|job| attempt(services, deliverer, job, settings.timeout));
    let outcomes = futures_util::future::join_all(tries).await;
    let stats = services.webhook_stats();
    for outcome in &outcomes {
        use std::sync::atomic::Ordering::Relaxed;
        match &outcome.attempt {
            Some(a) if a.succeeded => stats.succeeded.fetch_add(1, Relaxed),
            Some(_) => stats.failed.fetch_add(1, Relaxed),
            None => 0,
        };
        if outcome.exhausted.is_some() {
            stats.exhausted.fetch_add(1, Relaxed);
        }
    }
    let written = services
        .db
        .transaction(move |conn| {
            for outcome in &outcomes {
                if let Some(record) = &outcome.attempt {
                    db::webhooks::insert_attempt(conn, record)?;
                }
                db::webhooks::update_delivery(conn, &outcome.delivery)?;
                if let Some(error) = &outcome.exhausted {
                    disable_failing(conn, outcome.delivery.endpoint_id, error.as_deref())?;
                }
            }
            Ok(())
        })
        .await;
    if let Err(error) = written {
        tracing::warn!(%error, "could not record webhook attempts");
    }
    Ok(n)
}

/// Webhook attempts made by this instance since it started, by how they went.
#[derive(Debug, Default)]
pub struct WebhookStats {
    pub succeeded: std::sync::atomic::AtomicU64,
    pub failed: std::sync::atomic::AtomicU64,
    /// Deliveries given up after every retry failed.
    pub exhausted: std::sync::atomic::AtomicU64,
}

/// Deliveries waiting (the outbox's backlog): how many, and how late the most overdue is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Backlog {
    pub pending: i64,
    pub oldest_overdue_secs: f64,
}

pub async fn backlog(services: &Services) -> Result<Backlog, AppError> {
    services
        .db
        .read(|conn| {
            let at = now();
            let (pending, oldest) = db::webhooks::backlog(conn, at)?;
            Ok(Backlog {
                pending,
                oldest_overdue_secs: oldest
                    .map(|t| (at - t).num_milliseconds().max(0) as f64 / 1000.0)
                    .unwrap_or(0.0),
            })
        })
        .await
}

/// How one try went: the attempt to log (none when the endpoint was disabled meanwhile), the
/// delivery as it now stands, and, when every retry is used up, the last error.
struct Outcome {
    attempt: Option<WebhookAttempt>,
    delivery: WebhookDelivery,
    exhausted: Option<Option<String>>,
}

/// Tries one delivery.
async fn attempt(
    services: &Services,
    deliverer: &Deliverer,
    job: Job,
    timeout: Duration,
) -> Outcome {
    let Job {
        mut delivery,
        endpoint,
        event,
    } = job;
    if !endpoint.endpoint.enabled {
        // Disabled since it was queued: it waits until the endpoint is enabled again.
        delivery.next_attempt_at = now() + chrono::Duration::minutes(5);
        return Outcome {
            attempt: None,
            delivery,
            exhausted: None,
        };
    }
    let started = Instant::now();
    let attempted_at = now();
    let result = post(services, deliverer, &endpoint, &event, timeout).await;
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let (status_code, error, succeeded) = match result {
        Ok(code) if (200..300).contains(&code) => (Some(i32::from(code)), None, true),
        Ok(code) => (
            Some(i32::from(code)),
            Some(format!("the receiver answered {code}")),
            false,
        ),
        Err(e) => (None, Some(e.chars().take(MAX_ERROR).collect()), false),
    };
    delivery.attempts += 1;
    delivery.last_attempt_at = Some(attempted_at);
    let mut exhausted = None;
    if succeeded {
        delivery.status = DeliveryStatus::Succeeded;
        delivery.delivered_at = Some(now());
    } else {
        match services.webhooks.schedule.after(delivery.attempts) {
            Some(wait) => {
                delivery.next_attempt_at =
                    now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
            }
            None => {
                delivery.status = DeliveryStatus::Failed;
                exhausted = Some(error.clone());
            }
        }
    }
    Outcome {
        attempt: Some(WebhookAttempt {
            id: new_id(),
            delivery_id: delivery.id,
            endpoint_id: delivery.endpoint_id,
            event_id: delivery.event_id,
            attempt: delivery.attempts,
            attempted_at,
            status_code,
            error,
            duration_ms,
            succeeded,
        }),
        delivery,
        exhausted,
    }
}

/// An endpoint whose delivery failed through every retry (more than a day) is disabled, and
/// an event says so (to the organisation's other endpoints, subscribers and `/events`).
fn disable_failing(
    conn: &mut DbConnection,
    id: WebhookEndpointId,
    last_error: Option<&str>,
) -> Result<(), AppError> {
    let Some(mut s) = db::webhooks::find_endpoint(conn, id)? else {
        return Ok(());
    };
    if !s.endpoint.enabled {
        return Ok(());
    }
    let expected = s.endpoint.version;
    let at = now();
    let reason = format!(
        "every retry of a delivery failed{}",
        last_error
            .map(|e| format!(" (last: {e})"))
            .unwrap_or_default()
    );
    s.endpoint.enabled = false;
    s.endpoint.disabled_at = Some(at);
    s.endpoint.disabled_reason = Some(reason.clone());
    s.endpoint.updated_at = at;
    s.endpoint.version = expected + 1;
    if db::webhooks::update_endpoint_if_version(conn, &s, expected)? {
        events::record(
            conn,
            NewEvent::new(
                EventType::WebhookEndpointDisabled,
                s.endpoint.organisation_id,
            )
            .with_data(serde_json::json!({
                "endpoint_id": s.endpoint.id,
                "url": s.endpoint.url,
                "reason": reason,
            })),
        )?;
    }
    Ok(())
}

/// The secrets that sign now: the current one, and the previous one until it expires.
fn signing_keys(keys: &DataKeys, s: &StoredEndpoint) -> Result<Vec<Vec<u8>>, String> {
    let open = |sealed: &Sealed, generation: i32| -> Result<Vec<u8>, String> {
        let text = keys
            .open(sealed, &context(s.endpoint.id, generation))
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8(text).map_err(|_| "a stored secret is not text".to_owned())?;
        webhook::secret_key(&text).ok_or_else(|| "a stored secret is malformed".to_owned())
    };
    let mut out = vec![open(&s.secret, s.generation)?];
    if let Some((sealed, until)) = &s.previous {
        if *until > Utc::now() {
            out.push(open(sealed, -s.generation)?);
        }
    }
    Ok(out)
}

/// Posts the event, signed, to the endpoint's address as resolved now (refusing internal
/// addresses unless allowed), following no redirect. Returns the status the receiver gave.
async fn post(
    services: &Services,
    deliverer: &Deliverer,
    s: &StoredEndpoint,
    event: &Event,
    timeout: Duration,
) -> Result<u16, String> {
    let target = TargetUrl::parse(&s.endpoint.url, services.webhooks.allow_internal)?;
    let url = target.url();
    let host = url.host_str().ok_or("the URL names no host")?.to_owned();
    let port = url.port_or_known_default().ok_or("the URL names no port")?;
    let host_for_lookup = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addrs: Vec<SocketAddr> = tokio::time::timeout(
        timeout,
        tokio::net::lookup_host((host_for_lookup.as_str(), port)),
    )
    .await
    .map_err(|_| format!("looking up {host} timed out"))?
    .map_err(|e| format!("cannot resolve {host}: {e}"))?
    .collect();
    let addr = *addrs
        .first()
        .ok_or_else(|| format!("{host} has no address"))?;
    if !services.webhooks.allow_internal && addrs.iter().any(|a| is_internal(a.ip())) {
        return Err(format!(
            "{host} resolves to a loopback, private or link-local address"
        ));
    }
    let keys = signing_keys(&services.keys, s)?;
    let body = serde_json::to_vec(event).map_err(|e| e.to_string())?;
    let id = event.id.to_string();
    let timestamp = Utc::now().timestamp();
    let signature = webhook::signature_header(&keys, &id, timestamp, &body);
    // Connects to the address checked above, whatever the name resolves to by then.
    let client = deliverer.client(&host_for_lookup, addr, timeout)?;
    let response = client
        .post(url.clone())
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("no answer within {} s", timeout.as_secs())
            } else {
                format!("cannot reach the receiver: {e}")
            }
        })?;
    Ok(response.status().as_u16())
}

/// The data keys webhook secrets are sealed under (for the start-up check).
pub fn secret_key_ids(conn: &mut DbConnection) -> Result<Vec<String>, AppError> {
    db::webhooks::secret_key_ids(conn)
}

/// Re-seals every endpoint's secrets under the current key (`coproduce rotate-data-key`).
pub fn reseal_secrets(conn: &mut DbConnection, keys: &DataKeys) -> Result<usize, AppError> {
    let mut done = 0;
    for mut s in db::webhooks::all_endpoints(conn)? {
        let current = s.secret.key_id == keys.current_id();
        let previous = s
            .previous
            .as_ref()
            .is_none_or(|(p, _)| p.key_id == keys.current_id());
        if current && previous {
            continue;
        }
        let ctx = context(s.endpoint.id, s.generation);
        s.secret = keys.seal(&keys.open(&s.secret, &ctx)?, &ctx)?;
        if let Some((sealed, until)) = s.previous.take() {
            let ctx = context(s.endpoint.id, -s.generation);
            s.previous = Some((keys.seal(&keys.open(&sealed, &ctx)?, &ctx)?, until));
        }
        let expected = s.endpoint.version;
        if db::webhooks::update_endpoint_if_version(conn, &s, expected)? {
            done += 1;
        }
    }
    Ok(done)
}

/// Keeps one deliverer task per process.
pub fn spawn(services: &Services) -> tokio::task::JoinHandle<()> {
    let services = services.clone();
    tokio::spawn(run_deliverer(services))
}
