//! Message times follow the daylight-saving rules in force when each message was written, not
//! the offset warren started with.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::fixture::*;
use crate::tui::net::NetEvent;

fn at(s: &str) -> i64 {
    s.parse::<Timestamp>().map_or(0, |t| t.as_millisecond())
}

#[test]
fn winter_and_summer_messages_show_their_own_local_time() {
    let Ok(berlin) = TimeZone::get("Europe/Berlin") else {
        // No time zone database on this machine: nothing to compare against.
        return;
    };
    let mut app = sample_app();
    app.zone = berlin;
    let general = id("room", 1);
    let mut winter = message(1, &general, &other(), 1, "in winter");
    winter.created_at = at("2026-01-15T12:00:00Z");
    let mut summer = message(2, &general, &me(), 2, "in summer");
    summer.created_at = at("2026-07-15T12:00:00Z");
    app.on_net(NetEvent::Page {
        room_id: general,
        messages: vec![winter, summer],
        has_more: false,
    });
    press(&mut app, "2");
    let text = format!("{}", draw(&app, 80, 24).backend());
    // 12:00 UTC is 13:00 in Berlin in January (CET) and 14:00 in July (CEST).
    assert!(text.contains("13:00"), "winter time: {text}");
    assert!(text.contains("14:00"), "summer time: {text}");
    assert!(
        text.contains("2026-01-15") && text.contains("2026-07-15"),
        "{text}"
    );
}

/// A card's details show its times on the same local clock as the chat (they were in UTC).
#[test]
fn card_details_show_local_times() {
    let Ok(berlin) = TimeZone::get("Europe/Berlin") else {
        return;
    };
    let mut cards = sample_cards();
    cards[0].created_at = at("2026-07-15T12:00:00Z");
    cards[0].updated_at = at("2026-07-15T12:30:00Z");
    let mut app = app_with(state(cards, vec![room(1, "general")]));
    app.zone = berlin;
    press(&mut app, "\n");
    let text = format!("{}", draw(&app, 80, 24).backend());
    assert!(
        text.contains("2026-07-15 14:00"),
        "created, summer time: {text}"
    );
    assert!(
        text.contains("2026-07-15 14:30"),
        "updated, summer time: {text}"
    );
}
