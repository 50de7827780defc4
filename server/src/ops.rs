//! The operator commands of the `warren-server` binary (not part of the library): `status` and
//! `backup` ask a running server through its admin socket; `restore` and `check` work on files.

use std::path::Path;

use anyhow::Result;
use warren_server::check::Report;
use warren_server::{backup, metrics};

/// `warren-server status`.
pub async fn status(data: std::path::PathBuf, json: bool) -> Result<()> {
    #[cfg(unix)]
    {
        let socket = warren_server::admin::socket_path(&data);
        let status = warren_server::admin::request_status(&socket).await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&status)?);
        } else {
            print!("{}", metrics::describe(&status));
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        let _ = (data, json);
        anyhow::bail!("status needs Unix sockets; on this platform scrape GET /metrics instead")
    }
}

/// `warren-server backup --to FILE`.
pub async fn backup(data: std::path::PathBuf, to: &Path, json: bool) -> Result<()> {
    #[cfg(unix)]
    {
        let socket = warren_server::admin::socket_path(&data);
        let done = warren_server::admin::request_backup(&socket, to).await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&done)?);
        } else {
            let heads: Vec<String> = done
                .workspaces
                .iter()
                .map(|w| format!("{} up to event {}", w.id, w.head))
                .collect();
            println!(
                "Backup written to {} ({} bytes, {} events: {}); it checks out.",
                done.path.display(),
                done.bytes,
                done.events,
                heads.join(", ")
            );
            println!(
                "Restore it with: warren-server restore --from {} --data DIR",
                done.path.display()
            );
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        let _ = (data, to, json);
        anyhow::bail!("backup needs Unix sockets, which this platform lacks")
    }
}

/// `warren-server restore --from FILE --data DIR [--force]`.
pub fn restore(from: &Path, data: &Path, force: bool) -> Result<()> {
    let done = backup::restore(from, data, force)?;
    println!("Restored {} into {}.", from.display(), done.path.display());
    if let Some(old) = done.replaced {
        println!("The store it replaced is kept as {}.", old.display());
    }
    println!("Next: warren-server serve --data {}", data.display());
    Ok(())
}

/// `warren-server check`: prints the report; fails when it found problems.
pub fn check(report: Report, json: bool) -> Result<()> {
    if report.in_use {
        anyhow::bail!(
            "{} is in use by a running server; check a backup of it instead: 'warren-server backup --to FILE', then 'warren-server check --file FILE'",
            report.path
        );
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "Store {} (schema {}):",
            report.path,
            report
                .schema_version
                .map_or_else(|| "unknown".to_owned(), |v| v.to_string())
        );
        if report.repaired {
            println!(
                "  (not closed cleanly: checked a repaired copy; the server repairs the store the same way when it starts)"
            );
        }
        for w in &report.workspaces {
            println!("  workspace {} {:?}: events 1..{}", w.id, w.name, w.head);
        }
        if report.ok() {
            println!(
                "ok: {} events, every log gap-free and every table matching its events",
                report.events
            );
        } else {
            for problem in &report.problems {
                println!("problem: {problem}");
            }
        }
    }
    if !report.ok() {
        anyhow::bail!(
            "the store has {} problem(s); restore a good backup with 'warren-server restore --from FILE --data DIR --force'",
            report.problems.len()
        );
    }
    Ok(())
}
