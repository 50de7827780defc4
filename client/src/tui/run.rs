//! The event loop of the full-screen client: one `select!` over terminal input, network events
//! and a redraw deadline. Redraws are coalesced (at most one per frame interval, none while
//! idle), so a burst of events costs one frame and an idle client sleeps.

use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::app::App;
use super::net::{self, Target};
use super::state::{ConnState, Overlay};
use super::{terminal, view};
use crate::error::ClientError;

/// Shortest time between two frames (about 60 per second).
pub const FRAME: Duration = Duration::from_millis(16);

/// Everything the client needs to start.
pub struct Launch {
    pub target: Target,
    pub app: App,
    /// Problems with the user's keymap or theme, shown first.
    pub problems: Vec<String>,
}

/// Takes over the terminal (with bracketed paste), runs until the user quits, and restores the
/// terminal (also on panic).
pub async fn run(launch: Launch) -> Result<(), ClientError> {
    let mut terminal = terminal::take_over().map_err(ClientError::Output)?;
    let result = event_loop(&mut terminal, launch).await;
    terminal::give_back();
    result
}

async fn event_loop(terminal: &mut DefaultTerminal, launch: Launch) -> Result<(), ClientError> {
    let Launch {
        target,
        mut app,
        problems,
    } = launch;
    if !problems.is_empty() {
        app.overlay = Some(Overlay::Problems {
            lines: problems,
            scroll: 0,
        });
    }
    let (requests, request_rx) = mpsc::unbounded_channel();
    let (event_tx, mut net_events) = mpsc::unbounded_channel();
    let room = crate::room::Room::new(net::PUSH_WINDOW);
    let net_task = tokio::spawn(net::run(target, request_rx, event_tx, room.clone()));
    let mut input = EventStream::new();
    let mut hangup = Hangup::new();
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    loop {
        let now = Instant::now();
        app.expire_notice(now);
        if dirty && last_draw.is_none_or(|t| now >= t + FRAME) {
            terminal
                .draw(|frame| view::render(&app, frame))
                .map_err(ClientError::Output)?;
            last_draw = Some(now);
            dirty = false;
            // Drawing shows which log lines the viewer lacks: ask for them now.
            app.request_log_pages();
            for request in app.outbound.drain(..) {
                let _ = requests.send(request);
            }
        }
        let wake = if dirty {
            last_draw.map(|t| t + FRAME)
        } else {
            next_wakeup(&app, now)
        };
        tokio::select! {
            event = input.next() => match event {
                Some(Ok(Event::Key(key))) => app.on_key(key),
                Some(Ok(Event::Paste(text))) => app.on_paste(&text),
                Some(Ok(Event::Resize(..))) => {}
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(ClientError::Output(e)),
                None => break,
            },
            event = net_events.recv() => match event {
                Some(event) => {
                    let push = matches!(event, net::NetEvent::Push(_));
                    app.on_net(event);
                    if push {
                        room.give();
                    }
                }
                None => break,
            },
            () = sleep_until(wake) => {}
            () = hangup.recv() => break,
        }
        dirty = true;
        if let Some(text) = app.copy_request.take()
            && let Err(e) = super::clipboard::write_to_terminal(&text)
        {
            app.notify(
                format!("Could not copy: writing to the terminal failed ({e})"),
                true,
            );
        }
        for request in app.outbound.drain(..) {
            let _ = requests.send(request);
        }
        if app.quit {
            break;
        }
    }
    drop(requests);
    let _ = tokio::time::timeout(Duration::from_secs(2), net_task).await;
    Ok(())
}

/// SIGTERM and SIGHUP (the terminal closed): quit like `q`, so a local server stops cleanly and
/// a demo's temporary store is removed.
struct Hangup {
    #[cfg(unix)]
    signals: Vec<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = [SignalKind::terminate(), SignalKind::hangup()]
                .into_iter()
                .filter_map(|kind| signal(kind).ok())
                .collect();
            Self { signals }
        }
        #[cfg(not(unix))]
        Self {}
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            if self.signals.is_empty() {
                return std::future::pending().await;
            }
            let waits = self.signals.iter_mut().map(|s| Box::pin(s.recv()));
            let _ = futures_util::future::select_all(waits).await;
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// When something on screen changes by itself: a reconnect countdown ticks each second, a
/// typing hint expires, and a status message times out. `None` while idle, so an idle client
/// does not wake up at all.
pub(crate) fn next_wakeup(app: &App, now: Instant) -> Option<Instant> {
    let mut wake: Option<Instant> = None;
    let mut consider = |t: Instant| {
        if t > now {
            wake = Some(wake.map_or(t, |w: Instant| w.min(t)));
        }
    };
    if let ConnState::Reconnecting { at, .. } = &app.conn {
        let remaining = at.saturating_duration_since(now);
        let frac = remaining.as_millis() % 1000;
        consider(now + Duration::from_millis(if frac == 0 { 1000 } else { frac as u64 }));
    }
    if let Some(until) = app.notice_deadline() {
        consider(until);
    }
    for list in app.chat.typing.values() {
        for (_, until) in list {
            consider(*until);
        }
    }
    // An agent's spinner turns while it writes, even between tokens.
    if app.animating() {
        consider(now + Duration::from_millis(100));
    }
    wake
}
