//! The built-in tools an agent may call: their names, what they change, the JSON schema the
//! model sees, and the typed arguments the server checks a call against. A call whose arguments
//! do not parse goes back to the model as a tool error (never a crash); a call that parses is
//! performed by the server as the agent's member, with that member's permissions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::model::Priority;

/// Most search results a `search` call returns.
pub const MAX_SEARCH_RESULTS: u32 = 20;

/// A built-in tool, named `card.create` and so on (on the command line and the wire); models see
/// [`ToolName::model_name`] (`card_create`), since function names may not contain dots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ToolName {
    /// Create a card on a board.
    #[serde(rename = "card.create")]
    CardCreate,
    /// Move a card to another column.
    #[serde(rename = "card.move")]
    CardMove,
    /// Post a message in a room.
    #[serde(rename = "message.post")]
    MessagePost,
    /// Start a run of a job (a child of the agent's run).
    #[serde(rename = "job.run")]
    JobRun,
    /// Find cards and messages by words.
    #[serde(rename = "search")]
    Search,
}

impl ToolName {
    /// Every tool, in help order.
    pub const ALL: [ToolName; 5] = [
        ToolName::CardCreate,
        ToolName::CardMove,
        ToolName::MessagePost,
        ToolName::JobRun,
        ToolName::Search,
    ];

    /// The wire and command-line name, such as `card.create`.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolName::CardCreate => "card.create",
            ToolName::CardMove => "card.move",
            ToolName::MessagePost => "message.post",
            ToolName::JobRun => "job.run",
            ToolName::Search => "search",
        }
    }

    /// The function name models see, such as `card_create`.
    pub fn model_name(self) -> &'static str {
        match self {
            ToolName::CardCreate => "card_create",
            ToolName::CardMove => "card_move",
            ToolName::MessagePost => "message_post",
            ToolName::JobRun => "job_run",
            ToolName::Search => "search",
        }
    }

    /// Parses either name (`card.create` or `card_create`).
    pub fn parse(name: &str) -> Option<ToolName> {
        let name = name.trim();
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == name || t.model_name() == name)
    }

    /// Whether calling it changes the workspace (those ask for approval unless auto-approved).
    pub fn changes_state(self) -> bool {
        !matches!(self, ToolName::Search)
    }

    /// What the tool does, for the model.
    pub fn description(self) -> &'static str {
        match self {
            ToolName::CardCreate => {
                "Create a card on a kanban board of this workspace. Returns the new card's number."
            }
            ToolName::CardMove => {
                "Move an existing card (by number) to another column of its board."
            }
            ToolName::MessagePost => "Post a message in a room of this workspace.",
            ToolName::JobRun => {
                "Start a run of a job (a named shell command) of this workspace, with parameters. \
                 Returns the run's number; it runs on a worker."
            }
            ToolName::Search => {
                "Search this workspace's cards and messages for words. Returns the best matches."
            }
        }
    }

    /// The JSON schema of the arguments object.
    pub fn schema(self) -> Value {
        match self {
            ToolName::CardCreate => json!({
                "type": "object",
                "properties": {
                    "title": {"type": "string", "description": "One line, at most 200 characters."},
                    "description": {"type": "string", "description": "Markdown."},
                    "board": {"type": "string", "description": "Board name (default: the first board)."},
                    "column": {"type": "string", "description": "Column name (default: the board's first column)."},
                    "priority": {"type": "string", "enum": ["none", "low", "medium", "high", "urgent"]},
                    "labels": {"type": "array", "items": {"type": "string"}}
                },
                "required": ["title"],
                "additionalProperties": false
            }),
            ToolName::CardMove => json!({
                "type": "object",
                "properties": {
                    "card": {"type": "integer", "description": "The card's number (12 for #12)."},
                    "column": {"type": "string", "description": "The column to move it to."}
                },
                "required": ["card", "column"],
                "additionalProperties": false
            }),
            ToolName::MessagePost => json!({
                "type": "object",
                "properties": {
                    "room": {"type": "string", "description": "Room name, without #."},
                    "body": {"type": "string", "description": "Markdown."}
                },
                "required": ["room", "body"],
                "additionalProperties": false
            }),
            ToolName::JobRun => json!({
                "type": "object",
                "properties": {
                    "job": {"type": "string", "description": "The job's name."},
                    "params": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "Parameter values by name."
                    },
                    "card": {"type": "integer", "description": "A card the run is for."}
                },
                "required": ["job"],
                "additionalProperties": false
            }),
            ToolName::Search => json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "Words to look for."},
                    "in": {"type": "string", "enum": ["all", "cards", "messages"]},
                    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_SEARCH_RESULTS}
                },
                "required": ["query"],
                "additionalProperties": false
            }),
        }
    }

    /// Checks a call's arguments (the JSON text the model produced) against the tool.
    pub fn parse_args(self, arguments: &str) -> Result<ToolArgs, ToolArgsError> {
        let text = if arguments.trim().is_empty() {
            "{}"
        } else {
            arguments
        };
        let parsed = match self {
            ToolName::CardCreate => serde_json::from_str(text).map(ToolArgs::CardCreate),
            ToolName::CardMove => serde_json::from_str(text).map(ToolArgs::CardMove),
            ToolName::MessagePost => serde_json::from_str(text).map(ToolArgs::MessagePost),
            ToolName::JobRun => serde_json::from_str(text).map(ToolArgs::JobRun),
            ToolName::Search => serde_json::from_str(text).map(ToolArgs::Search),
        };
        parsed.map_err(|e| ToolArgsError {
            tool: self,
            message: e.to_string(),
        })
    }
}

/// Arguments that do not fit the tool's schema: sent back to the model as the tool's result so
/// it can correct itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid arguments for {}: {message}; see the tool's schema and call it again", tool.as_str())]
pub struct ToolArgsError {
    pub tool: ToolName,
    pub message: String,
}

/// A call's arguments, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolArgs {
    CardCreate(CardCreateArgs),
    CardMove(CardMoveArgs),
    MessagePost(MessagePostArgs),
    JobRun(JobRunArgs),
    Search(SearchArgs),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardCreateArgs {
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardMoveArgs {
    pub card: u64,
    pub column: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagePostArgs {
    pub room: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRunArgs {
    pub job: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<u64>,
}

/// Where `search` looks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchIn {
    #[default]
    All,
    Cards,
    Messages,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    pub query: String,
    #[serde(default, rename = "in")]
    pub within: SearchIn,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_both_ways_and_model_names_have_no_dots() {
        for tool in ToolName::ALL {
            assert_eq!(ToolName::parse(tool.as_str()), Some(tool));
            assert_eq!(ToolName::parse(tool.model_name()), Some(tool));
            assert!(
                tool.model_name()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            );
            let wire = serde_json::to_string(&tool).expect("serialises");
            assert_eq!(wire, format!("\"{}\"", tool.as_str()));
        }
        assert_eq!(ToolName::parse("rm_rf"), None);
    }

    #[test]
    fn each_schema_names_exactly_the_fields_its_arguments_accept() {
        for tool in ToolName::ALL {
            let schema = tool.schema();
            let props = schema["properties"].as_object().expect("properties");
            let required: Vec<&str> = schema["required"]
                .as_array()
                .expect("required")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            // The required fields alone (with plausible values) parse.
            let mut minimal = serde_json::Map::new();
            for name in &required {
                let value = match props[*name]["type"].as_str() {
                    Some("integer") => json!(12),
                    _ => json!("x"),
                };
                minimal.insert((*name).to_owned(), value);
            }
            let text = Value::Object(minimal.clone()).to_string();
            assert!(tool.parse_args(&text).is_ok(), "{tool:?}: {text}");
            // Dropping any required field fails, and so does an unknown field.
            for name in &required {
                let mut less = minimal.clone();
                less.remove(*name);
                assert!(tool.parse_args(&Value::Object(less).to_string()).is_err());
            }
            let mut more = minimal.clone();
            more.insert("surprise".into(), json!(true));
            assert!(tool.parse_args(&Value::Object(more).to_string()).is_err());
        }
    }

    #[test]
    fn bad_arguments_say_what_is_wrong_and_what_to_do() {
        let err = ToolName::CardMove
            .parse_args(r#"{"card": "twelve", "column": "Done"}"#)
            .expect_err("a string is not a card number");
        let text = err.to_string();
        assert!(
            text.starts_with("invalid arguments for card.move"),
            "{text}"
        );
        assert!(text.contains("call it again"), "{text}");
        let args = ToolName::CardCreate
            .parse_args(r#"{"title": "Fix login", "priority": "high"}"#)
            .expect("valid");
        assert!(matches!(args, ToolArgs::CardCreate(a) if a.priority == Some(Priority::High)));
    }
}
