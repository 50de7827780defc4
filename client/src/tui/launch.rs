//! Starting the full-screen client: pick the server (the configured one, else a local in-process
//! one, or a seeded demo), load the keymap and theme (reporting problems and falling back to the
//! defaults), run the UI, then stop any local server cleanly.

use std::path::PathBuf;

use super::app::App;
use super::local::{self, LocalServer};
use super::net::Target;
use super::run::{self, Launch};
use crate::cli::{GlobalArgs, UiArgs};
use crate::config::{self, ConfigFile};
use crate::error::ClientError;
use crate::keymap::{self, Keymap};
use crate::session;
use crate::theme::{ColorSupport, Theme};

/// Loads the keymap and theme the user chose; problems are returned as lines to show.
pub fn load_look(
    ui: &UiArgs,
    file: &ConfigFile,
    config_dir: Option<&std::path::Path>,
) -> (Keymap, Theme, Vec<String>) {
    let mut problems = Vec::new();
    let keymap_name = ui.keymap.as_deref().unwrap_or(file.keymap_name());
    let user_keymap = config_dir
        .map(|d| d.join(keymap::USER_FILE))
        .filter(|p| p.exists());
    let (keymap, errors) = Keymap::load(keymap_name, user_keymap.as_deref());
    problems.extend(errors.iter().map(ToString::to_string));
    let theme_name = ui.theme.as_deref().unwrap_or(file.theme_name());
    let (theme, errors) = Theme::load(theme_name, config_dir);
    problems.extend(errors.iter().map(ToString::to_string));
    (keymap, theme.resolve(ColorSupport::detect()), problems)
}

/// What to say when the full-screen client is started without a terminal.
pub const NEEDS_TERMINAL: &str = "the full-screen client needs a terminal (standard input and \
     output are not one); from a script use the commands instead, such as 'warren card list', \
     'warren chat send ROOM TEXT' or 'warren events --json' (see 'warren --help')";

/// Removes a demo's throwaway store when dropped: on quit, on error and on panic alike.
struct TempStore(PathBuf);

impl Drop for TempStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the full-screen client until the user quits.
pub async fn start(global: &GlobalArgs, ui: &UiArgs, demo: bool) -> Result<(), ClientError> {
    use std::io::IsTerminal;
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        return Err(ClientError::Usage(NEEDS_TERMINAL.to_owned()));
    }
    let config_dir = config::config_dir().ok();
    let file = match &config_dir {
        Some(dir) => ConfigFile::load(&config::config_path(dir))?,
        None => ConfigFile::default(),
    };
    let (keymap, theme, problems) = load_look(ui, &file, config_dir.as_deref());
    let mut _demo_dir: Option<TempStore> = None;
    let (target, local): (Target, Option<LocalServer>) = if demo {
        let dir = std::env::temp_dir().join(format!("warren-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        _demo_dir = Some(TempStore(dir.clone()));
        let server = local::start_demo(dir).await?;
        (target_of(&server), Some(server))
    } else {
        match session::settings(global, file.profile.as_ref()) {
            Ok(settings) => (
                Target {
                    endpoint: settings.endpoint,
                    token: settings.token,
                    workspace: settings.workspace,
                },
                None,
            ),
            Err(ClientError::NotConfigured) => {
                let mut server = local::start(local::default_dir()?).await?;
                // Without a worker local mode still works (runs wait); the reason is in the
                // worker's log.
                #[cfg(unix)]
                let _ = server.start_worker().await;
                (target_of(&server), Some(server))
            }
            Err(e) => return Err(e),
        }
    };
    let server_label = match &local {
        Some(l) if demo => format!("demo ({})", l.endpoint.display),
        Some(l) => format!("local ({})", l.data_dir.display()),
        None => target.endpoint.display.clone(),
    };
    let mut app = App::new(keymap, theme, server_label);
    app.server_url = target.endpoint.display.clone();
    if !demo {
        // Changes not sent yet survive quitting (the demo's store does not).
        app.outbox_dir = super::outbox_file::default_dir();
    }
    app.osc52 = file.osc52();
    app.config_path = config_dir
        .as_deref()
        .map(|d| config::config_path(d).display().to_string());
    let result = run::run(Launch {
        target,
        app,
        problems,
    })
    .await;
    if let Some(server) = local {
        server.shutdown().await;
    }
    result
}

fn target_of(server: &LocalServer) -> Target {
    Target {
        endpoint: server.endpoint.clone(),
        token: server.token.clone(),
        workspace: None,
    }
}
