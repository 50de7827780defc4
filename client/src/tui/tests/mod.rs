//! Tests of the full-screen client without a terminal: update logic driven by keys and server
//! events, and insta snapshots of every screen through ratatui's `TestBackend`.

mod chat_keys;
mod chat_screens;
pub(crate) mod fixture;
mod history;
mod keep;
mod paste;
mod rooms;
mod screens;
mod update;
