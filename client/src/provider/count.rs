//! Counting tokens when a provider reports none (llama.cpp streams no usage): the prompt is
//! estimated at four characters a token, the answer counted from what streamed (see
//! [`super::turn::Turn::finish`]). Figures counted this way carry `Usage::counted`.

use super::request::{ChatMessage, ModelRequest};

/// Tokens in `chars` characters of English-like text, rounded up.
pub fn tokens_of_chars(chars: usize) -> u64 {
    chars.div_ceil(4) as u64
}

/// The characters a request's prompt holds: the system prompt, every message, and the tools'
/// names, descriptions and schemas.
pub fn prompt_chars(request: &ModelRequest) -> usize {
    let messages: usize = request
        .messages
        .iter()
        .map(|m| match m {
            ChatMessage::User { text } => text.chars().count(),
            ChatMessage::Assistant { text, tool_calls } => {
                text.chars().count()
                    + tool_calls
                        .iter()
                        .map(|c| c.name.len() + c.arguments.chars().count())
                        .sum::<usize>()
            }
            ChatMessage::ToolResult { name, content, .. } => name.len() + content.chars().count(),
        })
        .sum();
    let tools: usize = request
        .tools
        .iter()
        .map(|t| t.name.len() + t.description.chars().count() + t.parameters.to_string().len())
        .sum();
    request.system.chars().count() + messages + tools
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::request::ToolChoice;

    #[test]
    fn the_prompt_is_estimated_at_four_characters_a_token() {
        assert_eq!(tokens_of_chars(0), 0);
        assert_eq!(tokens_of_chars(1), 1);
        assert_eq!(tokens_of_chars(8), 2);
        let request = ModelRequest {
            model: "m".into(),
            system: "abcd".into(),
            messages: vec![ChatMessage::User {
                text: "efgh".into(),
            }],
            tools: Vec::new(),
            tool_choice: ToolChoice::Auto,
            max_tokens: None,
            temperature: None,
        };
        assert_eq!(prompt_chars(&request), 8);
    }
}
