//! The CLI shows times on the user's local clock (`TZ`), like the full-screen client, not in UTC.

use warren_e2e::Server;
use warren_e2e::cli::Cli;

/// Minutes since midnight of the `HH:MM` that follows `label` on its line of `text`.
fn minutes_after(text: &str, label: &str) -> u32 {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} line in {text}"));
    let time = line
        .split_whitespace()
        .find(|w| w.len() == 5 && w.as_bytes()[2] == b':')
        .unwrap_or_else(|| panic!("no time on {line:?}"));
    let (h, m) = time.split_at(2);
    h.parse::<u32>().expect("hours") * 60 + m[1..].parse::<u32>().expect("minutes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn card_times_follow_the_local_time_zone() {
    if !std::path::Path::new("/usr/share/zoneinfo/Europe/Berlin").exists() {
        return; // no time zone database to compare against
    }
    let server = Server::start().await;
    let utc = Cli::new(&server.http_url(), &server.token).with_env("TZ", "UTC");
    let berlin = Cli::new(&server.http_url(), &server.token).with_env("TZ", "Europe/Berlin");
    utc.run(&["card", "add", "What time is it"]).await.ok();
    let in_utc = utc.run(&["card", "show", "1"]).await.ok().stdout;
    let in_berlin = berlin.run(&["card", "show", "1"]).await.ok().stdout;
    // Berlin is one hour ahead of UTC in winter, two in summer.
    let ahead = (minutes_after(&in_berlin, "created") + 24 * 60
        - minutes_after(&in_utc, "created"))
        % (24 * 60);
    assert!(
        ahead == 60 || ahead == 120,
        "Berlin is {ahead} minutes ahead:\n{in_utc}\n{in_berlin}"
    );
}
