//! Identifiers of workspace entities and of client requests.
//!
//! An [`Id`] is a short ASCII string such as `card_5k2m9x0q3h7v1c8d`: a lowercase kind prefix, an
//! underscore and 1–40 lowercase letters or digits. Servers mint them; clients may mint their own
//! (for changes made offline) as long as they follow the same form. Anything else is rejected when
//! the frame is parsed, so an invalid id never reaches the store.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid [`Id`] or [`RequestId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The string does not have the `prefix_body` form.
    #[error(
        "invalid id {0:?}: expected a lowercase prefix, '_' and 1-40 lowercase letters or digits, like card_5k2m9x0q"
    )]
    Malformed(String),
    /// A request id is empty, too long, or has characters outside `[A-Za-z0-9_-]`.
    #[error("invalid request id {0:?}: use 1-64 characters from A-Z a-z 0-9 _ -")]
    BadRequestId(String),
}

/// The identifier of a user, workspace, board, column, card, room or message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Id(String);

impl Id {
    /// Parses and validates an id.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let valid = match s.split_once('_') {
            Some((prefix, body)) => {
                (1..=12).contains(&prefix.len())
                    && prefix.bytes().all(|b| b.is_ascii_lowercase())
                    && (1..=40).contains(&body.len())
                    && body
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            }
            None => false,
        };
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::Malformed(s.chars().take(80).collect()))
        }
    }

    /// Builds an id from a kind prefix and a random 80-bit value (the caller supplies the
    /// randomness, so this crate stays free of any RNG).
    pub fn from_random(prefix: &str, random: [u8; 10]) -> Self {
        const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
        let mut bits: u128 = 0;
        for b in random {
            bits = (bits << 8) | u128::from(b);
        }
        let mut body = String::with_capacity(16);
        for i in (0..16).rev() {
            let index = ((bits >> (i * 5)) & 31) as usize;
            body.push(char::from(ALPHABET[index]));
        }
        Self(format!("{prefix}_{body}"))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The kind prefix, such as `card`.
    pub fn prefix(&self) -> &str {
        self.0.split_once('_').map_or("", |(p, _)| p)
    }
}

impl TryFrom<String> for Id {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Id::parse(&value)
    }
}

impl From<Id> for String {
    fn from(value: Id) -> Self {
        value.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client-chosen identifier of one command, echoed by the answer to it. Re-sending a command with
/// the same request id returns the first answer and never applies the command twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RequestId(String);

impl RequestId {
    /// Parses and validates a request id.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let valid = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::BadRequestId(s.chars().take(80).collect()))
        }
    }

    /// The request id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RequestId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        RequestId::parse(&value)
    }
}

impl From<RequestId> for String {
    fn from(value: RequestId) -> Self {
        value.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_well_formed_ids() {
        assert_eq!(
            Id::parse("card_abc123").map(|i| i.prefix().to_owned()),
            Ok("card".into())
        );
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            "", "card", "_abc", "card_", "Card_abc", "card_ABC", "card_a-b", "c d_x",
        ] {
            assert!(Id::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let long = format!("card_{}", "a".repeat(41));
        assert!(Id::parse(&long).is_err());
    }

    #[test]
    fn random_ids_are_valid_and_distinct() {
        let a = Id::from_random("card", [1; 10]);
        let b = Id::from_random("card", [2; 10]);
        assert_ne!(a, b);
        assert!(Id::parse(a.as_str()).is_ok());
        assert_eq!(a.as_str().len(), "card_".len() + 16);
    }

    #[test]
    fn request_ids_are_validated() {
        assert!(RequestId::parse("cli-1_A").is_ok());
        assert!(RequestId::parse("").is_err());
        assert!(RequestId::parse("has space").is_err());
        assert!(RequestId::parse(&"x".repeat(65)).is_err());
    }
}
