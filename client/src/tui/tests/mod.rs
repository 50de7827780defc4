//! Tests of the full-screen client without a terminal: update logic driven by keys and server
//! events, and insta snapshots of every screen through ratatui's `TestBackend`.

mod chat_screens;
mod columns;
mod connection;
mod contrast;
pub(crate) mod fixture;
mod history;
mod keep;
mod palette;
mod paste;
mod screens;
mod update;
