//! `warren-server audit`: the audit log of a stopped server's store, for the operator (every
//! workspace and every server-wide entry), as lines or JSON. Names and labels come from users,
//! so control characters are replaced before they reach the terminal.

use anyhow::Result;
use warren_protocol::audit::AuditEntry;

/// An age such as `90m`, `12h`, `1d`, `2w`, in milliseconds.
pub fn parse_age_ms(text: &str) -> Result<i64, String> {
    warren_protocol::time::parse_duration_ms(text)
}

/// Text from users with control characters (escape sequences) replaced.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// One entry as a line: time, actor, action, target, details, origin.
pub fn line(entry: &AuditEntry) -> String {
    let target = entry.target.as_ref().map_or_else(String::new, |t| {
        if t.name.is_empty() {
            format!("{} {}", t.kind, t.id)
        } else {
            format!("{} {} ({})", t.kind, clean(&t.name), t.id)
        }
    });
    let details: Vec<String> = entry
        .details
        .iter()
        .map(|(k, v)| format!("{}={}", clean(k), clean(v)))
        .collect();
    format!(
        "{}  {:<6} {:<12} {:<18} {}  {}  from {}{}",
        warren_protocol::time::format_utc_minutes(entry.at),
        entry.id,
        clean(entry.actor.label()),
        entry.action,
        target,
        details.join(" "),
        clean(&entry.from),
        entry
            .workspace_id
            .as_ref()
            .map_or_else(String::new, |w| format!("  in {w}")),
    )
}

/// Prints entries newest first.
pub fn print(entries: &[AuditEntry], json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(entries)?);
        return Ok(());
    }
    if entries.is_empty() {
        println!("No audit entries match.");
    }
    for entry in entries {
        println!("{}", line(entry));
    }
    Ok(())
}
