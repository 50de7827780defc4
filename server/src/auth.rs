//! API tokens: minting, parsing and constant-time verification.
//!
//! A token reads `wrn_` + 16 characters naming the token record + 32 characters of secret
//! (160 random bits). The store keeps the record under its id with the SHA-256 of the secret only,
//! so a stolen store file yields no usable token, and a lookup never compares secrets by timing.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use warren_protocol::{Id, TOKEN_PREFIX};

use crate::store::records::TokenRecord;

const ID_CHARS: usize = 16;
const SECRET_CHARS: usize = 32;

/// The operating system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("the system random number generator failed: {0}")]
pub struct RandomError(String);

/// Fills a buffer from the OS random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| RandomError(e.to_string()))?;
    Ok(buf)
}

/// A fresh random id with the given kind prefix.
pub fn new_id(prefix: &str) -> Result<Id, RandomError> {
    Ok(Id::from_random(prefix, random_bytes()?))
}

/// A fresh id whose first 48 bits are the current time in milliseconds and the other 32 random,
/// so ids minted one after another sort (and are stored) next to each other: a batch of new
/// cards or messages touches a few B-tree pages instead of one random page each. Not for
/// secrets.
pub fn new_sortable_id(prefix: &str) -> Result<Id, RandomError> {
    let random: [u8; 4] = random_bytes()?;
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut bytes = [0u8; 10];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(&random);
    Ok(Id::from_random(prefix, bytes))
}

/// A newly minted token: the record to store and the token text to show once.
pub struct MintedToken {
    pub record: TokenRecord,
    /// The full token. Show it to the user once; never store or log it.
    pub token: String,
}

impl std::fmt::Debug for MintedToken {
    /// Never shows the secret (so a token cannot leak through a debug log).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintedToken")
            .field("record", &self.record)
            .field("token", &"wrn_***")
            .finish()
    }
}

/// Mints a token for a user.
pub fn mint(user_id: &Id, label: &str, now: i64) -> Result<MintedToken, RandomError> {
    let id = new_id("tok")?;
    let body = id.as_str().trim_start_matches("tok_").to_owned();
    let secret = new_secret()?;
    let record = TokenRecord {
        id,
        user_id: user_id.clone(),
        label: label.to_owned(),
        secret_sha256: sha256_hex(&secret),
        created_at: now,
        scope: warren_protocol::account::TokenScope::Full,
        expires_at: None,
        last_used_at: None,
    };
    Ok(MintedToken {
        record,
        token: format!("{TOKEN_PREFIX}{body}{secret}"),
    })
}

/// A fresh secret of [`SECRET_CHARS`] characters (160 random bits).
pub fn new_secret() -> Result<String, RandomError> {
    Ok(format!(
        "{}{}",
        new_id("s")?.as_str().trim_start_matches("s_"),
        new_id("s")?.as_str().trim_start_matches("s_")
    ))
}

/// Splits a presented token into the id of its record and its secret, if it is well-formed.
pub fn parse(token: &str) -> Option<(String, &str)> {
    split_secret(token, TOKEN_PREFIX, "tok")
}

/// Splits `PREFIX` + 16 id characters + 32 secret characters into `kind_ID` and the secret.
pub fn split_secret<'a>(text: &'a str, prefix: &str, kind: &str) -> Option<(String, &'a str)> {
    let rest = text.strip_prefix(prefix)?;
    if rest.len() != ID_CHARS + SECRET_CHARS
        || !rest
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return None;
    }
    let (id_body, secret) = rest.split_at(ID_CHARS);
    Some((format!("{kind}_{id_body}"), secret))
}

/// True if `secret` matches the record, compared in constant time.
pub fn verify(record: &TokenRecord, secret: &str) -> bool {
    digest_matches(&record.secret_sha256, secret)
}

/// True if the SHA-256 of `secret` is `stored_hex`, compared in constant time.
pub fn digest_matches(stored_hex: &str, secret: &str) -> bool {
    let presented = sha256_hex(secret);
    presented.as_bytes().ct_eq(stored_hex.as_bytes()).into()
}

/// Lowercase hex SHA-256 of a secret: what the store keeps instead of it.
pub fn sha256_hex(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_parse_and_verify() -> Result<(), RandomError> {
        let user = new_id("usr")?;
        let minted = mint(&user, "laptop", 1)?;
        assert!(minted.token.starts_with("wrn_"));
        assert!(!minted.record.secret_sha256.contains(&minted.token[20..]));
        let (id, secret) = parse(&minted.token).ok_or(RandomError("parse".into()))?;
        assert_eq!(id, minted.record.id.as_str());
        assert!(verify(&minted.record, secret));
        let mut wrong = secret.to_owned();
        wrong.replace_range(0..1, if secret.starts_with('a') { "b" } else { "a" });
        assert!(!verify(&minted.record, &wrong));
        Ok(())
    }

    #[test]
    fn sortable_ids_follow_the_clock() -> Result<(), RandomError> {
        let a = new_sortable_id("card")?;
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_sortable_id("card")?;
        assert!(a < b, "{a} < {b}");
        assert!(Id::parse(a.as_str()).is_ok());
        Ok(())
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        for bad in [
            "",
            "wrn_",
            "abc",
            "wrn_short",
            &format!("wrn_{}", "A".repeat(48)),
        ] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }
}
