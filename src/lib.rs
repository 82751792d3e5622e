//! Coproduce: a headless API that makes co-production with people who have lived experience
//! real, paid and provable.
//!
//! Layers: `domain` (rules, no I/O) <- `db` (storage) <- `service` (decides and writes) <-
//! `rest` and `graphql` (the two doors) on `http` (shared plumbing), joined by `startup`.
//! `tests/api/layers.rs` checks that no layer reaches past these lines.
//!
//! No `unwrap()` or `expect()` outside tests: a request's data must never panic the server, so
//! every failure is an error the caller sees (clippy refuses both in the service's own code).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod rest;
pub mod service;
pub mod startup;
pub mod telemetry;

pub use startup::Application;
