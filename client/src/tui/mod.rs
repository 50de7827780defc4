//! The full-screen terminal client: boards and chat, live, keyboard-first.

pub mod action;
pub mod highlight;
pub mod markdown;
pub mod model;
pub mod outbox;
pub mod net;
pub mod state;
pub mod app;
pub mod filter;
pub mod input;
pub mod view;
pub mod demo;
pub mod local;
pub mod run;
#[cfg(test)]
mod tests;
pub mod launch;
