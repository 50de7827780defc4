//! Presence against a real server: who is online comes from live subscribed connections, per
//! user. Mira opens two connections (a `warren events --follow` process and a socket); Ada, who
//! watches the workspace, sees her come online once, stay online when one of the two closes, and
//! go offline when the last one does. `warren member list` shows the same.

use std::time::Duration;

use warren_e2e::Server;
use warren_e2e::cli::Cli;
use warren_e2e::client::Client;
use warren_protocol::{Id, Query, QueryResult};

/// Open WebSocket connections, from `GET /metrics`.
async fn connections(server: &Server) -> u64 {
    warren_e2e::raw::metric(server.addr, "warren_connections").await
}

/// Waits (polling, bounded) until the server counts `n` open connections.
async fn until_connections(server: &Server, n: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let now = connections(server).await;
        if now == n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server still counts {now} connections, not {n}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn online_now(ada: &mut Client) -> Vec<Id> {
    match ada.query(&Query::Presence).await {
        QueryResult::Presence { online } => online,
        other => panic!("{other:?}"),
    }
}

/// `online` of each member in `warren member list --json`, by name.
async fn listed_online(cli: &Cli) -> Vec<(String, bool, String)> {
    let list = cli.run(&["member", "list", "--json"]).await.ok().json();
    list.as_array()
        .expect("an array")
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap_or_default().to_owned(),
                m["online"].as_bool().expect("online is a bool"),
                m["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_is_online_until_their_last_connection_closes() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let mira_token = server.add_member("mira", "member").await;
    let bot_token = server.add_member("ci", "bot").await;
    server.restart().await;
    let ada_cli = Cli::new(&server.http_url(), &server.token);

    let mut ada = warren_e2e::connect_hello(server.addr, &server.token).await;
    ada.subscribe(None).await;
    let me = ada.user.clone().expect("welcome").user_id;
    ada.expect_until("ada's own presence", |c| {
        c.presence.last().is_some_and(|o| o.contains(&me))
    })
    .await;
    let mira_id = ada
        .snapshot()
        .await
        .members
        .into_iter()
        .find(|m| m.name == "mira")
        .map(|m| m.user_id)
        .expect("mira");
    assert_eq!(
        listed_online(&ada_cli).await,
        [
            ("ada".to_owned(), true, "online".to_owned()),
            ("mira".to_owned(), false, "offline".to_owned()),
            ("ci".to_owned(), false, "offline".to_owned())
        ]
    );
    // A bot (a worker, say) that subscribes is online like a person.
    let mut bot = warren_e2e::connect_hello(server.addr, &bot_token).await;
    bot.subscribe(None).await;
    let bot_id = bot.user.clone().expect("welcome").user_id;
    ada.expect_until("the bot online", |c| {
        c.presence.last().is_some_and(|o| o.contains(&bot_id))
    })
    .await;
    drop(bot);
    ada.expect_until("the bot offline", |c| {
        c.presence.last().is_some_and(|o| !o.contains(&bot_id))
    })
    .await;

    // Mira's first connection: a following CLI process.
    let mira_cli = Cli::new(&server.http_url(), &mira_token);
    let mut follow = mira_cli.spawn(&["events", "--follow"]);
    ada.expect_until("mira online", |c| {
        c.presence.last().is_some_and(|o| o.contains(&mira_id))
    })
    .await;
    let frames_when_online = ada.presence.len();

    // Her second connection: she is online already, so Ada hears nothing new.
    let mut second: Client = warren_e2e::connect_hello(server.addr, &mira_token).await;
    second.subscribe(None).await;
    second
        .expect_until("the list on subscribe", |c| {
            c.presence.last().is_some_and(|o| o.contains(&mira_id))
        })
        .await;
    until_connections(&server, 3).await;

    // The process goes away (its socket closes with it): still online through the other.
    follow.kill().await.expect("kill the follower");
    until_connections(&server, 2).await;
    assert!(
        online_now(&mut ada).await.contains(&mira_id),
        "still online"
    );
    assert!(listed_online(&ada_cli).await.contains(&(
        "mira".to_owned(),
        true,
        "online".to_owned()
    )));
    assert!(
        ada.presence[frames_when_online..]
            .iter()
            .all(|o| o.contains(&mira_id)),
        "no frame said mira left: {:?}",
        ada.presence
    );

    // The last one closes: offline, pushed to Ada.
    drop(second);
    ada.expect_until("mira offline", |c| {
        c.presence.last().is_some_and(|o| !o.contains(&mira_id))
    })
    .await;
    assert_eq!(online_now(&mut ada).await, vec![me.clone()]);
    assert!(listed_online(&ada_cli).await.contains(&(
        "mira".to_owned(),
        false,
        "offline".to_owned()
    )));

    // A client that (re)subscribes gets the current list without any history.
    let mut again = warren_e2e::connect_hello(server.addr, &mira_token).await;
    again.subscribe(Some(1)).await;
    again
        .expect_until("the list after resubscribing", |c| !c.presence.is_empty())
        .await;
    let mut expected = vec![me, mira_id];
    expected.sort();
    assert_eq!(again.presence.last(), Some(&expected));
}
