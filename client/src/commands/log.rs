//! `warren log r7`: a run's stored log, page by page through the `log` query, or followed live
//! through `log_subscribe` until `log_end`. Filters (`--grep`, `--invert`) run on the server over
//! the whole log. Lines are printed through [`crate::log_print`] (only SGR colour, and only where
//! wanted; the pieces of a line the worker cut are joined again), or as one LogLine JSON object
//! per line with `--json` (their `continued` flag kept).

use std::io::IsTerminal;

use warren_protocol::run::{LogFilter, LogLine, MAX_LINES_PER_FRAME, Run, RunStatus};
use warren_protocol::{ErrorCode, Query, QueryResult, ServerMessage, WireError};

use crate::cli::LogArgs;
use crate::commands::Out;
use crate::commands::run::{find_run, outcome};
use crate::error::ClientError;
use crate::log_print::{Colour, Joiner, LineFormat};
use crate::resolve::parse_run_ref;
use crate::session::{Session, is_transient};
use crate::theme::ColorSupport;

/// How and which lines to print.
#[derive(Debug, Clone)]
pub struct Options {
    pub from_line: Option<u64>,
    pub tail: Option<u64>,
    pub filter: Option<LogFilter>,
    pub json: bool,
    pub format: LineFormat,
}

impl Options {
    /// `warren job run --follow`: every line, coloured as the terminal allows.
    pub fn for_follow(json: bool) -> Self {
        Self {
            from_line: None,
            tail: None,
            filter: None,
            json,
            format: default_format(false, false),
        }
    }
}

fn default_format(raw: bool, timestamps: bool) -> LineFormat {
    LineFormat {
        colour: Colour::choose(raw, std::io::stdout().is_terminal(), ColorSupport::detect()),
        timestamps,
    }
}

pub(super) async fn run(
    args: LogArgs,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let run = find_run(session, &parse_run_ref(&args.run)?).await?;
    let options = Options {
        from_line: args.from_line,
        tail: args.tail,
        filter: args.grep.map(|pattern| LogFilter {
            pattern,
            invert: args.invert,
        }),
        json: out.is_json(),
        format: default_format(args.raw, args.timestamps),
    };
    if args.follow {
        follow(session, out, &run, &options).await?;
        let finished = find_run(session, &crate::resolve::RunRef::Number(run.number)).await?;
        return outcome(&finished);
    }
    if options.tail.is_some() {
        tail(session, out, &run, &options).await
    } else {
        pages(session, out, &run, &options).await
    }
}

/// Prints lines: JSON objects (`continued` kept), or rendered lines with the pieces of a cut
/// line joined (in one write per batch).
fn print(
    out: &mut Out,
    options: &Options,
    joiner: &mut Joiner,
    lines: &[LogLine],
) -> Result<(), ClientError> {
    if options.json {
        for line in lines {
            out.json(line)?;
        }
        return Ok(());
    }
    let mut text = String::new();
    for line in lines {
        joiner.push(line, options.format, &mut text);
    }
    out.raw(&text)
}

/// Ends the last line printed.
fn finish(out: &mut Out, joiner: &mut Joiner) -> Result<(), ClientError> {
    let mut text = String::new();
    joiner.finish(&mut text);
    out.raw(&text)
}

/// A refusal because of `--grep` reads as a usage mistake that says how to fix it.
/// How many times `--follow` waits out a `rate_limited` answer to its `log_subscribe` before it
/// gives up with the server's message.
const MAX_SUBSCRIBE_WAITS: u32 = 6;

fn bad_filter(wire: WireError, filtered: bool) -> ClientError {
    if filtered && matches!(wire.code, ErrorCode::Validation | ErrorCode::InvalidField) {
        ClientError::Usage(format!(
            "--grep: {} — fix the regular expression (Rust regex syntax; (?i) ignores case)",
            crate::sanitize::line(&wire.message)
        ))
    } else {
        ClientError::Server(wire)
    }
}

async fn log_page(
    session: &Session,
    run: &Run,
    from: u64,
    backward: bool,
    filter: &Option<LogFilter>,
) -> Result<(Vec<LogLine>, Option<u64>), ClientError> {
    let result = session
        .query(Query::Log {
            run_id: run.id.clone(),
            from,
            limit: u32::try_from(MAX_LINES_PER_FRAME).unwrap_or(u32::MAX),
            backward,
            filter: filter.clone(),
        })
        .await
        .map_err(|e| match e {
            ClientError::Server(wire) => bad_filter(wire, filter.is_some()),
            other => other,
        })?;
    let QueryResult::Log { lines, next, .. } = result else {
        return Err(ClientError::Protocol("expected a log result".to_owned()));
    };
    Ok((lines, next))
}

/// The stored log from `--from-line` (or 1) to its current end.
async fn pages(
    session: &Session,
    out: &mut Out,
    run: &Run,
    options: &Options,
) -> Result<(), ClientError> {
    let mut from = options.from_line.unwrap_or(1);
    let mut joiner = Joiner::default();
    loop {
        let (lines, next) = log_page(session, run, from, false, &options.filter).await?;
        print(out, options, &mut joiner, &lines)?;
        match next {
            Some(n) if n > from => from = n,
            _ => return finish(out, &mut joiner),
        }
    }
}

/// The last `--tail` lines (matching the filter), read backwards from the end in pages.
async fn tail(
    session: &Session,
    out: &mut Out,
    run: &Run,
    options: &Options,
) -> Result<(), ClientError> {
    let want = usize::try_from(options.tail.unwrap_or(0)).unwrap_or(usize::MAX);
    if want == 0 {
        return Ok(());
    }
    let latest = find_run(session, &crate::resolve::RunRef::Number(run.number)).await?;
    let mut collected: Vec<LogLine> = Vec::new();
    let mut from = latest.lines.max(1);
    while collected.len() < want {
        let (lines, next) = log_page(session, run, from, true, &options.filter).await?;
        collected.extend(lines);
        match next {
            Some(n) if n < from => from = n,
            _ => break,
        }
    }
    collected.sort_by_key(|l| l.n);
    collected.dedup_by_key(|l| l.n);
    let skip = collected.len().saturating_sub(want);
    let mut joiner = Joiner::default();
    print(out, options, &mut joiner, &collected[skip..])?;
    finish(out, &mut joiner)
}

/// Follows a run's log until `log_end`: stored lines first (from `from_line`, or the last
/// `tail`), then live ones. A dropped connection is re-opened and the subscription resumed
/// after the last line printed, so nothing is printed twice or skipped. Returns how the run
/// ended.
pub async fn follow(
    session: &mut Session,
    out: &mut Out,
    run: &Run,
    options: &Options,
) -> Result<RunStatus, ClientError> {
    let mut joiner = Joiner::default();
    let result = follow_lines(session, out, run, options, &mut joiner).await;
    finish(out, &mut joiner)?;
    result
}

async fn follow_lines(
    session: &mut Session,
    out: &mut Out,
    run: &Run,
    options: &Options,
    joiner: &mut Joiner,
) -> Result<RunStatus, ClientError> {
    let mut last: u64 = 0;
    let mut limited = 0;
    let mut request = session.conn.handle().log_subscribe(
        &session.workspace.id,
        &run.id,
        options.from_line,
        options.tail,
        options.filter.clone(),
    )?;
    loop {
        let push =
            session.conn.next_push().await.unwrap_or_else(|| {
                Err(ClientError::Disconnected("the connection ended".to_owned()))
            });
        match push {
            Ok(ServerMessage::LogLines { run_id, lines }) if run_id == run.id => {
                let fresh: Vec<LogLine> = lines.into_iter().filter(|l| l.n > last).collect();
                if let Some(newest) = fresh.last() {
                    last = newest.n;
                }
                print(out, options, joiner, &fresh)?;
            }
            Ok(ServerMessage::LogEnd { run_id, status, .. }) if run_id == run.id => {
                return Ok(status);
            }
            Ok(ServerMessage::Error {
                request_id: Some(id),
                code: ErrorCode::RateLimited,
                retry_after_ms,
                ..
            }) if id == request && limited < MAX_SUBSCRIBE_WAITS => {
                // Following too many logs at once: wait as asked, then ask again from where
                // the output stands.
                limited += 1;
                let wait = std::time::Duration::from_millis(
                    retry_after_ms.unwrap_or(1000).clamp(1, 60_000),
                );
                tokio::time::sleep(wait).await;
                let from_line = if last > 0 {
                    Some(last + 1)
                } else {
                    options.from_line
                };
                let tail = if last > 0 { None } else { options.tail };
                request = session.conn.handle().log_subscribe(
                    &session.workspace.id,
                    &run.id,
                    from_line,
                    tail,
                    options.filter.clone(),
                )?;
            }
            Ok(ServerMessage::Error {
                request_id: Some(id),
                code,
                message,
                ..
            }) if id == request => {
                return Err(bad_filter(
                    WireError::new(code, message),
                    options.filter.is_some(),
                ));
            }
            Ok(_) => {}
            Err(e) if is_transient(&e) => {
                session.reconnect_patiently(&e).await?;
                let from_line = if last > 0 {
                    Some(last + 1)
                } else {
                    options.from_line
                };
                let tail = if last > 0 { None } else { options.tail };
                request = session.conn.handle().log_subscribe(
                    &session.workspace.id,
                    &run.id,
                    from_line,
                    tail,
                    options.filter.clone(),
                )?;
            }
            Err(e) => return Err(e),
        }
    }
}
