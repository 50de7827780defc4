//! What to run: the command, its parameters (some secret), where, for how long, and the limits
//! on its log; and how parameters become environment variables.

use std::path::PathBuf;
use std::time::Duration;

use super::guard::GuardSetup;

/// One job run to execute.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The command text, run as `sh -c COMMAND`. Parameters are never spliced into it.
    pub command: String,
    /// Parameters, passed as `WARREN_PARAM_<NAME>` environment variables.
    pub params: Vec<Param>,
    /// Further environment variables for the job (the worker loop's `WARREN_RUN`, say).
    pub env: Vec<(String, String)>,
    /// The job's working directory; it must exist.
    pub workdir: PathBuf,
    /// The run is stopped (SIGTERM, then SIGKILL) after this long; `None` for no limit.
    pub timeout: Option<Duration>,
    pub limits: Limits,
    /// What guards the job's group should the worker die (`None`: nothing does).
    pub guard: Option<GuardSetup>,
}

/// A parameter's name and value; a secret's value is redacted from the log.
#[derive(Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub value: String,
    pub secret: bool,
}

impl std::fmt::Debug for Param {
    /// Never shows a secret's value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = if self.secret { "***" } else { &self.value };
        f.debug_struct("Param")
            .field("name", &self.name)
            .field("value", &value)
            .field("secret", &self.secret)
            .finish()
    }
}

/// The limits of one run's execution and log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Output past this many bytes is dropped after one truncation line; the job keeps running.
    pub log_cap_bytes: u64,
    /// Between SIGTERM and SIGKILL on cancel and timeout.
    pub kill_grace: Duration,
    /// A batch closes when it would grow past this many bytes…
    pub batch_max_bytes: usize,
    /// …or this long after its first line, whichever comes first.
    pub batch_max_age: Duration,
    /// A longer line is split into pieces of at most this many bytes (`LogLine::continued`).
    pub max_line_bytes: usize,
    /// How many closed batches may wait for the receiver before the job's output is held back.
    pub batch_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            log_cap_bytes: 100 * 1024 * 1024,
            kill_grace: Duration::from_secs(10),
            batch_max_bytes: 64 * 1024,
            batch_max_age: Duration::from_secs(1),
            max_line_bytes: 64 * 1024,
            batch_queue: 64,
        }
    }
}

/// The environment variable of a parameter: `WARREN_PARAM_` and the name upper-cased, every
/// character other than an ASCII letter or digit turned into `_` (`deploy-env` →
/// `WARREN_PARAM_DEPLOY_ENV`).
pub fn param_env_name(name: &str) -> String {
    let mut out = String::from("WARREN_PARAM_");
    out.extend(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_become_environment_names() {
        assert_eq!(param_env_name("branch"), "WARREN_PARAM_BRANCH");
        assert_eq!(param_env_name("deploy-env"), "WARREN_PARAM_DEPLOY_ENV");
        assert_eq!(param_env_name("a b.c;é"), "WARREN_PARAM_A_B_C__");
    }

    #[test]
    fn a_secret_parameter_does_not_debug_print_its_value() {
        let p = Param {
            name: "pw".into(),
            value: "hunter2".into(),
            secret: true,
        };
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
