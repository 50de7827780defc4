//! `warren budget …`: spending limits of agent runs per day, week or month, for the workspace,
//! one agent or one room — set, listed with what was spent, and cleared. The scope is words as
//! `budget list` shows it (`workspace`, `agent NAME`, `room NAME`) or `--agent`/`--room`; the
//! global `--workspace NAME` picks which workspace, and `--workspace 20usd/month` (a limit
//! where the name would go) is the workspace's own budget, as the issue writes it.

use warren_protocol::budget::{BudgetPeriod, BudgetScope};
use warren_protocol::{Change, Command, Query, QueryResult, WorkspaceState};

use crate::agent_output::{self, AgentNames};
use crate::cli::GlobalArgs;
use crate::cli::agents::{BudgetCommand, BudgetScopeArgs};
use crate::commands::Out;
use crate::error::ClientError;
use crate::resolve::{find_agent, find_room};
use crate::sanitize;
use crate::session::Session;

pub(super) async fn run(
    command: BudgetCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        BudgetCommand::Set { scope, words } => {
            let (scope_words, limit) = match words.split_last() {
                Some((last, rest)) if looks_like_a_budget(last) => (rest, Some(parse_limit(last)?)),
                _ => (words.as_slice(), None),
            };
            let scope = ScopeRef::parse(&scope, scope_words)?;
            let Some((limit, period)) = limit else {
                return Err(ClientError::Usage(format!(
                    "give the limit and its period after the scope: 'warren budget set {} 20usd/month' (or 5usd/day, 100usd/week)",
                    scope.words()
                )));
            };
            let state = session.snapshot().await?;
            let scope = scope.resolve(&state)?;
            let ack = session
                .command(Command::SetBudget {
                    scope,
                    limit,
                    period,
                })
                .await?;
            let Change::BudgetSet { budget } = ack.event.change else {
                return Err(ClientError::Protocol("expected budget_set".to_owned()));
            };
            let names = AgentNames::from_state(&state);
            out.either(&budget, || {
                format!(
                    "budget of the {}: {}",
                    names.scope(&budget.scope),
                    agent_output::budget_line(&budget)
                )
            })
        }
        BudgetCommand::List => {
            let budgets = match session.query(Query::Budgets).await? {
                QueryResult::Budgets { budgets } => budgets,
                _ => {
                    return Err(ClientError::Protocol(
                        "expected a budgets result".to_owned(),
                    ));
                }
            };
            if out.is_json() {
                for b in &budgets {
                    out.json(b)?;
                }
                return Ok(());
            }
            let state = session.snapshot().await?;
            out.text(&agent_output::format_budgets(
                &budgets,
                &AgentNames::from_state(&state),
            ))
        }
        BudgetCommand::Clear { scope, words } => {
            let scope = ScopeRef::parse(&scope, &words)?;
            let state = session.snapshot().await?;
            let scope = scope.resolve(&state)?;
            let ack = session
                .command(Command::ClearBudget {
                    scope: scope.clone(),
                })
                .await?;
            let names = AgentNames::from_state(&state);
            out.either(&ack.event.change, || {
                format!("cleared the budget of the {}", names.scope(&scope))
            })
        }
    }
}

/// A budget's scope as typed, before names are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ScopeRef {
    Workspace,
    Agent(String),
    Room(String),
}

/// What to type for a scope, for errors.
const SCOPE_FORMS: &str = "'workspace', 'agent NAME' or 'room NAME' (as 'warren budget list' shows them), or --agent NAME / --room NAME";

impl ScopeRef {
    /// The scope from the flags or the words (`workspace`, `agent A`, `room R`; none: the
    /// workspace); both at once, or words that name no scope, are refused with the forms.
    fn parse(flags: &BudgetScopeArgs, words: &[String]) -> Result<ScopeRef, ClientError> {
        let flagged = match (&flags.agent, &flags.room) {
            (Some(agent), _) => Some(ScopeRef::Agent(agent.clone())),
            (None, Some(room)) => Some(ScopeRef::Room(room.clone())),
            (None, None) => None,
        };
        let kind = words.first().map(|w| w.trim().to_ascii_lowercase());
        let worded = match (kind.as_deref(), words.get(1)) {
            (None, _) => None,
            (Some("workspace"), None) => Some(ScopeRef::Workspace),
            (Some("agent"), Some(name)) if words.len() == 2 => Some(ScopeRef::Agent(name.clone())),
            (Some("room"), Some(name)) if words.len() == 2 => Some(ScopeRef::Room(name.clone())),
            (Some(kind @ ("agent" | "room")), None) => {
                return Err(ClientError::Usage(format!(
                    "which {kind}? name it after the word: '{kind} NAME' (see them with 'warren {kind} list')"
                )));
            }
            _ => {
                return Err(ClientError::Usage(format!(
                    "{:?} is not a budget scope; name one as {SCOPE_FORMS}",
                    sanitize::line(&words.join(" "))
                )));
            }
        };
        match (flagged, worded) {
            (Some(_), Some(_)) => Err(ClientError::Usage(format!(
                "give the scope once, as {SCOPE_FORMS}"
            ))),
            (Some(scope), None) | (None, Some(scope)) => Ok(scope),
            (None, None) => Ok(ScopeRef::Workspace),
        }
    }

    /// The words that name it, as typed in `budget set`/`clear` (names as given).
    fn words(&self) -> String {
        match self {
            ScopeRef::Workspace => "workspace".to_owned(),
            ScopeRef::Agent(name) => format!("agent {}", sanitize::line(name)),
            ScopeRef::Room(name) => format!("room {}", sanitize::line(name)),
        }
    }

    /// The scope with the agent or room looked up in the workspace.
    fn resolve(&self, state: &WorkspaceState) -> Result<BudgetScope, ClientError> {
        Ok(match self {
            ScopeRef::Workspace => BudgetScope::Workspace,
            ScopeRef::Agent(agent) => BudgetScope::Agent {
                agent_id: find_agent(&state.agents, agent)?.id.clone(),
            },
            ScopeRef::Room(room) => BudgetScope::Room {
                room_id: find_room(state, room)?.id.clone(),
            },
        })
    }
}

/// Whether a word is meant as the limit (`20usd/month`, `$5/day`) rather than a scope's name.
fn looks_like_a_budget(word: &str) -> bool {
    word.contains('/')
        || word
            .trim_start_matches('$')
            .starts_with(|c: char| c.is_ascii_digit())
}

fn parse_limit(word: &str) -> Result<(u64, BudgetPeriod), ClientError> {
    crate::money::parse_budget(word).map_err(ClientError::Usage)
}

/// Before the session opens: in `budget set --workspace 20usd/month` (the form the issue and
/// the help give) the global flag took the amount as a workspace's name. When the value is a
/// limit and no limit follows, it is the limit of the workspace's own budget (in the profile's
/// workspace): the value moves to the command's words and the flag is dropped. A real
/// workspace name (`--workspace acme 20usd/month`) is left to the global flag.
pub(super) fn take_limit_from_workspace_flag(command: &mut BudgetCommand, global: &mut GlobalArgs) {
    let (BudgetCommand::Set { words, .. }, Some(workspace)) = (command, &global.workspace) else {
        return;
    };
    let has_limit = words.last().is_some_and(|w| looks_like_a_budget(w));
    if has_limit || crate::money::parse_budget(workspace).is_err() {
        return;
    }
    words.push(workspace.trim().to_owned());
    global.workspace = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(all: &[&str]) -> Vec<String> {
        all.iter().map(|w| (*w).to_owned()).collect()
    }

    fn flags(agent: Option<&str>, room: Option<&str>) -> BudgetScopeArgs {
        BudgetScopeArgs {
            agent: agent.map(Into::into),
            room: room.map(Into::into),
        }
    }

    fn usage(result: Result<ScopeRef, ClientError>) -> String {
        match result {
            Err(ClientError::Usage(message)) => message,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn a_scope_is_words_as_listed_or_a_flag_and_never_both() {
        let none = flags(None, None);
        assert_eq!(ScopeRef::parse(&none, &[]).ok(), Some(ScopeRef::Workspace));
        assert_eq!(
            ScopeRef::parse(&none, &words(&["Workspace"])).ok(),
            Some(ScopeRef::Workspace)
        );
        assert_eq!(
            ScopeRef::parse(&none, &words(&["agent", "reviewer"])).ok(),
            Some(ScopeRef::Agent("reviewer".into()))
        );
        assert_eq!(
            ScopeRef::parse(&none, &words(&["room", "#general"])).ok(),
            Some(ScopeRef::Room("#general".into()))
        );
        assert_eq!(
            ScopeRef::parse(&flags(Some("reviewer"), None), &[]).ok(),
            Some(ScopeRef::Agent("reviewer".into()))
        );
        assert!(
            usage(ScopeRef::parse(
                &flags(None, Some("general")),
                &words(&["workspace"])
            ))
            .contains("give the scope once")
        );
        assert!(usage(ScopeRef::parse(&none, &words(&["agent"]))).contains("agent NAME"));
        assert!(
            usage(ScopeRef::parse(&none, &words(&["team", "x"])))
                .contains("'workspace', 'agent NAME' or 'room NAME'")
        );
        assert!(
            usage(ScopeRef::parse(&none, &words(&["workspace", "x"])))
                .contains("not a budget scope")
        );
    }

    #[test]
    fn the_global_workspace_flag_given_an_amount_is_the_workspace_budget() {
        let mut set = BudgetCommand::Set {
            scope: flags(None, None),
            words: vec![],
        };
        let mut global = GlobalArgs {
            workspace: Some("20usd/month".into()),
            ..GlobalArgs::default()
        };
        take_limit_from_workspace_flag(&mut set, &mut global);
        assert_eq!(global.workspace, None);
        let BudgetCommand::Set { words: taken, .. } = &set else {
            panic!("still a set")
        };
        assert_eq!(taken, &words(&["20usd/month"]));
        // A real workspace name, or a limit given as well, is the global flag at work.
        let mut set = BudgetCommand::Set {
            scope: flags(None, None),
            words: vec![],
        };
        let mut named = GlobalArgs {
            workspace: Some("acme".into()),
            ..GlobalArgs::default()
        };
        take_limit_from_workspace_flag(&mut set, &mut named);
        assert_eq!(named.workspace.as_deref(), Some("acme"));
        let mut with_limit = BudgetCommand::Set {
            scope: flags(None, None),
            words: words(&["1usd/day"]),
        };
        let mut global = GlobalArgs {
            workspace: Some("20usd/month".into()),
            ..GlobalArgs::default()
        };
        take_limit_from_workspace_flag(&mut with_limit, &mut global);
        assert_eq!(global.workspace.as_deref(), Some("20usd/month"));
    }
}
