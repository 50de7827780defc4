//! The full-screen terminal client: boards and chat, live, keyboard-first.

pub mod action;
