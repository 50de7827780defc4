//! A run's parameters: the values given for `start_run` or `retry_run` checked against the
//! job's declarations (unknown names refused, required ones missing refused, values parsed as
//! their kind, defaults filled in), split into what the record keeps (secrets as `***`) and the
//! secret values that only the vault and the assigned worker see.

use std::collections::BTreeMap;

use warren_protocol::ErrorCode;
use warren_protocol::run::{Job, MASK, ParamKind, RunParam};

use super::{ApplyError, job_rules};
use crate::runs::secrets::Secret;

/// The record's parameters and the secret values.
pub struct Resolved {
    pub params: Vec<RunParam>,
    pub secrets: Vec<Secret>,
}

fn invalid(message: String) -> ApplyError {
    ApplyError::reject(ErrorCode::Validation, message)
}

/// Checks `given` against `job`'s parameters. Names match ignoring ASCII case.
pub fn resolve(job: &Job, given: &BTreeMap<String, String>) -> Result<Resolved, ApplyError> {
    let declared = || {
        if job.params.is_empty() {
            "it takes none".to_owned()
        } else {
            format!(
                "its parameters are {}",
                job.params
                    .iter()
                    .map(|p| format!("{}:{}", p.name, p.kind.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    let unknown: Vec<&str> = given
        .keys()
        .filter(|k| !job.params.iter().any(|p| p.name.eq_ignore_ascii_case(k)))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(invalid(format!(
            "job {} has no parameter {}; {}",
            job.name,
            unknown.join(", "),
            declared()
        )));
    }
    let mut params = Vec::with_capacity(job.params.len());
    let mut secrets = Vec::new();
    let mut missing = Vec::new();
    for spec in &job.params {
        let value = given
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&spec.name))
            .map(|(_, v)| v.clone())
            .or_else(|| spec.default.clone());
        let Some(value) = value else {
            missing.push(spec.name.as_str());
            continue;
        };
        job_rules::check_value(spec, &value).map_err(invalid)?;
        if spec.kind == ParamKind::Secret {
            secrets.push(Secret {
                name: spec.name.clone(),
                value,
            });
            params.push(RunParam {
                name: spec.name.clone(),
                value: MASK.to_owned(),
                secret: true,
            });
        } else {
            params.push(RunParam {
                name: spec.name.clone(),
                value,
                secret: false,
            });
        }
    }
    if !missing.is_empty() {
        return Err(invalid(format!(
            "job {} needs {}; give {} with -p NAME=VALUE",
            job.name,
            missing.join(", "),
            if missing.len() == 1 { "it" } else { "them" }
        )));
    }
    Ok(Resolved { params, secrets })
}

#[cfg(test)]
mod tests {
    use warren_protocol::Id;
    use warren_protocol::run::ParamSpec;

    use super::*;

    fn job() -> Job {
        Job {
            id: Id::from_random("job", [1; 10]),
            name: "deploy".into(),
            command: "true".into(),
            description: String::new(),
            params: vec![
                ParamSpec {
                    name: "env".into(),
                    kind: ParamKind::Choice,
                    choices: vec!["staging".into(), "prod".into()],
                    default: Some("staging".into()),
                },
                ParamSpec {
                    name: "api_key".into(),
                    kind: ParamKind::Secret,
                    choices: vec![],
                    default: None,
                },
            ],
            timeout_secs: 60,
            retries: 0,
            tags: vec![],
            protected: false,
            concurrency: None,
            created_by: Id::from_random("usr", [2; 10]),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn secrets_are_masked_and_problems_named() {
        let given = BTreeMap::from([("API_KEY".to_owned(), "sk-9".to_owned())]);
        let Ok(resolved) = resolve(&job(), &given) else {
            panic!("valid params refused");
        };
        assert_eq!(resolved.params[0].value, "staging");
        assert_eq!(resolved.params[1].value, MASK);
        assert_eq!(resolved.secrets[0].value, "sk-9");
        let missing = resolve(&job(), &BTreeMap::new())
            .err()
            .map(|e| e.to_string());
        assert!(missing.is_some_and(|m| m.contains("needs api_key")));
        let unknown = BTreeMap::from([("nope".to_owned(), "1".to_owned())]);
        let refused = resolve(&job(), &unknown).err().map(|e| e.to_string());
        assert!(refused.is_some_and(|m| m.contains("no parameter nope")));
        let bad = BTreeMap::from([
            ("env".to_owned(), "dev".to_owned()),
            ("api_key".to_owned(), "x".to_owned()),
        ]);
        assert!(resolve(&job(), &bad).is_err());
    }
}
