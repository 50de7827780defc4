//! The warren client: the connection layer, profile handling and the scriptable `warren` CLI.
//!
//! [`connection`] is reusable on its own (the full-screen TUI builds on it); [`cli`] and
//! [`commands`] are the command-line front end, and [`output`] formats what they print.

pub mod advert;
pub mod agent_output;
pub mod cli;
pub mod commands;
pub mod config;
pub mod connection;
pub mod duration;
pub mod endpoint;
pub mod error;
pub mod http_client;
pub mod keymap;
pub mod local_cli;
#[cfg(unix)]
pub mod local_worker;
pub mod localtime;
pub mod log_print;
pub mod logview;
pub mod money;
pub mod names;
pub mod output;
pub mod param_spec;
pub mod private_file;
pub mod provider;
pub mod resolve;
pub mod retry;
pub mod room;
pub mod run_output;
pub mod sanitize;
pub mod secret_prompt;
pub mod session;
pub mod stream_text;
pub mod theme;
pub mod tls;
pub mod tui;
#[cfg(unix)]
pub mod worker;

pub use error::ClientError;
