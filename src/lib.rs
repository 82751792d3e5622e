//! Coproduce: a headless API that makes co-production with people who have lived experience
//! real, paid and provable.
//!
//! Layers: `domain` (rules, no I/O) <- `db` (storage) <- `service` (decides and writes) <-
//! `rest` and `graphql` (the two doors) on `http` (shared plumbing), joined by `startup`.
//! `tests/api/layers.rs` checks that no layer reaches past these lines.

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
