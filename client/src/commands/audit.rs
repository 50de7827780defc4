//! `warren audit`: the workspace's audit log, newest first, filtered by actor, action and age.
//! Pages of the `audit` query are fetched until the limit is reached. With `--json`, one entry
//! per line as the protocol sends it (never with a secret: the server stores none).

use warren_protocol::audit::AuditEntry;
use warren_protocol::limits::MAX_PAGE;
use warren_protocol::{Query, QueryResult};

use crate::cli::AuditArgs;
use crate::commands::Out;
use crate::error::ClientError;
use crate::output::table;
use crate::sanitize;
use crate::session::Session;

pub(super) async fn run(
    args: AuditArgs,
    session: &Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let since = args
        .since
        .map(|age| crate::tui::app::now_ms().saturating_sub(age));
    let mut entries: Vec<AuditEntry> = Vec::new();
    let mut before = None;
    let mut more = true;
    while more && entries.len() < args.limit {
        let want = (args.limit - entries.len()).min(MAX_PAGE);
        let result = session
            .query(Query::Audit {
                actor: args.actor.clone(),
                action: args.action.clone(),
                since,
                before,
                limit: u32::try_from(want).unwrap_or(u32::MAX),
            })
            .await?;
        let QueryResult::Audit {
            entries: page,
            has_more,
        } = result
        else {
            return Err(ClientError::Protocol("expected an audit result".to_owned()));
        };
        more = has_more && !page.is_empty();
        before = page.last().map(|e| e.id);
        entries.extend(page);
    }
    if out.is_json() {
        for entry in &entries {
            out.json(entry)?;
        }
        return Ok(());
    }
    if entries.is_empty() {
        return out.text("no audit entries match\n");
    }
    out.text(&format_entries(&entries))
}

/// The entries as a table; every string from users goes through [`sanitize::line`].
pub fn format_entries(entries: &[AuditEntry]) -> String {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let target = e.target.as_ref().map_or_else(String::new, |t| {
                if t.name.is_empty() {
                    format!("{} {}", t.kind, t.id)
                } else {
                    format!("{} {}", t.kind, sanitize::line(&t.name))
                }
            });
            let details: Vec<String> = e
                .details
                .iter()
                .map(|(k, v)| format!("{}={}", sanitize::line(k), sanitize::line(v)))
                .collect();
            vec![
                crate::localtime::minutes(e.at),
                sanitize::line(e.actor.label()),
                sanitize::line(&e.action),
                target,
                details.join(" "),
                sanitize::line(&e.from),
            ]
        })
        .collect();
    table(
        &["WHEN", "WHO", "ACTION", "TARGET", "DETAILS", "FROM"],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use warren_protocol::Id;
    use warren_protocol::audit::{AuditActor, AuditTarget};

    use super::*;

    #[test]
    fn an_entry_is_one_row_with_escapes_removed() {
        let entry = AuditEntry {
            id: 3,
            at: 0,
            workspace_id: None,
            actor: AuditActor::User {
                user_id: Id::parse("usr_8d3f6h1k4m7p0r2t").expect("id"),
                name: "ada\u{1b}[31m".into(),
            },
            action: "token.revoke".into(),
            target: Some(AuditTarget {
                kind: "token".into(),
                id: "tok_2b5d8f1h4k7m0p3r".into(),
                name: "laptop\u{7}".into(),
            }),
            details: BTreeMap::from([("scope".to_owned(), "full".to_owned())]),
            from: "127.0.0.1".into(),
        };
        let text = format_entries(&[entry]);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        let row = text.lines().nth(1).expect("one row");
        assert!(row.contains("token.revoke"), "{row}");
        assert!(row.contains("scope=full"), "{row}");
        assert!(row.contains("127.0.0.1"), "{row}");
    }
}
