//! Tests of the full-screen client without a terminal: update logic driven by keys and server
//! events, and insta snapshots of every screen through ratatui's `TestBackend`.

mod board;
mod connection;
mod copy_undo;
mod fixture;
mod notices;
mod overlays;
mod palette;
mod screens;
mod update;
