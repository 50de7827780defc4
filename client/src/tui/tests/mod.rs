//! Tests of the full-screen client without a terminal: update logic driven by keys and server
//! events, and insta snapshots of every screen through ratatui's `TestBackend`.

mod account;
mod agents;
mod audit;
mod board;
mod chat_keys;
mod chat_screens;
mod columns;
mod connection;
mod contrast;
mod copy_undo;
pub(crate) mod fixture;
mod history;
mod invite;
mod keep;
mod members;
mod notices;
mod overlays;
mod palette;
mod paste;
mod rate_limit;
mod rooms;
mod runs;
mod screens;
mod selection;
mod times;
mod update;
mod workspaces;
