//! Invitations end to end, with the real binaries: `warren invite create` prints a code once,
//! `warren join` uses it to make a working profile (whoami and a post work), a code lets in as
//! many people as it allows and no more, expired and revoked codes are refused with what to do,
//! a wrong code says only "not a valid invite" and guessing is cut off with 429 + Retry-After,
//! a signed-in user joins a second workspace, and the code is never listed, logged or stored.

use std::net::IpAddr;
use std::time::Duration;

use warren_e2e::Server;
use warren_e2e::cli::{Cli, Output};
use warren_e2e::raw::{body_of, header_of, post_json_from, status_of};

const LOOPBACK: [u8; 4] = [127, 0, 0, 1];

/// `warren invite create ARGS --json` as `cli`; returns (code, invite id).
async fn create_invite(cli: &Cli, args: &[&str]) -> (String, String) {
    let mut all = vec!["invite", "create"];
    all.extend_from_slice(args);
    all.push("--json");
    let created = cli.run(&all).await.ok().json();
    let code = created["code"].as_str().expect("a code").to_owned();
    let id = created["invite"]["id"].as_str().expect("an id").to_owned();
    assert!(code.starts_with("wri_"), "{created}");
    (code, id)
}

/// `warren join` from a fresh config directory.
async fn join(server: &Server, code: &str, name: &str) -> (Cli, Output) {
    let cli = Cli::bare();
    let out = cli
        .run(&[
            "join",
            "--server",
            &server.http_url(),
            "--invite",
            code,
            "--name",
            name,
        ])
        .await;
    (cli, out)
}

async fn post_join(server: &Server, body: &str, headers: &str) -> String {
    post_json_from(IpAddr::from(LOOPBACK), server.addr, "/join", headers, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_makes_a_working_profile_once_and_its_code_is_kept_nowhere() {
    let mut server = Server::start().await;
    let owner = Cli::new(&server.http_url(), &server.token);
    let (code, invite_id) = create_invite(&owner, &[]).await;
    let secret = &code["wri_".len() + 16..];

    // The list shows the invite (one use, 7 days, active) but never its code.
    let listed = owner.run(&["invite", "list", "--json"]).await.ok();
    assert!(!listed.stdout.contains(secret), "{listed:#?}");
    let invites = listed.json();
    assert_eq!(invites["invites"][0]["id"], invite_id.as_str());
    assert_eq!(invites["invites"][0]["uses_left"], 1);
    assert_eq!(invites["invites"][0]["state"], "active");
    let table = owner.run(&["invite", "list"]).await.ok();
    assert!(
        table.stdout.contains("ada") && table.stdout.contains("active"),
        "{table:#?}"
    );
    assert!(!table.stdout.contains(secret));

    // Join makes a profile (0600) that works for whoami and a post.
    let (grace, joined) = join(&server, &code, "grace").await;
    let joined = joined.ok();
    assert!(
        joined.stdout.contains("warren whoami") && joined.stdout.contains("Acme"),
        "{joined:#?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(grace.config_file())
            .expect("the profile is saved")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the profile holds a token");
    }
    let who = grace.run(&["whoami", "--json"]).await.ok().json();
    assert_eq!(who["name"], "grace", "{who}");
    assert_eq!(who["role"], "member", "{who}");
    grace
        .run(&["chat", "send", "general", "hello from grace"])
        .await
        .ok();
    let tail = owner.run(&["chat", "tail", "general"]).await.ok();
    assert!(tail.stdout.contains("hello from grace"), "{tail:#?}");

    // Single use: the next person is told it is used up.
    let (_, again) = join(&server, &code, "hopper").await;
    assert_eq!(again.code, 2, "{again:#?}");
    assert!(again.stderr.contains("used up"), "{again:#?}");
    let invites = owner.run(&["invite", "list", "--json"]).await.ok().json();
    assert_eq!(invites["invites"][0]["state"], "used_up");
    assert_eq!(invites["invites"][0]["uses_left"], 0);

    // A name already on the server is refused with what to do.
    let (second, _) = create_invite(&owner, &["--uses", "2", "--role", "viewer"]).await;
    let (_, taken) = join(&server, &second, "ADA").await;
    assert_eq!(taken.code, 2, "{taken:#?}");
    assert!(
        taken.stderr.contains("already taken") && taken.stderr.contains("--name"),
        "{taken:#?}"
    );
    let (viewer, ok) = join(&server, &second, "hopper").await;
    ok.ok();
    let who = viewer.run(&["whoami", "--json"]).await.ok().json();
    assert_eq!(who["role"], "viewer", "{who}");

    // Not in the log, and stored only as a hash: stop the server and read the store.
    assert!(!server.logs().contains(secret), "{}", server.logs());
    assert!(server.logs().contains("joined with an invite"));
    server.sigterm();
    assert!(server.wait_exit(Duration::from_secs(20)).await.success());
    let bytes = std::fs::read(server.data_dir().join("warren.redb")).expect("read the store");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains(secret),
        "the code's secret is in the store file"
    );
    assert!(
        text.contains("secret_sha256"),
        "invites are stored with a digest"
    );
    server.assert_store_checks_out().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_revoked_and_wrong_codes_are_refused_and_guessing_is_cut_off() {
    // Five failures per 5 s: a place refills every second, so the test waits little.
    let server = Server::start_with(&["--failed-auth-window", "5"]).await;
    let owner = Cli::new(&server.http_url(), &server.token);

    // Expired: wait (bounded) until the server itself lists it as expired, then try it.
    let (short, _) = create_invite(&owner, &["--expires", "1s"]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let list = owner.run(&["invite", "list", "--json"]).await.ok().json();
        if list["invites"][0]["state"] == "expired" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never expired: {list}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, expired) = join(&server, &short, "late").await;
    assert_eq!(expired.code, 2, "{expired:#?}");
    assert!(
        expired.stderr.contains("has expired") && expired.stderr.contains("new one"),
        "{expired:#?}"
    );
    let raw = post_join(
        &server,
        &format!(r#"{{"invite":"{short}","name":"late"}}"#),
        "",
    )
    .await;
    assert_eq!(status_of(&raw), Some(410), "{raw}");
    assert!(body_of(&raw).contains("invite_unusable"), "{raw}");

    // Revoked.
    let (revoked, revoked_id) = create_invite(&owner, &[]).await;
    owner.run(&["invite", "revoke", &revoked_id]).await.ok();
    let (_, refused) = join(&server, &revoked, "nope").await;
    assert!(refused.stderr.contains("was revoked"), "{refused:#?}");

    // None of that was a failed authentication: the codes were right. Now guess: five wrong
    // codes are "not a valid invite" and nothing more.
    let (good, _) = create_invite(&owner, &[]).await;
    let mut wrong = good.clone();
    let last = wrong.pop().expect("a code");
    wrong.push(if last == 'a' { 'b' } else { 'a' });
    for guess in [
        wrong.as_str(),
        "wri_00000000000000000000000000000000000000000000000",
        "junk",
    ]
    .into_iter()
    .cycle()
    .take(5)
    {
        let raw = post_join(
            &server,
            &format!(r#"{{"invite":"{guess}","name":"eve"}}"#),
            "",
        )
        .await;
        assert_eq!(status_of(&raw), Some(404), "{raw}");
        let body: serde_json::Value = serde_json::from_str(body_of(&raw)).expect("a JSON body");
        assert_eq!(body["code"], "not_found");
        let message = body["message"].as_str().expect("a message");
        assert!(message.starts_with("not a valid invite;"), "{message}");
        assert!(!message.contains("expired") && !message.contains("revoked"));
    }
    // The sixth is refused with 429 and Retry-After, also through the CLI, in plain words.
    let raw = post_join(
        &server,
        &format!(r#"{{"invite":"{wrong}","name":"eve"}}"#),
        "",
    )
    .await;
    assert_eq!(status_of(&raw), Some(429), "{raw}");
    let retry: u64 = header_of(&raw, "retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After in {raw}"));
    assert!((1..=5).contains(&retry), "{raw}");
    assert!(body_of(&raw).contains("auth_rate_limited"), "{raw}");
    assert_eq!(
        warren_e2e::raw::metric(server.addr, "warren_rate_limited_total").await,
        1,
        "the 429 is counted"
    );
    let (_, limited) = join(&server, &good, "eve").await;
    assert_eq!(limited.code, 2, "{limited:#?}");
    assert!(
        limited
            .stderr
            .contains("too many failed sign-ins from this address; try again in"),
        "even a right code waits: {limited:#?}"
    );
    // A good token from the same address waits too, then works once a place is free.
    let ws = |token: &str| {
        format!(
            "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Authorization: Bearer {token}\r\n\r\n"
        )
    };
    let status = upgrade_status(&server, &ws(&server.token)).await;
    assert_eq!(status, 429, "blocked while the bucket is empty");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = upgrade_status(&server, &ws(&server.token)).await;
        if status == 101 {
            break;
        }
        assert_eq!(status, 429);
        assert!(tokio::time::Instant::now() < deadline, "still blocked");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, joined) = join(&server, &good, "eve").await;
    joined.ok();
}

/// The status the server answers a raw upgrade request with.
async fn upgrade_status(server: &Server, request: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = warren_e2e::raw::connect_from(IpAddr::from(LOOPBACK), server.addr).await;
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buf = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(20), stream.read_exact(&mut buf))
        .await
        .expect("an answer in time")
        .expect("read the status line");
    status_of(&String::from_utf8_lossy(&buf)).expect("a status line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_user_joins_a_second_workspace_with_their_token() {
    let server = Server::start().await;
    let owner = Cli::new(&server.http_url(), &server.token);
    let (code, _) = create_invite(&owner, &[]).await;
    let (grace, joined) = join(&server, &code, "grace").await;
    joined.ok();

    owner.run(&["workspace", "create", "Side"]).await.ok();
    let (side, _) = create_invite(&owner, &["--workspace", "Side", "--role", "admin"]).await;
    let mut watcher = warren_e2e::connect_hello(server.addr, &server.token).await;
    let side_id = owner
        .run(&["workspace", "list", "--json"])
        .await
        .ok()
        .json();
    let side_id = side_id
        .as_array()
        .and_then(|all| all.iter().find(|w| w["name"] == "Side"))
        .and_then(|w| w["id"].as_str())
        .expect("Side is listed")
        .to_owned();
    watcher
        .send_json(&serde_json::json!({"type": "subscribe", "workspace_id": side_id}))
        .await
        .expect("subscribe to Side");
    watcher
        .expect_until("synced on Side", |c| !c.synced.is_empty())
        .await;

    // The profile's token goes along; no name is needed and no new token is made.
    let again = grace
        .run(&[
            "join",
            "--server",
            &server.http_url(),
            "--invite",
            &side,
            "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(again["user"]["name"], "grace", "{again}");
    assert_eq!(again["workspace"]["name"], "Side", "{again}");
    assert_eq!(again["role"], "admin", "{again}");
    assert!(
        again.get("token").is_none(),
        "no token for a signed-in join: {again}"
    );
    let workspaces = grace
        .run(&["workspace", "list", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(workspaces.as_array().map(Vec::len), Some(2), "{workspaces}");
    let who = grace
        .run(&["whoami", "--workspace", "Side", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(who["role"], "admin", "{who}");
    // Everyone in Side saw the new member arrive.
    watcher
        .expect_until("member_added for grace in Side", |c| {
            c.events.iter().any(|e| {
                matches!(&e.change, warren_protocol::Change::MemberAdded { member } if member.name == "grace")
                    && e.workspace_id.as_str() == side_id
            })
        })
        .await;

    // Joining a workspace you are in already uses nothing.
    let (twice, _) = create_invite(&owner, &["--workspace", "Side"]).await;
    let dup = grace
        .run(&["join", "--server", &server.http_url(), "--invite", &twice])
        .await;
    assert_eq!(dup.code, 2, "{dup:#?}");
    assert!(dup.stderr.contains("already a member"), "{dup:#?}");
    let list = owner
        .run(&["invite", "list", "--workspace", "Side", "--json"])
        .await
        .ok()
        .json();
    let unused = list["invites"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["uses_left"] == 1));
    assert!(unused.is_some(), "the invite was not used: {list}");

    // A member may not make invites.
    let refused = grace
        .run(&["invite", "create", "--workspace", "Acme"])
        .await;
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert!(refused.stderr.contains("member:manage"), "{refused:#?}");
}

/// Invite actions are in the audit log — made, used (by the joiner, from their address),
/// revoked — and no entry holds a code; a wrong code is an `auth.failed` entry saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_actions_are_audited_without_their_codes() {
    let server = Server::start().await;
    let owner = Cli::new(&server.http_url(), &server.token);
    let (used, used_id) = create_invite(&owner, &["--role", "viewer"]).await;
    let (spare, spare_id) = create_invite(&owner, &[]).await;
    let (_, joined) = join(&server, &used, "grace").await;
    joined.ok();
    owner.run(&["invite", "revoke", &spare_id]).await.ok();
    // Change the last character to one it is not (a code ending in `x` would otherwise stay the
    // revoked code and be refused as revoked, not as unknown).
    let last = if spare.ends_with('x') { 'y' } else { 'x' };
    let wrong = format!("{}{last}", &spare[..spare.len() - 1]);
    let (_, refused) = join(&server, &wrong, "mallory").await;
    assert_ne!(refused.code, 0, "{refused:#?}");

    let log = owner
        .run(&["audit", "--action", "invite", "--json"])
        .await
        .ok();
    for code in [&used, &spare] {
        assert!(!log.stdout.contains(&code["wri_".len()..]), "{log:#?}");
    }
    let entries: Vec<serde_json::Value> = log
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON entry per line"))
        .collect();
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default(),
                e["target"]["id"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        actions.contains(&("invite.create", used_id.as_str())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("invite.create", spare_id.as_str())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("invite.revoke", spare_id.as_str())),
        "{actions:?}"
    );
    let used_entry = entries
        .iter()
        .find(|e| e["action"] == "invite.use")
        .expect("an invite.use entry");
    assert_eq!(used_entry["actor"]["name"], "grace");
    assert_eq!(used_entry["details"]["invite"], used_id.as_str());
    assert_eq!(used_entry["details"]["role"], "viewer");
    assert_eq!(used_entry["from"], "127.0.0.1");
    assert_eq!(entries.len(), 4, "{actions:?}");

    // The refusal is recorded before the 401 is sent; read again for a few seconds anyway, so a
    // failure here says what the log held and what the join answered.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let failed = loop {
        let failed = owner
            .run(&["audit", "--action", "auth.failed", "--json"])
            .await
            .ok();
        if failed.stdout.contains("not a valid invite code") || std::time::Instant::now() > deadline
        {
            break failed;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(
        failed.stdout.contains("not a valid invite code"),
        "{failed:#?}\nthe refused join: {refused:#?}"
    );
}
