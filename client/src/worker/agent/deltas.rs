//! Streamed text on its way to the watchers: the provider layer hands each piece to a
//! [`DeltaSink`] (synchronously, from inside the stream), and a [`DeltaPump`] running beside
//! the call turns the pieces into `agent_delta` frames. A piece goes out at once unless a frame
//! left less than [`GAP`] ago; then what arrives meanwhile is sent as one frame when the gap
//! has passed. So a fast stream becomes at most a thousand frames a second (the relay measured
//! fine at that rate with 100 watchers), and no text waits longer than the gap: a model that
//! streams slower than a token a millisecond (every hosted one) is never held at all. `offset` is the byte length of the step's text before each frame's text.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

/// The least time between two frames of one step; also the longest any text is held.
pub const GAP: Duration = Duration::from_millis(1);
/// Most text in one frame, in bytes (a larger burst goes as several frames).
pub const MAX_FRAME_TEXT: usize = 64 * 1024;

/// Where the provider layer puts each piece of text.
#[derive(Clone)]
pub struct DeltaSink(mpsc::UnboundedSender<String>);

impl DeltaSink {
    pub fn push(&self, piece: &str) {
        if !piece.is_empty() {
            let _ = self.0.send(piece.to_owned());
        }
    }
}

/// Turns the pieces into frames; see the module comment.
pub struct DeltaPump(mpsc::UnboundedReceiver<String>);

/// A sink and its pump.
pub fn channel() -> (DeltaSink, DeltaPump) {
    let (tx, rx) = mpsc::unbounded_channel();
    (DeltaSink(tx), DeltaPump(rx))
}

impl DeltaPump {
    /// Sends frames through `send(offset, text)` until every sink is dropped and the last piece
    /// went out; returns the bytes sent.
    pub async fn run(mut self, mut send: impl FnMut(u64, String)) -> u64 {
        let mut offset = 0u64;
        let mut last: Option<Instant> = None;
        let mut open = true;
        while open {
            let Some(mut text) = self.0.recv().await else {
                break;
            };
            if let Some(at) = last {
                let until = at + GAP;
                while Instant::now() < until {
                    tokio::select! {
                        biased;
                        more = self.0.recv() => match more {
                            Some(piece) => text.push_str(&piece),
                            None => {
                                open = false;
                                break;
                            }
                        },
                        () = sleep_until(until) => break,
                    }
                }
            }
            while let Ok(piece) = self.0.try_recv() {
                text.push_str(&piece);
            }
            for piece in pieces(text) {
                let len = piece.len() as u64;
                send(offset, piece);
                offset += len;
            }
            last = Some(Instant::now());
        }
        offset
    }
}

/// `text` cut into frames of at most [`MAX_FRAME_TEXT`] bytes, never inside a character.
fn pieces(text: String) -> Vec<String> {
    if text.len() <= MAX_FRAME_TEXT {
        return vec![text];
    }
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let mut cut = rest.len().min(MAX_FRAME_TEXT);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push(head.to_owned());
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    type Frames = Arc<Mutex<Vec<(u64, String, Instant)>>>;

    fn start() -> (DeltaSink, Frames, tokio::task::JoinHandle<u64>) {
        let (sink, pump) = channel();
        let frames: Frames = Arc::default();
        let seen = frames.clone();
        let task = tokio::spawn(pump.run(move |offset, text| {
            seen.lock()
                .expect("frames")
                .push((offset, text, Instant::now()))
        }));
        (sink, frames, task)
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_piece_goes_at_once_and_a_burst_waits_at_most_the_gap() {
        let (sink, frames, task) = start();
        let t0 = Instant::now();
        sink.push("Hel");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_micros(10)).await;
        sink.push("lo");
        sink.push(", wörld");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let t2 = Instant::now();
        sink.push("!");
        drop(sink);
        let sent = task.await.expect("the pump ends");
        let frames = frames.lock().expect("frames").clone();
        let texts: Vec<(u64, &str)> = frames.iter().map(|(o, t, _)| (*o, t.as_str())).collect();
        assert_eq!(texts, [(0, "Hel"), (3, "lo, wörld"), (13, "!")]);
        assert_eq!(sent, 14);
        assert_eq!(frames[0].2, t0, "the first piece is not held");
        assert!(frames[1].2 - frames[0].2 <= GAP, "held longer than the gap");
        assert_eq!(frames[2].2, t2, "a piece after a quiet gap goes at once");
    }

    #[test]
    fn a_huge_burst_is_cut_between_characters() {
        let text = "é".repeat(MAX_FRAME_TEXT);
        let parts = pieces(text.clone());
        assert!(parts.len() >= 2);
        assert!(parts.iter().all(|p| p.len() <= MAX_FRAME_TEXT));
        assert_eq!(parts.concat(), text);
    }
}
