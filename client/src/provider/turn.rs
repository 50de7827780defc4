//! The answer being assembled while it streams: text deltas (each handed to the caller's
//! `on_delta` as it arrives), tool calls assembled piece by piece, the usage and finish reason
//! the provider reports. The dialects write into it; [`Turn::finish`] makes the
//! [`Completion`], counting usage when the provider reported none.

use tokio::time::Instant;
use warren_protocol::agent::Usage;

use super::count;
use super::request::{Completion, FinishReason, ToolCall};

/// A tool call while its pieces arrive.
#[derive(Debug, Default)]
struct ToolDraft {
    /// The dialect's key for the call (OpenAI's `index`, Anthropic's content block index).
    key: u64,
    id: String,
    name: String,
    arguments: String,
}

/// One call's answer so far.
pub struct Turn<'a> {
    started: Instant,
    first_token: Option<Instant>,
    text: String,
    tools: Vec<ToolDraft>,
    /// Streamed pieces (text and tool-call argument deltas), for counted usage.
    deltas: u64,
    /// What the provider reported, as far as it did.
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub finish_reason: Option<FinishReason>,
    /// Set by the dialect when the stream said it was complete (`[DONE]`, `message_stop`,
    /// `done: true`, a finish reason).
    pub complete: bool,
    on_delta: &'a mut (dyn FnMut(&str) + Send),
}

impl<'a> Turn<'a> {
    pub fn new(started: Instant, on_delta: &'a mut (dyn FnMut(&str) + Send)) -> Turn<'a> {
        Turn {
            started,
            first_token: None,
            text: String::new(),
            tools: Vec::new(),
            deltas: 0,
            input_tokens: None,
            output_tokens: None,
            finish_reason: None,
            complete: false,
            on_delta,
        }
    }

    /// A piece of text: kept, and handed on at once.
    pub fn text(&mut self, piece: &str) {
        if piece.is_empty() {
            return;
        }
        self.first_token.get_or_insert_with(Instant::now);
        self.deltas += 1;
        self.text.push_str(piece);
        (self.on_delta)(piece);
    }

    /// A piece of the tool call `key`: its id and name when they come (usually first), then
    /// pieces of its arguments.
    pub fn tool(&mut self, key: u64, id: Option<&str>, name: Option<&str>, arguments: &str) {
        self.first_token.get_or_insert_with(Instant::now);
        if !arguments.is_empty() {
            self.deltas += 1;
        }
        let at = match self.tools.iter().position(|t| t.key == key) {
            Some(at) => at,
            None => {
                self.tools.push(ToolDraft {
                    key,
                    ..ToolDraft::default()
                });
                self.tools.len() - 1
            }
        };
        let draft = &mut self.tools[at];
        if let Some(id) = id.filter(|id| !id.is_empty()) {
            draft.id = id.to_string();
        }
        // OpenAI sends a call's name once; llama.cpp's server repeats it whole in every piece.
        // A repeat is kept once; a name sent in pieces is joined.
        if let Some(name) = name.filter(|n| !n.is_empty() && *n != draft.name) {
            draft.name.push_str(name);
        }
        draft.arguments.push_str(arguments);
    }

    /// Whether anything streamed (text or a tool call).
    pub fn has_content(&self) -> bool {
        !self.text.is_empty() || !self.tools.is_empty()
    }

    /// The completion: reported usage where the provider gave it, else counted
    /// (`deltas_are_tokens`: one streamed piece ≈ one token, as llama.cpp and Ollama stream;
    /// else characters / 4), with the prompt's tokens estimated from `prompt_chars`.
    pub fn finish(self, prompt_chars: usize, deltas_are_tokens: bool) -> Completion {
        let tool_calls: Vec<ToolCall> = self
            .tools
            .into_iter()
            .enumerate()
            .map(|(i, t)| ToolCall {
                id: if t.id.is_empty() {
                    format!("call_{i}")
                } else {
                    t.id
                },
                name: t.name,
                // A tool without parameters streams no arguments at all.
                arguments: if t.arguments.trim().is_empty() {
                    "{}".to_string()
                } else {
                    t.arguments
                },
            })
            .collect();
        let counted_output = || {
            if deltas_are_tokens {
                self.deltas
            } else {
                let chars = self.text.chars().count()
                    + tool_calls
                        .iter()
                        .map(|t| t.name.len() + t.arguments.chars().count())
                        .sum::<usize>();
                count::tokens_of_chars(chars)
            }
        };
        let usage = match (self.input_tokens, self.output_tokens) {
            (Some(input), Some(output)) => Usage {
                input_tokens: input,
                output_tokens: output,
                counted: false,
            },
            (input, output) => Usage {
                input_tokens: input.unwrap_or_else(|| count::tokens_of_chars(prompt_chars)),
                output_tokens: output.unwrap_or_else(counted_output),
                counted: true,
            },
        };
        let ms = |at: Instant| at.duration_since(self.started).as_millis() as u64;
        Completion {
            text: self.text,
            tool_calls,
            usage,
            finish_reason: self.finish_reason,
            first_token_ms: self.first_token.map(ms),
            latency_ms: ms(Instant::now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_handed_on_and_tool_calls_assembled_by_key() {
        let mut seen = Vec::new();
        let mut on_delta = |s: &str| seen.push(s.to_string());
        let mut turn = Turn::new(Instant::now(), &mut on_delta);
        turn.text("Hel");
        turn.text("");
        turn.text("lo");
        turn.tool(1, Some("call_b"), Some("card_move"), "");
        turn.tool(0, Some("call_a"), Some("card_create"), "{\"ti");
        turn.tool(0, None, None, "tle\":\"x\"}");
        turn.tool(1, None, None, "{}");
        let done = turn.finish(40, true);
        assert_eq!(seen, ["Hel", "lo"]);
        assert_eq!(done.text, "Hello");
        assert_eq!(done.tool_calls.len(), 2);
        assert_eq!(done.tool_calls[0].id, "call_b");
        assert_eq!(done.tool_calls[1].arguments, "{\"title\":\"x\"}");
        // 2 text deltas + 3 argument deltas counted; the prompt estimated at 40/4.
        assert_eq!(
            done.usage,
            Usage {
                input_tokens: 10,
                output_tokens: 5,
                counted: true
            }
        );
    }

    #[test]
    fn reported_usage_wins_and_is_not_marked_counted() {
        let mut on_delta = |_: &str| {};
        let mut turn = Turn::new(Instant::now(), &mut on_delta);
        turn.text("abcdefgh");
        turn.input_tokens = Some(7);
        turn.output_tokens = Some(2);
        let usage = turn.finish(1000, false).usage;
        assert_eq!(
            (usage.input_tokens, usage.output_tokens, usage.counted),
            (7, 2, false)
        );

        let mut turn = Turn::new(Instant::now(), &mut on_delta);
        turn.text("abcdefgh");
        turn.input_tokens = Some(7);
        let usage = turn.finish(1000, false).usage;
        // Output counted as characters / 4 when deltas are not tokens.
        assert_eq!(
            (usage.input_tokens, usage.output_tokens, usage.counted),
            (7, 2, true)
        );
    }
}
