//! `warren-server audit`: the audit log of a stopped server's store, for the operator (every
//! workspace and every server-wide entry), as lines or JSON. Names and labels come from users,
//! so control characters are replaced before they reach the terminal.

use anyhow::Result;
use warren_protocol::audit::AuditEntry;

/// An age such as `90m`, `12h`, `1d`, `2w`, in milliseconds.
pub fn parse_age_ms(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not an age; write it like 90m, 12h, 1d or 2w"))?;
    let unit_ms: i64 = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => {
            return Err(format!(
                "{text:?} has no known unit; use s, m, h, d or w (1d)"
            ));
        }
    };
    n.checked_mul(unit_ms)
        .ok_or_else(|| format!("{text:?} is too long"))
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
