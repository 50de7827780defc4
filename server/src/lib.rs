//! `warren-server`: keeps a team's workspace in an embedded redb store and pushes every change over
//! WebSocket to every connected client.
//!
//! The flow of a command: [`http`] accepts the authenticated socket → [`connection`] parses the
//! frame → [`writer`] applies it with [`service`] inside a group-committed redb transaction
//! ([`store`]) → the writer acknowledges it and hands the event to [`hub`], which fans it out to
//! every subscribed connection.

#[cfg(unix)]
pub mod admin;
pub mod app;
pub mod audit;
pub mod auth;
pub mod auth_limit;
pub mod backup;
pub mod catch_up;
pub mod check;
pub mod config;
pub mod connection;
pub mod frames;
pub mod gate;
pub mod health;
pub mod http;
pub mod hub;
pub mod join;
pub mod limits;
pub mod listen;
pub mod logs;
pub mod metrics;
pub mod presence;
pub mod rate_limit;
pub mod refusals;
pub mod runs;
pub mod server;
pub mod service;
pub mod store;
pub mod tls;
pub mod writer;
