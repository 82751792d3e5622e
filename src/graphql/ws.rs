//! `GET /graphql/ws`: GraphQL subscriptions over WebSocket, with the graphql-transport-ws
//! protocol (and the older graphql-ws one). The token comes in the `connection_init` payload
//! (`{"Authorization": "Bearer <token>"}` or `{"token": "<token>"}`) or on the upgrade request;
//! it is checked when the connection is initialised, and each subscription ends when it
//! expires. A connection that does not initialise within ten seconds is closed, and a message
//! may be at most 64 KiB, so an unauthenticated client cannot hold the server's memory.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason};
use async_graphql::http::{WebSocket, WebSocketProtocols, WsMessage};
use async_graphql::Data;
use futures_util::StreamExt;

use super::events::SessionExpiry;
use super::SubscriptionSchema;
use crate::error::AppError;
use crate::service::{identity, Services};

/// Longest message a client may send.
const MAX_MESSAGE: usize = 64 * 1024;
/// How long a connection may stay open without `connection_init`.
const INIT_WITHIN: Duration = Duration::from_secs(10);

pub async fn subscriptions(
    schema: web::Data<SubscriptionSchema>,
    services: web::Data<Services>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let protocol = req
        .headers()
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|h| h.to_str().ok())
        .and_then(|list| {
            list.split(',')
                .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
        })
        .ok_or_else(|| {
            AppError::BadRequest(
                "open a WebSocket asking for the graphql-transport-ws subprotocol".to_owned(),
            )
        })?;
    let header_token = crate::http::extract::bearer_token(&req)
        .ok()
        .map(str::to_owned);
    let (mut response, session, messages) = actix_ws::handle(&req, body)
        .map_err(|e| AppError::BadRequest(format!("not a WebSocket upgrade: {e}")))?;
    response.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        header::HeaderValue::from_static(protocol.sec_websocket_protocol()),
    );
    let messages = messages
        .max_frame_size(MAX_MESSAGE)
        .aggregate_continuations()
        .max_continuation_size(MAX_MESSAGE);

    // What the client sends, as the bytes of its text messages; pings are answered here, and
    // a close or a protocol error ends the stream.
    let pong = session.clone();
    let incoming = messages
        .take_while(|m| {
            std::future::ready(matches!(m, Ok(m) if !matches!(m, AggregatedMessage::Close(_))))
        })
        .filter_map(move |m| {
            let mut pong = pong.clone();
            async move {
                match m {
                    Ok(AggregatedMessage::Text(text)) => Some(text.into_bytes()),
                    Ok(AggregatedMessage::Binary(bytes)) => Some(bytes),
                    Ok(AggregatedMessage::Ping(p)) => {
                        let _ = pong.pong(&p).await;
                        None
                    }
                    _ => None,
                }
            }
        });

    let initialised = Arc::new(AtomicBool::new(false));
    let services = services.get_ref().clone();
    let init_flag = initialised.clone();
    let socket = WebSocket::new(schema.0.clone(), incoming, protocol).on_connection_init(
        move |payload| async move {
            let token = token_in(&payload)
                .or(header_token)
                .ok_or_else(|| async_graphql::Error::new("send the token in connection_init"))?;
            let (principal, expires) = identity::authenticate_session(&services, &token)
                .await
                .map_err(|e| async_graphql::Error::new(e.to_string()))?;
            init_flag.store(true, Ordering::SeqCst);
            let mut data = Data::default();
            data.insert(principal);
            data.insert(SessionExpiry(expires));
            Ok(data)
        },
    );

    let watchdog = session.clone();
    actix_web::rt::spawn(async move {
        tokio::time::sleep(INIT_WITHIN).await;
        if !initialised.load(Ordering::SeqCst) {
            let _ = watchdog
                .close(Some(CloseReason {
                    code: CloseCode::Other(4408),
                    description: Some("connection initialisation timeout".to_owned()),
                }))
                .await;
        }
    });

    let mut session = session;
    actix_web::rt::spawn(async move {
        let mut socket = std::pin::pin!(socket);
        while let Some(message) = socket.next().await {
            match message {
                WsMessage::Text(text) => {
                    if session.text(text).await.is_err() {
                        return;
                    }
                }
                WsMessage::Close(code, reason) => {
                    let _ = session
                        .close(Some(CloseReason {
                            code: CloseCode::Other(code),
                            description: Some(reason),
                        }))
                        .await;
                    return;
                }
            }
        }
        let _ = session.close(Some(CloseCode::Normal.into())).await;
    });
    Ok(response)
}

/// The token in a `connection_init` payload: `Authorization` (or `authorization`) as
/// `Bearer <token>`, or `token`.
fn token_in(payload: &serde_json::Value) -> Option<String> {
    let auth = payload
        .get("Authorization")
        .or_else(|| payload.get("authorization"))
        .and_then(|v| v.as_str())
        .and_then(|v| crate::auth::bearer_token(Some(v)).ok());
    auth.or_else(|| payload.get("token").and_then(|v| v.as_str()))
        .map(str::to_owned)
}
