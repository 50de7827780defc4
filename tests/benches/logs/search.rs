//! Phase 2: the stored log as a viewer uses it. The first screen (the `log` query a viewer sends
//! when it opens a run, drawn into a terminal buffer by the real log view widget), the last
//! screen (a backward page, as follow mode opens), and a regex search over the whole log with the
//! filter applied on the server, paging until the end. Baseline: `grep -c` on the same text in a
//! plain file, in the same run.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use warren_protocol::run::{LogFilter, LogLine};
use warren_protocol::{Id, Query, QueryResult};

use crate::setup;
use crate::ws::Ws;

/// What phase 2 measured.
pub struct Search {
    pub first_screen: Duration,
    pub last_screen: Duration,
    pub search: Duration,
    pub matches: u64,
    pub grep: Duration,
    pub grep_matches: u64,
}

/// Rows of the first screen (an 80x24 terminal's log area is smaller; a tall one is bigger).
const SCREEN: u32 = 60;

async fn page(
    ws: &mut Ws,
    workspace: &Id,
    run: &Id,
    from: u64,
    limit: u32,
    backward: bool,
    filter: Option<LogFilter>,
) -> Result<(Vec<LogLine>, Option<u64>)> {
    match setup::query(
        ws,
        workspace,
        Query::Log {
            run_id: run.clone(),
            from,
            limit,
            backward,
            filter,
        },
    )
    .await?
    {
        QueryResult::Log { lines, next, .. } => Ok((lines, next)),
        other => bail!("the log query answered {other:?}"),
    }
}

/// Draws lines the way the log view does (SGR parsed, the rest dropped) into a buffer.
fn draw(lines: &[LogLine]) -> usize {
    lines
        .iter()
        .map(|l| {
            warren::logview::ansi::parse(l.text.as_bytes(), warren::theme::ColorSupport::TrueColor)
                .text()
                .len()
        })
        .sum()
}

pub async fn run(
    ws: &mut Ws,
    workspace: &Id,
    run: &Id,
    stored: u64,
    pattern: &str,
    dir: &Path,
    text: &[u8],
) -> Result<Search> {
    let started = Instant::now();
    let (lines, _) = page(ws, workspace, run, 1, SCREEN, false, None).await?;
    std::hint::black_box(draw(&lines));
    let first_screen = started.elapsed();
    if lines.len() != SCREEN as usize {
        bail!("the first page has {} lines, not {SCREEN}", lines.len());
    }

    let started = Instant::now();
    let (lines, _) = page(ws, workspace, run, stored, SCREEN, true, None).await?;
    std::hint::black_box(draw(&lines));
    let last_screen = started.elapsed();
    if lines.last().map(|l| l.n) != Some(stored) {
        bail!("the last page does not end at line {stored}");
    }

    let filter = LogFilter {
        pattern: pattern.to_owned(),
        invert: false,
    };
    let started = Instant::now();
    let mut matches = 0u64;
    let mut from = 1;
    loop {
        let (lines, next) =
            page(ws, workspace, run, from, 500, false, Some(filter.clone())).await?;
        matches += lines.len() as u64;
        match next {
            Some(n) => from = n,
            None => break,
        }
    }
    let search = started.elapsed();

    let path = dir.join("grep.log");
    std::fs::write(&path, text)?;
    let started = Instant::now();
    let out = std::process::Command::new("grep")
        .args(["-c", "-E", pattern])
        .arg(&path)
        .output()
        .context("cannot run grep")?;
    let grep = started.elapsed();
    let grep_matches: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .context("grep -c printed no count")?;
    std::fs::remove_file(&path)?;
    Ok(Search {
        first_screen,
        last_screen,
        search,
        matches,
        grep,
        grep_matches,
    })
}
