//! Whether a connection's user may read a workspace right now: their membership is read at the
//! time of the request (not taken from `hello`), so a removed member loses access at once, and
//! both their role and their token's scope must allow the request. Queries and `subscribe` ask
//! here.

use warren_protocol::account::TokenScope;
use warren_protocol::permission;
use warren_protocol::{ErrorCode, Id, WireError};

use crate::app::App;
use crate::store::{StoreError, read};

/// Why a request was not let through.
pub enum Denied {
    /// Answer with this error (`not_found` for a non-member, `forbidden` otherwise).
    Refused(WireError),
    /// The membership could not be read.
    Store(StoreError),
}

/// Checks that `user`, with a token of `scope`, may make the query (or `subscribe`) named
/// `request` in `workspace`.
pub async fn check(
    app: &App,
    workspace: &Id,
    user: &Id,
    scope: TokenScope,
    request: &str,
) -> Result<(), Denied> {
    let (ws, who) = (workspace.clone(), user.clone());
    let member = app
        .read(move |s| read::member(&s.begin_read()?, &ws, &who))
        .await
        .map_err(Denied::Store)?;
    let need = permission::query_requirement(request).permission;
    let refuse = |code, message: String| Err(Denied::Refused(WireError::new(code, message)));
    match member {
        Some(m) if m.role.may(need) && scope.allows(need) => Ok(()),
        Some(m) if m.role.may(need) => refuse(
            ErrorCode::Forbidden,
            permission::scope_denial(scope, request),
        ),
        Some(m) => refuse(
            ErrorCode::Forbidden,
            permission::denial(m.role, need, request),
        ),
        None => refuse(
            ErrorCode::NotFound,
            format!("no workspace {workspace} that you are a member of"),
        ),
    }
}
