//! The full-screen terminal client: boards and chat, live, keyboard-first.

pub mod action;
pub mod app;
pub mod clipboard;
pub mod demo;
pub mod filter;
pub mod highlight;
pub mod input;
pub mod launch;
pub mod local;
pub mod markdown;
pub mod model;
pub mod net;
pub mod notices;
pub mod outbox;
pub mod palette;
pub mod reveal;
pub mod run;
pub mod state;
#[cfg(test)]
mod tests;
pub mod trouble;
pub mod undo;
pub mod view;
