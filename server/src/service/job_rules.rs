//! What makes a job valid: its name, command, parameters (names, kinds, choices, defaults),
//! timeout, retries, tags and concurrency. Every refusal says what to change.

use warren_protocol::ErrorCode;
use warren_protocol::run::{
    MAX_COMMAND_BYTES, MAX_JOB_NAME_CHARS, MAX_PARAM_VALUE_BYTES, MAX_PARAMS, MAX_RETRIES,
    MAX_TAGS, MAX_TIMEOUT_SECS, ParamKind, ParamSpec,
};

use super::{ApplyError, text};

/// Longest parameter name, in characters.
pub const MAX_PARAM_NAME_CHARS: usize = 64;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 64;
/// Longest job description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 4 * 1024;

fn invalid(message: impl Into<String>) -> ApplyError {
    ApplyError::reject(ErrorCode::Validation, message)
}

/// A job name: one line, at most [`MAX_JOB_NAME_CHARS`] characters.
pub fn name(value: &str) -> Result<String, ApplyError> {
    text::one_line("a job name", value, MAX_JOB_NAME_CHARS)
}

/// A job's shell command: not blank, at most [`MAX_COMMAND_BYTES`] bytes, no NUL.
pub fn command(value: &str) -> Result<String, ApplyError> {
    if value.trim().is_empty() {
        return Err(invalid(
            "a job's command must not be empty; give the shell command to run, e.g. --command 'make test'",
        ));
    }
    if value.len() > MAX_COMMAND_BYTES {
        return Err(invalid(format!(
            "a job's command is {} bytes; the limit is {MAX_COMMAND_BYTES}: put longer scripts in a file and run that",
            value.len()
        )));
    }
    if value.contains('\0') {
        return Err(invalid("a job's command must not contain NUL bytes"));
    }
    Ok(value.to_owned())
}

/// A job description (markdown, may be empty).
pub fn description(value: &str) -> Result<String, ApplyError> {
    text::markdown("a job description", value, MAX_DESCRIPTION_BYTES, false)
}

/// A run's timeout: 1 s to [`MAX_TIMEOUT_SECS`].
pub fn timeout(secs: u64) -> Result<u64, ApplyError> {
    if secs == 0 || secs > MAX_TIMEOUT_SECS {
        return Err(invalid(format!(
            "a job's timeout must be between 1 second and {} days; got {secs} s",
            MAX_TIMEOUT_SECS / 86_400
        )));
    }
    Ok(secs)
}

/// How often a lost run is queued again: at most [`MAX_RETRIES`].
pub fn retries(n: u32) -> Result<u32, ApplyError> {
    if n > MAX_RETRIES {
        return Err(invalid(format!(
            "a job may retry a lost run at most {MAX_RETRIES} times; got {n}"
        )));
    }
    Ok(n)
}

/// Most runs of a job at once: at least 1 (or no limit).
pub fn concurrency(n: Option<u32>) -> Result<Option<u32>, ApplyError> {
    if n == Some(0) {
        return Err(invalid(
            "a job's concurrency must be at least 1; leave it out for no limit",
        ));
    }
    Ok(n)
}

/// Tags: each a word of letters, digits, `-`, `_`, `.` or `:` (at most [`MAX_TAG_CHARS`]),
/// at most [`MAX_TAGS`], duplicates (ignoring ASCII case) dropped, sorted.
pub fn tags(values: &[String]) -> Result<Vec<String>, ApplyError> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        let tag = value.trim();
        if tag.is_empty()
            || tag.chars().count() > MAX_TAG_CHARS
            || !tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        {
            return Err(invalid(format!(
                "tag {tag:?} is not valid; tags are words of letters, digits, '-', '_', '.' or ':' (at most {MAX_TAG_CHARS} characters), e.g. linux,docker"
            )));
        }
        if !out.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            out.push(tag.to_owned());
        }
    }
    if out.len() > MAX_TAGS {
        return Err(invalid(format!(
            "at most {MAX_TAGS} tags; got {}",
            out.len()
        )));
    }
    out.sort();
    Ok(out)
}

/// Whether `name` is a valid parameter name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_param_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.chars().count() <= MAX_PARAM_NAME_CHARS
}

/// Checks that `value` is a valid value of `spec`, saying why not.
pub fn check_value(spec: &ParamSpec, value: &str) -> Result<(), String> {
    if value.len() > MAX_PARAM_VALUE_BYTES {
        return Err(format!(
            "parameter {} is {} bytes; the limit is {MAX_PARAM_VALUE_BYTES}",
            spec.name,
            value.len()
        ));
    }
    if value.contains('\0') {
        return Err(format!(
            "parameter {} must not contain NUL bytes",
            spec.name
        ));
    }
    match spec.kind {
        ParamKind::String | ParamKind::Secret => Ok(()),
        ParamKind::Int => value.trim().parse::<i64>().map(|_| ()).map_err(|_| {
            format!(
                "parameter {} is an int; {value:?} is not a whole number (e.g. {}=3)",
                spec.name, spec.name
            )
        }),
        ParamKind::Bool => match value.trim() {
            "true" | "false" => Ok(()),
            _ => Err(format!(
                "parameter {} is a bool; give true or false, not {value:?}",
                spec.name
            )),
        },
        ParamKind::Choice => {
            if spec.choices.iter().any(|c| c == value) {
                Ok(())
            } else {
                Err(format!(
                    "parameter {} is one of {}; {value:?} is not among them",
                    spec.name,
                    spec.choices.join("|")
                ))
            }
        }
    }
}

/// A job's parameters: valid unique names (ignoring case), choices only (and always) for
/// `choice`, defaults that parse as their kind, no default for a secret.
pub fn params(values: &[ParamSpec]) -> Result<Vec<ParamSpec>, ApplyError> {
    if values.len() > MAX_PARAMS {
        return Err(invalid(format!(
            "a job has at most {MAX_PARAMS} parameters; got {}",
            values.len()
        )));
    }
    let mut out: Vec<ParamSpec> = Vec::new();
    for spec in values {
        let name = spec.name.trim();
        if !is_param_name(name) {
            return Err(invalid(format!(
                "parameter name {name:?} is not valid; use letters, digits and '_', not starting with a digit (at most {MAX_PARAM_NAME_CHARS} characters), e.g. target_env"
            )));
        }
        if out.iter().any(|p| p.name.eq_ignore_ascii_case(name)) {
            return Err(invalid(format!(
                "parameter {name} is declared twice (names are compared ignoring case: both become WARREN_PARAM_{})",
                name.to_ascii_uppercase()
            )));
        }
        let mut spec = ParamSpec {
            name: name.to_owned(),
            ..spec.clone()
        };
        match spec.kind {
            ParamKind::Choice => {
                if spec.choices.is_empty() {
                    return Err(invalid(format!(
                        "parameter {name} is a choice but names no choices; write it as {name}:choice(a|b)"
                    )));
                }
                for choice in &spec.choices {
                    if choice.is_empty() || choice.chars().any(char::is_control) {
                        return Err(invalid(format!(
                            "parameter {name} has an empty or unprintable choice"
                        )));
                    }
                }
            }
            _ if !spec.choices.is_empty() => {
                return Err(invalid(format!(
                    "parameter {name} is a {} and cannot have choices; only choice parameters do",
                    spec.kind.as_str()
                )));
            }
            _ => {}
        }
        if spec.kind == ParamKind::Secret && spec.default.is_some() {
            return Err(invalid(format!(
                "parameter {name} is a secret and cannot have a default (a default would be stored); give its value with each run"
            )));
        }
        if let Some(default) = &spec.default {
            check_value(&spec, default).map_err(|why| invalid(format!("the default of {why}")))?;
        }
        spec.choices.dedup();
        out.push(spec);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, kind: ParamKind) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            kind,
            choices: Vec::new(),
            default: None,
        }
    }

    #[test]
    fn parameter_names_and_kinds_are_checked() {
        assert!(is_param_name("target_env"));
        assert!(is_param_name("_x9"));
        assert!(!is_param_name("9x"));
        assert!(!is_param_name("a-b"));
        assert!(!is_param_name(""));
        assert!(params(&[spec("a", ParamKind::String), spec("A", ParamKind::Int)]).is_err());
        assert!(params(&[spec("c", ParamKind::Choice)]).is_err());
        let mut with_choices = spec("s", ParamKind::String);
        with_choices.choices = vec!["x".into()];
        assert!(params(&[with_choices]).is_err());
        let mut secret = spec("key", ParamKind::Secret);
        secret.default = Some("hunter2".into());
        assert!(params(&[secret]).is_err());
        let mut int = spec("n", ParamKind::Int);
        int.default = Some("three".into());
        assert!(params(&[int.clone()]).is_err());
        int.default = Some("3".into());
        assert!(params(&[int]).is_ok());
    }

    #[test]
    fn values_parse_as_their_kind() {
        let mut choice = spec("env", ParamKind::Choice);
        choice.choices = vec!["staging".into(), "prod".into()];
        assert!(check_value(&choice, "prod").is_ok());
        assert!(check_value(&choice, "dev").is_err());
        assert!(check_value(&spec("b", ParamKind::Bool), "yes").is_err());
        assert!(check_value(&spec("b", ParamKind::Bool), "true").is_ok());
        assert!(check_value(&spec("n", ParamKind::Int), "-4").is_ok());
    }

    #[test]
    fn limits_and_tags() {
        assert!(timeout(0).is_err());
        assert!(timeout(MAX_TIMEOUT_SECS + 1).is_err());
        assert!(retries(MAX_RETRIES + 1).is_err());
        assert!(concurrency(Some(0)).is_err());
        assert_eq!(
            tags(&["linux".into(), "Linux".into(), "docker".into()]).map_err(|e| e.to_string()),
            Ok(vec!["docker".to_owned(), "linux".to_owned()])
        );
        assert!(tags(&["has space".into()]).is_err());
        assert!(command("  ").is_err());
    }
}
