//! What `warren job add --param` and `warren job run -p` accept.
//!
//! A parameter declaration is `NAME[:TYPE][=DEFAULT]` with TYPE one of `string` (the default),
//! `int`, `bool`, `choice(a|b|c)` or `secret` (which takes no default). A value given to a run
//! is `KEY=VALUE`, or `KEY=@env:VAR` to read it from an environment variable (the way to pass a
//! secret without it landing in the shell's history).

use warren_protocol::run::{MAX_PARAM_VALUE_BYTES, ParamKind, ParamSpec};

/// The forms `--param` accepts, for error messages.
pub const SPEC_FORMS: &str =
    "NAME, NAME=DEFAULT, NAME:int, NAME:bool=false, NAME:choice(a|b)=a or NAME:secret";

/// Longest parameter name.
const MAX_NAME_CHARS: usize = 64;

/// Parses a parameter declaration such as `env:choice(staging|prod)=staging`.
pub fn parse_spec(text: &str) -> Result<ParamSpec, String> {
    let text = text.trim();
    let (head, default) = match text.split_once('=') {
        Some((head, default)) => (head, Some(default.to_owned())),
        None => (text, None),
    };
    let (name, kind_text) = match head.split_once(':') {
        Some((name, kind)) => (name.trim(), Some(kind.trim())),
        None => (head.trim(), None),
    };
    check_name(name).map_err(|why| format!("--param {text:?}: {why}; write {SPEC_FORMS}"))?;
    let (kind, choices) = match kind_text {
        None | Some("string") => (ParamKind::String, Vec::new()),
        Some("int") => (ParamKind::Int, Vec::new()),
        Some("bool") => (ParamKind::Bool, Vec::new()),
        Some("secret") => (ParamKind::Secret, Vec::new()),
        Some(other) => match other
            .strip_prefix("choice(")
            .and_then(|rest| rest.strip_suffix(')'))
        {
            Some(list) => (ParamKind::Choice, parse_choices(text, list)?),
            None => {
                return Err(format!(
                    "--param {text:?}: unknown type {other:?}; the types are string, int, bool, choice(a|b) and secret ({SPEC_FORMS})"
                ));
            }
        },
    };
    let spec = ParamSpec {
        name: name.to_owned(),
        kind,
        choices,
        default,
    };
    if let Some(default) = &spec.default {
        if kind == ParamKind::Secret {
            return Err(format!(
                "--param {name}:secret: a secret parameter has no default (it would be stored); give its value when you run the job: -p {name}=@env:VAR"
            ));
        }
        check_value(&spec, default)
            .map_err(|why| format!("--param {text:?}: the default {why}"))?;
    }
    Ok(spec)
}

fn parse_choices(text: &str, list: &str) -> Result<Vec<String>, String> {
    let choices: Vec<String> = list.split('|').map(|c| c.trim().to_owned()).collect();
    if choices.iter().any(String::is_empty) {
        return Err(format!(
            "--param {text:?}: a choice list names its values between | signs; write {SPEC_FORMS}"
        ));
    }
    for (i, choice) in choices.iter().enumerate() {
        if choices[..i].contains(choice) {
            return Err(format!(
                "--param {text:?}: {choice:?} is listed twice; write {SPEC_FORMS}"
            ));
        }
    }
    Ok(choices)
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "{name:?} is not a parameter name (letters, digits and _, not starting with a digit)"
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "the name is longer than {MAX_NAME_CHARS} characters"
        ));
    }
    Ok(())
}

/// Checks that `value` suits `spec` (the server checks again): an int parses, a bool is `true`
/// or `false`, a choice is one of the choices. The error never repeats a secret's value.
pub fn check_value(spec: &ParamSpec, value: &str) -> Result<(), String> {
    if value.len() > MAX_PARAM_VALUE_BYTES {
        return Err(format!("is longer than {MAX_PARAM_VALUE_BYTES} bytes"));
    }
    match spec.kind {
        ParamKind::String | ParamKind::Secret => Ok(()),
        ParamKind::Int => value
            .trim()
            .parse::<i64>()
            .map(|_| ())
            .map_err(|_| format!("{value:?} is not a whole number")),
        ParamKind::Bool => match value {
            "true" | "false" => Ok(()),
            _ => Err(format!("{value:?} is not true or false")),
        },
        ParamKind::Choice => {
            if spec.choices.iter().any(|c| c == value) {
                Ok(())
            } else {
                Err(format!(
                    "{value:?} is not one of {}",
                    spec.choices.join(", ")
                ))
            }
        }
    }
}

/// `NAME:TYPE=DEFAULT` again, as `job show` lists it (`--param` reads it back).
pub fn describe(spec: &ParamSpec) -> String {
    let kind = match spec.kind {
        ParamKind::String => String::new(),
        ParamKind::Choice => format!(":choice({})", spec.choices.join("|")),
        other => format!(":{}", other.as_str()),
    };
    let default = spec
        .default
        .as_ref()
        .map_or_else(String::new, |d| format!("={d}"));
    format!("{}{kind}{default}", spec.name)
}

/// Where a run's parameter value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    /// Written on the command line.
    Literal(String),
    /// `@env:VAR`: read from this environment variable.
    Env(String),
}

/// Parses `-p KEY=VALUE` or `-p KEY=@env:VAR`.
pub fn parse_assignment(text: &str) -> Result<(String, ValueSource), String> {
    let Some((key, value)) = text.split_once('=') else {
        let key = text.trim();
        return Err(format!(
            "-p {key:?} has no value; write -p {key}=VALUE (or -p {key}=@env:VAR to read it from the environment)"
        ));
    };
    let key = key.trim();
    check_name(key).map_err(|why| format!("-p: {why}; write -p NAME=VALUE"))?;
    let source = match value.strip_prefix("@env:") {
        Some(var) if !var.is_empty() => ValueSource::Env(var.to_owned()),
        Some(_) => {
            return Err(format!(
                "-p {key}=@env: names no variable; write -p {key}=@env:VAR"
            ));
        }
        None => ValueSource::Literal(value.to_owned()),
    };
    Ok((key.to_owned(), source))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> ParamSpec {
        parse_spec(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn reads_every_declaration_form() {
        let s = spec("branch");
        assert_eq!(
            (s.name.as_str(), s.kind, s.default),
            ("branch", ParamKind::String, None)
        );
        let s = spec("branch=main");
        assert_eq!(s.default.as_deref(), Some("main"));
        let s = spec("count:int=3");
        assert_eq!((s.kind, s.default.as_deref()), (ParamKind::Int, Some("3")));
        let s = spec("dry_run:bool=false");
        assert_eq!(s.kind, ParamKind::Bool);
        let s = spec("env:choice(staging|prod)=staging");
        assert_eq!(s.kind, ParamKind::Choice);
        assert_eq!(s.choices, ["staging", "prod"]);
        assert_eq!(s.default.as_deref(), Some("staging"));
        let s = spec("TOKEN:secret");
        assert_eq!((s.kind, s.default), (ParamKind::Secret, None));
        let s = spec("msg=a=b");
        assert_eq!(s.default.as_deref(), Some("a=b"), "only the first = splits");
        let s = spec("empty=");
        assert_eq!(s.default.as_deref(), Some(""));
    }

    #[test]
    fn describe_gives_back_the_declaration() {
        for text in [
            "branch",
            "count:int=3",
            "env:choice(a|b)=a",
            "t:secret",
            "ok:bool",
        ] {
            assert_eq!(describe(&spec(text)), text);
        }
    }

    #[test]
    fn bad_declarations_say_what_is_accepted() {
        for (text, says) in [
            ("", "not a parameter name"),
            ("1st", "not a parameter name"),
            ("a-b", "not a parameter name"),
            ("n:float", "unknown type \"float\""),
            ("n:choice()", "between | signs"),
            ("n:choice(a|a)", "listed twice"),
            ("n:choice(a|b", "unknown type"),
            ("n:int=three", "not a whole number"),
            ("n:bool=yes", "not true or false"),
            ("n:choice(a|b)=c", "not one of a, b"),
            ("n:secret=hunter2", "has no default"),
        ] {
            let err = parse_spec(text).err().unwrap_or_default();
            assert!(err.contains(says), "{text:?}: {err}");
            assert!(
                err.contains("NAME:choice(a|b)")
                    || err.contains("-p n=@env:VAR")
                    || err.contains("default"),
                "{text:?} shows the accepted forms: {err}"
            );
        }
        let err = parse_spec("n:secret=hunter2").err().unwrap_or_default();
        assert!(
            !err.contains("hunter2"),
            "a secret default is never repeated: {err}"
        );
    }

    #[test]
    fn run_values_are_literal_or_from_the_environment() {
        assert_eq!(
            parse_assignment("branch=main"),
            Ok(("branch".to_owned(), ValueSource::Literal("main".to_owned())))
        );
        assert_eq!(
            parse_assignment("msg=a=b"),
            Ok(("msg".to_owned(), ValueSource::Literal("a=b".to_owned())))
        );
        assert_eq!(
            parse_assignment("token=@env:DEPLOY_TOKEN"),
            Ok((
                "token".to_owned(),
                ValueSource::Env("DEPLOY_TOKEN".to_owned())
            ))
        );
        let err = parse_assignment("branch").err().unwrap_or_default();
        assert!(err.contains("-p branch=VALUE"), "{err}");
        let err = parse_assignment("token=@env:").err().unwrap_or_default();
        assert!(err.contains("@env:VAR"), "{err}");
        assert!(parse_assignment("bad name=x").is_err());
    }

    #[test]
    fn values_are_checked_against_their_kind() {
        assert!(check_value(&spec("n:int"), "-3").is_ok());
        assert!(check_value(&spec("n:int"), "x").is_err());
        assert!(check_value(&spec("e:choice(a|b)"), "b").is_ok());
        assert!(check_value(&spec("e:choice(a|b)"), "c").is_err());
        assert!(check_value(&spec("s"), &"x".repeat(MAX_PARAM_VALUE_BYTES + 1)).is_err());
    }
}
