//! The `warren` binary: parses the command line, runs it, and turns failures into one line on
//! stderr (a config file's parse error over several lines, with a caret under the
//! mistake) and an exit code (0 ok, 1 usage, 2 server / auth / network / config).

use std::process::ExitCode;

use warren::ClientError;
use warren::cli::Cli;
use warren::error::{EXIT_FAILURE, EXIT_USAGE};
use warren::sanitize;

fn main() -> ExitCode {
    // `warren __job-guard …`: a worker's guard of one job (no runtime, no config).
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if let Some(code) = warren::worker::guard::main_if_guard(&args) {
        return ExitCode::from(code);
    }
    let cli = match Cli::try_parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap uses 2 for usage errors; warren reserves 2 for server trouble.
            return ExitCode::from(if e.exit_code() == 0 {
                0
            } else {
                EXIT_USAGE as u8
            });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE as u8);
        }
    };
    match runtime.block_on(warren::commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            // A config file's parse error points at the line with a caret, over several lines;
            // every other error is one line.
            let text = e.to_string();
            let shown = match e {
                ClientError::Config { .. } => sanitize::block(&text),
                _ => sanitize::line(&text),
            };
            eprintln!("error: {shown}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
