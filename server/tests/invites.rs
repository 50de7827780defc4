//! Invites through the library API: a one-use invite used by two people at once lets exactly
//! one in (both joins go through the writer, possibly in one group commit), the member is added
//! with the invite's role and a `member_added` event, and the store keeps only the code's hash.

use std::sync::Arc;

use warren_protocol::account::{AccountOp, AccountResult, TokenScope};
use warren_protocol::{Change, ErrorCode, Role};
use warren_server::audit::Source;
use warren_server::hub::Hub;
use warren_server::service::invites::{self, Joiner};
use warren_server::service::workspace::bootstrap;
use warren_server::store::Store;
use warren_server::writer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_use_invite_lets_in_exactly_one_of_two_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::create(dir.path()).expect("create store");
    let boot = bootstrap(&store, "ada", "Acme").expect("bootstrap");
    let (writer, _thread) = writer::spawn(store.clone(), Arc::new(Hub::default())).expect("writer");
    let op = AccountOp::CreateInvite {
        workspace_id: boot.workspace.id.clone(),
        role: Role::Viewer,
        expires_in_secs: None,
        uses: None,
    };
    let now = warren_server::service::now_ms();
    let created = invites::apply(
        &store,
        &boot.owner.id,
        (TokenScope::Full, Source::Unknown),
        &op,
        now,
    )
    .expect("the owner creates an invite");
    let AccountResult::InviteCreated { invite, code } = created else {
        panic!("expected invite_created");
    };
    let (record, secret) = invites::find(&store, &code)
        .expect("read")
        .expect("the code names the invite");
    assert_eq!(record.id, invite.id);
    assert_ne!(record.secret_sha256, secret.0, "only a digest is stored");
    assert!(!record.secret_sha256.contains(&secret.0));

    let join = |name: &str| {
        let joiner = Joiner::New {
            id: warren_server::auth::new_id("usr").expect("id"),
            name: name.to_owned(),
        };
        writer.join(
            record.workspace_id.clone(),
            record.id.clone(),
            secret.clone(),
            joiner,
        )
    };
    let (a, b) = tokio::join!(join("grace"), join("hopper"));
    let (won, lost) = match (a, b) {
        (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
        other => panic!("exactly one join may win: {other:?}"),
    };
    assert_eq!(lost.code, ErrorCode::InviteUnusable, "{lost:?}");
    assert!(lost.message.contains("used up"), "{lost:?}");
    let Change::MemberAdded { member } = &won.event.change else {
        panic!("expected member_added, got {:?}", won.event.change);
    };
    assert_eq!(member.role, Role::Viewer);
    assert!(won.minted.is_some(), "a new user gets a first token");

    // A wrong secret for a real invite is "not a valid invite", like an unknown code.
    let mut wrong = code.clone();
    let last = wrong.pop().expect("a code");
    wrong.push(if last == 'a' { 'b' } else { 'a' });
    assert!(invites::find(&store, &wrong).expect("read").is_none());
    let listed = invites::apply(
        &store,
        &boot.owner.id,
        (TokenScope::Full, Source::Unknown),
        &AccountOp::ListInvites {
            workspace_id: boot.workspace.id.clone(),
        },
        now,
    )
    .expect("list");
    let AccountResult::Invites { invites } = listed else {
        panic!("expected invites");
    };
    assert_eq!(invites[0].uses_left, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_limits_and_roles_are_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::create(dir.path()).expect("create store");
    let boot = bootstrap(&store, "ada", "Acme").expect("bootstrap");
    let create = |role, secs, uses, scope| {
        invites::apply(
            &store,
            &boot.owner.id,
            (scope, Source::Unknown),
            &AccountOp::CreateInvite {
                workspace_id: boot.workspace.id.clone(),
                role,
                expires_in_secs: secs,
                uses,
            },
            1_000,
        )
    };
    let code = |r: Result<AccountResult, warren_server::service::ApplyError>| match r {
        Err(warren_server::service::ApplyError::Rejected(e)) => e.code,
        other => panic!("expected a rejection, got {:?}", other.map(|_| ())),
    };
    assert_eq!(
        code(create(Role::Bot, None, None, TokenScope::Full)),
        ErrorCode::Validation
    );
    assert_eq!(
        code(create(
            Role::Member,
            Some(31 * 86_400),
            None,
            TokenScope::Full
        )),
        ErrorCode::Validation
    );
    assert_eq!(
        code(create(Role::Member, None, Some(101), TokenScope::Full)),
        ErrorCode::Validation
    );
    assert_eq!(
        code(create(Role::Member, None, None, TokenScope::Read)),
        ErrorCode::Forbidden,
        "a read-scoped token may not invite"
    );
    // The owner may invite an owner; defaults are 7 days and one use.
    let made = create(Role::Owner, None, None, TokenScope::Full).expect("owner invite");
    let AccountResult::InviteCreated { invite, .. } = made else {
        panic!("expected invite_created");
    };
    assert_eq!(invite.expires_at, 1_000 + 7 * 86_400_000);
    assert_eq!(invite.uses, 1);
}
