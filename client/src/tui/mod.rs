//! The full-screen terminal client: boards and chat, live, keyboard-first.

pub mod agents;
pub mod app;
pub mod clipboard;
pub mod demo;
pub mod fuzzy;
pub mod highlight;
pub mod input;
pub mod launch;
pub mod local;
pub mod markdown;
pub mod model;
pub mod net;
pub mod notices;
pub mod outbox;
pub mod outbox_file;
pub mod palette;
pub mod paste;
pub mod pending;
pub mod prompt;
pub mod run;
pub mod screens;
pub mod state;
pub mod switch;
pub mod terminal;
#[cfg(test)]
pub(crate) mod tests;
pub mod trouble;
pub mod undo;
pub mod view;
