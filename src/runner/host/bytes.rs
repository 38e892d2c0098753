//! [`Bytes`]: a value host functions read and write (kv entries, fixed results, mock results),
//! stored as text when it is UTF-8 and as base64 otherwise, so files and panels show text as
//! text and binary values survive a round trip.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The prefix that marks a base64 value where a panel edits values as one line of text.
pub const BASE64_PREFIX: &str = "base64:";

/// Bytes that serialize as a string when they are UTF-8 and as `{"base64": "…"}` otherwise.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// The bytes as text, if they are UTF-8.
    pub fn as_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// One line to edit the value as: the text itself, or `base64:` and the base64 of binary
    /// bytes (and of text that starts with the prefix, so it reads back the same).
    pub fn to_editable(&self) -> String {
        match self.as_text() {
            Some(text) if !text.starts_with(BASE64_PREFIX) => text.to_string(),
            _ => format!("{BASE64_PREFIX}{}", BASE64.encode(&self.0)),
        }
    }

    /// Reads what [`Self::to_editable`] wrote: `base64:` followed by valid base64 is decoded,
    /// anything else is taken as text.
    pub fn from_editable(text: &str) -> Self {
        text.strip_prefix(BASE64_PREFIX)
            .and_then(|b64| BASE64.decode(b64.trim()).ok())
            .map_or_else(|| Self(text.as_bytes().to_vec()), Self)
    }

    /// A short, printable summary: the text (escaped, cut) or the size of binary bytes.
    pub fn summary(&self, max_chars: usize) -> String {
        summary_of(&self.0, max_chars)
    }
}

/// [`Bytes::summary`] of borrowed bytes.
pub fn summary_of(bytes: &[u8], max_chars: usize) -> String {
    {
        match std::str::from_utf8(bytes).ok() {
            Some(text) => {
                let count = text.chars().count();
                if count <= max_chars {
                    format!("{text:?}")
                } else {
                    let head: String = text.chars().take(max_chars).collect();
                    format!("{head:?}… ({count} chars)")
                }
            }
            None => format!("{} bytes (binary)", bytes.len()),
        }
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.as_text() {
            Some(text) => write!(f, "{text:?}"),
            None => write!(f, "base64:{}", BASE64.encode(&self.0)),
        }
    }
}

impl From<&str> for Bytes {
    fn from(s: &str) -> Self {
        Self(s.as_bytes().to_vec())
    }
}

impl From<String> for Bytes {
    fn from(s: String) -> Self {
        Self(s.into_bytes())
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Self(v)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Stored {
    Text(String),
    Binary {
        base64: String,
    },
    /// Only inside the worker protocol's frames: the bytes travel beside the header.
    Blob {
        blob: u64,
    },
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if let Some(blob) = crate::runner::protocol::stash(&self.0) {
            return Stored::Blob { blob }.serialize(s);
        }
        match self.as_text() {
            Some(text) => Stored::Text(text.to_string()),
            None => Stored::Binary {
                base64: BASE64.encode(&self.0),
            },
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Stored::deserialize(d)? {
            Stored::Text(text) => Ok(Self(text.into_bytes())),
            Stored::Binary { base64 } => BASE64
                .decode(base64.trim())
                .map(Self)
                .map_err(|e| serde::de::Error::custom(format!("invalid base64 value: {e}"))),
            Stored::Blob { blob } => match crate::runner::protocol::take_blob(blob) {
                Some(bytes) => bytes.map(Self).map_err(serde::de::Error::custom),
                None => Err(serde::de::Error::custom(
                    "a value must be text or {\"base64\": \"…\"}",
                )),
            },
        }
    }
}

/// Serde for `Option<Vec<u8>>` as base64 text (module bytes embedded in a file).
pub(crate) mod base64_opt {
    use super::BASE64;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    #[expect(
        clippy::ref_option,
        reason = "serde's `with` passes a reference to the field"
    )]
    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(bytes) => s.serialize_some(&BASE64.encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| BASE64.decode(text.trim()).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_stored_as_text_and_binary_as_base64() {
        let text = Bytes::from("héllo");
        assert_eq!(serde_json::to_string(&text).unwrap(), r#""héllo""#);
        let binary = Bytes(vec![0xff, 0x00, 0x10]);
        let json = serde_json::to_string(&binary).unwrap();
        assert_eq!(json, r#"{"base64":"/wAQ"}"#);
        assert_eq!(serde_json::from_str::<Bytes>(&json).unwrap(), binary);
        assert_eq!(
            serde_json::from_str::<Bytes>(r#""plain""#).unwrap(),
            Bytes::from("plain")
        );
        assert!(serde_json::from_str::<Bytes>(r#"{"base64":"%%"}"#).is_err());
    }

    #[test]
    fn editable_form_round_trips() {
        for value in [
            Bytes::from("plain text"),
            Bytes(vec![0, 159, 146, 150]),
            Bytes::from("base64:looks like a prefix"),
            Bytes::default(),
        ] {
            assert_eq!(Bytes::from_editable(&value.to_editable()), value);
        }
        assert_eq!(
            Bytes::from_editable("base64:not base64!"),
            Bytes::from("base64:not base64!")
        );
    }
}
