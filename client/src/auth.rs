//! The API key: read from the environment or given explicitly, kept only as a
//! sensitive header value, and redacted from every `Debug` so it can never
//! reach logs, events or errors.

use std::fmt;

use reqwest::header::HeaderValue;

use crate::error::BuildError;

/// A bearer credential. `Debug` prints `ApiKey(<redacted>)`.
#[derive(Clone)]
pub(crate) struct ApiKey {
    header: HeaderValue,
}

impl ApiKey {
    /// Builds the `Authorization: Bearer ...` value; the header is marked
    /// sensitive so HTTP-level debug logging redacts it too.
    pub(crate) fn new(key: &str) -> Result<Self, BuildError> {
        let key = key.trim();
        if key.is_empty() {
            return Err(BuildError::InvalidApiKey);
        }
        let mut header = HeaderValue::from_str(&format!("Bearer {key}"))
            .map_err(|_| BuildError::InvalidApiKey)?;
        header.set_sensitive(true);
        Ok(ApiKey { header })
    }

    /// Reads the key from `env`; a missing or empty variable is an error that
    /// names the variable (never its value).
    pub(crate) fn from_env(env: &str) -> Result<Self, BuildError> {
        match std::env::var(env) {
            Ok(v) if !v.trim().is_empty() => ApiKey::new(&v),
            _ => Err(BuildError::MissingApiKey {
                env: env.to_owned(),
            }),
        }
    }

    pub(crate) fn header(&self) -> &HeaderValue {
        &self.header
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let k = ApiKey::new("sk-secret-123").unwrap();
        assert!(!format!("{k:?}").contains("secret"));
        assert!(k.header().is_sensitive());
    }

    #[test]
    fn bad_keys_are_rejected_without_echoing_them() {
        let e = ApiKey::new("sk\nbad").unwrap_err();
        assert!(!e.to_string().contains("bad"));
        assert!(matches!(
            ApiKey::from_env("RC_TEST_UNSET_VAR_XYZ"),
            Err(BuildError::MissingApiKey { .. })
        ));
    }
}
