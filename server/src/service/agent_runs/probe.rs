//! `test_provider`: a probe run, an agent run with `agent.probe_provider_id` whose one step is a
//! short call to that provider on a worker (its assignment says `probe: true`).

use redb::WriteTransaction;
use warren_protocol::{Change, Id};

use super::ask::{NewAgentRun, create_run};
use super::{ApplyError, Ctx};
use crate::runs::RunState;
use crate::runs::effects::Effects;

/// What a probe asks the model.
pub const PROBE_PROMPT: &str = "Reply with the single word: ok";

/// `test_provider`.
pub fn test_provider(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    run_id: Option<&Id>,
    provider_id: &Id,
    state: &RunState,
    fx: &mut Effects,
) -> Result<Change, ApplyError> {
    let provider = crate::service::providers::load(txn, ctx, provider_id)?;
    let new = NewAgentRun {
        run_id,
        job: (&provider.id, &provider.name),
        agent_id: &provider.id,
        prompt: PROBE_PROMPT.to_owned(),
        room_id: None,
        card_id: None,
        message_id: None,
        probe_provider_id: Some(&provider.id),
        force_tool: None,
    };
    let run = create_run(txn, ctx, &new, state)?;
    fx.schedule = true;
    Ok(Change::RunCreated { run })
}
