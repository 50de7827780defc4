//! The chat screen with a long history: the selected message stays in view with the messages
//! below it drawn, and runs of messages by one author share a header.

use super::fixture::*;
use crate::tui::app::App;
use crate::tui::net::NetEvent;

/// Fourteen messages in #general: a conversation, some multi-line, some in runs by one author.
pub fn long_history(mut app: App) -> App {
    let general = id("room", 1);
    let bodies: [(bool, &str); 14] = [
        (false, "morning all"),
        (false, "standup in five?"),
        (true, "yes, joining"),
        (
            true,
            "the login rate limit PR is up:\n- tests for lockout\n- config knob",
        ),
        (false, "looking now"),
        (false, "left two comments"),
        (true, "fixed both"),
        (false, "approved ✔"),
        (true, "merging"),
        (false, "build #412 passed"),
        (true, "shipping the export next"),
        (false, "```sh\nwarren card list --json\n```"),
        (false, "that is the one I use"),
        (true, "lunch?"),
    ];
    let messages = bodies
        .iter()
        .enumerate()
        .map(|(i, (mine, body))| {
            let n = u8::try_from(i + 1).expect("small");
            let author = if *mine { me() } else { other() };
            message(n, &general, &author, 20 + u64::from(n), body)
        })
        .collect();
    app.on_net(NetEvent::Page {
        room_id: general,
        messages,
        has_more: false,
    });
    app
}

/// The history rows (between the room header and the message box).
fn history_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip(2)
        .take_while(|row| !row.contains("┌ Message") && !row.contains("┌ Edit"))
        .map(str::to_owned)
        .collect()
}

fn check_no_blank_rows_under_the_selection(screen: &str) {
    let rows = history_rows(screen);
    // Rows hold the rooms pane on the left; the history starts after its border.
    let blank_tail = rows
        .iter()
        .rev()
        .take_while(|row| {
            row.split('│')
                .nth(2)
                .is_none_or(|history| history.trim().is_empty())
        })
        .count();
    // One row is the typing line under the history.
    assert!(blank_tail <= 1, "blank rows under the history:\n{screen}");
}

#[test]
fn moving_the_selection_up_keeps_the_messages_below_it_80x24() {
    let mut app = long_history(sample_app());
    press(&mut app, "2kkkkkk");
    assert_eq!(app.chat.selected, Some(id("msg", 9)));
    let screen = format!("{}", draw(&app, 80, 24).backend());
    check_no_blank_rows_under_the_selection(&screen);
    assert!(
        screen.contains("merging") && screen.contains("lunch?"),
        "the selection and the messages below it:\n{screen}"
    );
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn moving_the_selection_up_keeps_the_messages_below_it_200x50() {
    let mut app = long_history(sample_app());
    press(&mut app, "2kkkkkk");
    let screen = format!("{}", draw(&app, 200, 50).backend());
    check_no_blank_rows_under_the_selection(&screen);
    insta::assert_snapshot!(draw(&app, 200, 50).backend());
}

#[test]
fn the_top_of_the_room_shows_the_rest_below_it() {
    let mut app = long_history(sample_app());
    press(&mut app, "2");
    for _ in 0..20 {
        press(&mut app, "k");
        let screen = format!("{}", draw(&app, 80, 24).backend());
        check_no_blank_rows_under_the_selection(&screen);
    }
    let screen = format!("{}", draw(&app, 80, 24).backend());
    assert!(screen.contains("start of the room"), "{screen}");
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn moving_down_scrolls_only_when_the_selection_leaves_the_screen() {
    let mut app = long_history(sample_app());
    press(&mut app, "2");
    for _ in 0..14 {
        press(&mut app, "k");
    }
    let at_top = format!("{}", draw(&app, 80, 24).backend());
    press(&mut app, "j");
    let one_down = format!("{}", draw(&app, 80, 24).backend());
    assert_eq!(
        history_rows(&at_top),
        history_rows(&one_down)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        "the text on screen is the same (only the highlight moved)"
    );
    assert!(
        one_down.contains("start of the room"),
        "one step down from the top does not scroll:\n{one_down}"
    );
}
