//! Unit tests of the audit log: the failed-authentication bound, who sees which entries, and
//! retention.

use std::net::IpAddr;

use redb::ReadableTableMetadata;
use warren_protocol::audit::AuditActor;
use warren_protocol::{Id, Role};

use super::failed_auth::{FailedAuth, MAX_ADDRESSES_PER_MINUTE, Reason, Refusal};
use super::query::{Filter, Reader, for_member, page};
use super::{Record, Source, append, retention};
use crate::service::workspace;
use crate::store::records::UserRecord;
use crate::store::tables::{AUDIT, USERS};
use crate::store::{Store, encode};

const T0: i64 = 1_795_264_860_000; // on a minute boundary

fn store(dir: &tempfile::TempDir) -> (Store, workspace::Bootstrapped) {
    let store = Store::create(&dir.path().join("data")).expect("create");
    let made = workspace::bootstrap(&store, "ada", "Acme").expect("bootstrap");
    (store, made)
}

fn all(store: &Store) -> Vec<warren_protocol::audit::AuditEntry> {
    let txn = store.begin_read().expect("read");
    let filter = Filter {
        limit: 1000,
        ..Filter::default()
    };
    page(&txn, Reader::Operator, &filter).expect("page").0
}

fn rows(store: &Store) -> u64 {
    let txn = store.begin_read().expect("read");
    txn.open_table(AUDIT).expect("table").len().expect("len")
}

fn ip(n: u32) -> Option<IpAddr> {
    Some(IpAddr::from(n.to_be_bytes()))
}

fn anonymous() -> Refusal {
    Refusal {
        reason: Reason::Malformed,
        token_id: None,
        user: None,
    }
}

fn count(entry: &warren_protocol::audit::AuditEntry) -> u64 {
    entry.details["count"].parse().expect("a count")
}

#[test]
fn a_flood_from_many_addresses_adds_one_entry_per_address_up_to_the_cap() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = store(&dir);
    let before = rows(&store);
    let failed = FailedAuth::new(store.clone());
    for round in 0..4 {
        for n in 0..300u32 {
            failed
                .record(ip(0x0a00_0000 + n), &anonymous(), T0 + round * 1000)
                .expect("record");
        }
    }
    failed.flush().expect("flush");
    assert_eq!(
        rows(&store) - before,
        MAX_ADDRESSES_PER_MINUTE as u64 + 1,
        "one per address up to the cap, then one shared"
    );
    let entries: Vec<_> = all(&store)
        .into_iter()
        .filter(|e| e.action == "auth.failed")
        .collect();
    assert_eq!(entries.iter().map(count).sum::<u64>(), 1200);
    let shared = entries
        .iter()
        .find(|e| e.from == "unknown")
        .expect("a shared entry");
    assert_eq!(shared.details["addresses"], "200");
    assert!(entries.iter().all(|e| e.actor == AuditActor::Anonymous));
}

#[test]
fn a_new_minute_starts_new_entries_and_closes_the_old_counts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, made) = store(&dir);
    let failed = FailedAuth::new(store.clone());
    let claimed = Refusal {
        reason: Reason::WrongSecret,
        token_id: Some(made.token.record.id.to_string()),
        user: Some(made.owner.clone()),
    };
    failed.record(ip(1), &claimed, T0).expect("record");
    failed
        .record(ip(1), &anonymous(), T0 + 1_000)
        .expect("record");
    failed
        .record(ip(1), &anonymous(), T0 + 61_000)
        .expect("record");
    let entries: Vec<_> = all(&store)
        .into_iter()
        .filter(|e| e.action == "auth.failed")
        .collect();
    assert_eq!(entries.len(), 2, "{entries:#?}");
    let first = &entries[1];
    assert_eq!(count(first), 2, "written when its minute ended");
    assert_eq!(first.details["reasons"], "malformed token, wrong secret");
    assert_eq!(first.target.as_ref().map(|t| t.name.as_str()), Some("ada"));
    assert_eq!(first.from, "0.0.0.1");
    assert_eq!(count(&entries[0]), 1);
}

fn server_wide(about: Vec<Id>, action: &'static str) -> Record {
    Record {
        workspace: None,
        actor: AuditActor::Operator,
        action,
        target: None,
        details: Default::default(),
        from: Source::AdminSocket,
        about,
    }
}

fn seen(store: &Store, ws: &Id, user: &Id) -> Vec<String> {
    let txn = store.begin_read().expect("read");
    let filter = Filter {
        limit: 100,
        ..Filter::default()
    };
    for_member(&txn, ws, user, &filter)
        .expect("page")
        .0
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[test]
fn server_wide_entries_are_seen_where_they_concern_a_member_and_the_rest_by_server_owners() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, made) = store(&dir);
    let acme = made.workspace.id.clone();
    let ada = made.owner.id.clone();
    let (bob, _) = workspace::add_member(&store, &acme, "bob", Role::Admin).expect("bob");
    // Carl owns another workspace and shares none with ada or bob.
    let carl = UserRecord {
        id: Id::parse("usr_0c0c0c0c0c0c0c0c").expect("id"),
        name: "carl".into(),
        created_at: T0,
    };
    let side = Id::parse("ws_5s5s5s5s5s5s5s5s").expect("id");
    let txn = store.begin_write().expect("write");
    txn.open_table(USERS)
        .expect("users")
        .insert(
            carl.id.as_str(),
            encode("users", &carl).expect("encode").as_slice(),
        )
        .expect("insert");
    // Created after Acme, so Acme stays the server's first workspace.
    let later = crate::service::now_ms() + 1_000;
    workspace::create(&txn, &carl.id, &side, "Side", (later, Source::Unknown)).expect("create");
    append(&txn, T0, server_wide(vec![ada.clone()], "token.revoke")).expect("append");
    append(&txn, T0, server_wide(vec![carl.id.clone()], "token.create")).expect("append");
    append(&txn, T0, server_wide(Vec::new(), "backup.create")).expect("append");
    txn.commit().expect("commit");

    let ada_sees = seen(&store, &acme, &ada);
    assert_eq!(
        ada_sees,
        [
            "backup.create",
            "token.revoke",
            "member.add",
            "workspace.create"
        ],
        "newest first"
    );
    let bob_sees = seen(&store, &acme, &bob.id);
    assert_eq!(
        bob_sees,
        ["token.revoke", "member.add", "workspace.create"],
        "an admin: no backups"
    );
    assert_eq!(
        seen(&store, &side, &carl.id),
        ["token.create", "workspace.create"],
        "carl: his workspace and his tokens only"
    );
    assert!(
        seen(&store, &side, &ada).is_empty(),
        "a non-member reads nothing"
    );
}

#[test]
fn retention_drops_only_old_entries() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = store(&dir);
    let day = 86_400_000;
    let now = crate::service::now_ms();
    let txn = store.begin_write().expect("write");
    for age in [400, 366, 10, 0] {
        append(
            &txn,
            now - age * day,
            server_wide(Vec::new(), "backup.create"),
        )
        .expect("append");
    }
    txn.commit().expect("commit");
    let before = rows(&store);
    assert_eq!(
        retention::prune(&store, now, 0).expect("prune"),
        0,
        "0 keeps all"
    );
    assert_eq!(retention::prune(&store, now, 365).expect("prune"), 2);
    assert_eq!(rows(&store), before - 2);
    // The workspace entry from init (now) stays with the two recent ones.
    let ages: Vec<i64> = all(&store).iter().map(|e| (now - e.at) / day).collect();
    assert!(ages.iter().all(|a| *a <= 10), "{ages:?}");
}

#[test]
fn a_server_wide_action_by_a_member_is_seen_in_their_workspaces() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, made) = store(&dir);
    let acme = made.workspace.id.clone();
    let ada = made.owner.id.clone();
    let gone = Id::parse("ws_9g9g9g9g9g9g9g9g").expect("id");
    let txn = store.begin_write().expect("write");
    let ctx = crate::service::Ctx {
        workspace: &gone,
        actor: &ada,
        role: Role::Owner,
        scope: warren_protocol::account::TokenScope::Full,
        now: T0,
        seq: 1,
        from: Source::Peer(IpAddr::from([192, 0, 2, 1])),
    };
    ctx.audit_server_wide(&txn, "workspace.delete", None, Default::default())
        .expect("audit");
    txn.commit().expect("commit");
    let entries = all(&store);
    let deleted = entries
        .iter()
        .find(|e| e.action == "workspace.delete")
        .expect("recorded");
    assert_eq!(deleted.workspace_id, None);
    assert_eq!(deleted.from, "192.0.2.1");
    assert!(matches!(&deleted.actor, AuditActor::User { name, .. } if name == "ada"));
    assert!(seen(&store, &acme, &ada).contains(&"workspace.delete".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_writer_an_applied_command_leaves_one_entry_and_a_retry_or_refusal_none() {
    use warren_protocol::{Command, RequestId};
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, made) = store(&dir);
    let acme = made.workspace.id.clone();
    let (mira, _) = workspace::add_member(&store, &acme, "mira", Role::Member).expect("mira");
    let hub = std::sync::Arc::new(crate::hub::Hub::default());
    let (writer, thread) = crate::writer::spawn(store.clone(), hub).expect("writer");
    let from = Source::Peer(IpAddr::from([198, 51, 100, 7]));
    let conn = writer.with_source(from);
    let promote = Command::SetMemberRole {
        user_id: mira.id.clone(),
        role: Role::Admin,
    };
    let req = RequestId::parse("req-promote").expect("request id");
    for _ in 0..2 {
        conn.submit(
            made.owner.id.clone(),
            acme.clone(),
            req.clone(),
            promote.clone(),
        )
        .await
        .expect("applied (then a duplicate)");
    }
    // Refused: the last owner cannot be demoted, and a rename with no name is invalid.
    let demote = Command::SetMemberRole {
        user_id: made.owner.id.clone(),
        role: Role::Member,
    };
    let refused = conn
        .submit(
            made.owner.id.clone(),
            acme.clone(),
            RequestId::parse("req-demote").expect("request id"),
            demote,
        )
        .await;
    assert!(refused.is_err());
    let refused = conn
        .submit(
            mira.id.clone(),
            acme.clone(),
            RequestId::parse("req-rename").expect("request id"),
            Command::RenameWorkspace { name: " ".into() },
        )
        .await;
    assert!(refused.is_err());
    drop((writer, conn));
    thread.join().expect("writer stops");
    let entries: Vec<_> = all(&store)
        .into_iter()
        .filter(|e| e.action == "member.role" || e.action == "workspace.rename")
        .collect();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0].from, "198.51.100.7");
    assert_eq!(entries[0].details["to"], "admin");
    assert_eq!(entries[0].workspace_id.as_ref(), Some(&acme));
}
