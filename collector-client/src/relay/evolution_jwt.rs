//! Evolution API's own webhook authentication: with `headers.jwt_key` set on
//! an instance's webhook, Evolution (v2.2+, `webhook.controller.ts`,
//! `generateJwtToken`) sends `Authorization: Bearer <JWT>`, signed HS256
//! with that key, claims `{iat, exp: iat + 600, app: "evolution", action:
//! "webhook"}`. The relay checks it with `jsonwebtoken`: HS256 only, a valid
//! signature, an `exp` in the future (60 s leeway for clock drift), and
//! `app`/`action` when present.
//!
//! Evolution does not retry a 401 (`NON_RETRYABLE_STATUS_CODES` holds 400,
//! 401, 403, 404 and 422), so a refused webhook is gone: the relay logs it as
//! an error and counts it, naming the setting to check.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::Deserialize;

/// Why a webhook's JWT was refused (a label, never the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtRefusal {
    /// No `Authorization: Bearer …` header.
    Missing,
    /// Expired (`exp` more than the leeway in the past).
    Expired,
    /// Bad signature, wrong algorithm, not a JWT, missing `exp`, or claims
    /// that are not Evolution's webhook claims.
    Invalid,
}

impl JwtRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            JwtRefusal::Missing => "missing_bearer_token",
            JwtRefusal::Expired => "expired_token",
            JwtRefusal::Invalid => "invalid_token",
        }
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(default)]
    app: Option<String>,
    #[serde(default)]
    action: Option<String>,
}

/// Checks the `Authorization` header's value against Evolution's `jwt_key`.
pub fn verify(authorization: Option<&str>, jwt_key: &[u8]) -> Result<(), JwtRefusal> {
    let token = authorization
        .map(str::trim)
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or(JwtRefusal::Missing)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 60;
    validation.set_required_spec_claims(&["exp"]);
    validation.validate_exp = true;
    let key = DecodingKey::from_secret(jwt_key).map_err(|_| JwtRefusal::Invalid)?;
    let data = decode::<Claims>(token, &key, &validation).map_err(|error| match error.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => JwtRefusal::Expired,
        _ => JwtRefusal::Invalid,
    })?;
    let claims = data.claims;
    if claims.app.as_deref().is_some_and(|app| app != "evolution") || claims.action.as_deref().is_some_and(|action| action != "webhook") {
        return Err(JwtRefusal::Invalid);
    }
    Ok(())
}

/// A token as Evolution signs one (`iat` now, `exp` in 10 minutes), for
/// tests and tooling; `now` is unix seconds. The key must not be empty
/// (Evolution's `jwt_key` never is; the relay treats an empty one as unset). The key must not be empty
/// (Evolution's `jwt_key` never is; the relay treats an empty one as unset).
pub fn sign_like_evolution(jwt_key: &[u8], now: i64) -> String {
    #[derive(serde::Serialize)]
    struct Evolution<'a> {
        iat: i64,
        exp: i64,
        app: &'a str,
        action: &'a str,
    }
    let claims = Evolution { iat: now, exp: now + 600, app: "evolution", action: "webhook" };
    jsonwebtoken::EncodingKey::from_secret(jwt_key)
        .and_then(|key| jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::HS256), &claims, &key))
        .unwrap_or_else(|error| panic!("HS256 signs with any non-empty key: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"evolution-jwt-key";

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn evolutions_token_passes_and_everything_else_is_refused() {
        let token = sign_like_evolution(KEY, now());
        assert_eq!(verify(Some(&format!("Bearer {token}")), KEY), Ok(()));
        assert_eq!(verify(Some(&format!("bearer  {token} ")), KEY), Ok(()), "scheme is case-insensitive");
        assert_eq!(verify(None, KEY), Err(JwtRefusal::Missing));
        assert_eq!(verify(Some(&token), KEY), Err(JwtRefusal::Missing), "no scheme");
        assert_eq!(verify(Some("Basic dXNlcjpwYXNz"), KEY), Err(JwtRefusal::Missing));
        assert_eq!(verify(Some(&format!("Bearer {token}")), b"another key"), Err(JwtRefusal::Invalid));
        assert_eq!(verify(Some("Bearer not.a.jwt"), KEY), Err(JwtRefusal::Invalid));
        // Signed 20 minutes ago: its exp passed 10 minutes ago, beyond the 60 s leeway.
        let stale = sign_like_evolution(KEY, now() - 1200);
        assert_eq!(verify(Some(&format!("Bearer {stale}")), KEY), Err(JwtRefusal::Expired));
    }

    #[test]
    fn other_algorithms_and_foreign_claims_are_refused() {
        let header = jsonwebtoken::Header::new(Algorithm::HS512);
        let claims = serde_json::json!({"iat": now(), "exp": now() + 600, "app": "evolution", "action": "webhook"});
        let hs512 = jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(KEY).expect("key")).expect("sign");
        assert_eq!(verify(Some(&format!("Bearer {hs512}")), KEY), Err(JwtRefusal::Invalid));
        let hs256 = jsonwebtoken::Header::new(Algorithm::HS256);
        let no_exp = jsonwebtoken::encode(&hs256, &serde_json::json!({"iat": now()}), &jsonwebtoken::EncodingKey::from_secret(KEY).expect("key")).expect("sign");
        assert_eq!(verify(Some(&format!("Bearer {no_exp}")), KEY), Err(JwtRefusal::Invalid));
        let other_app = jsonwebtoken::encode(&hs256, &serde_json::json!({"exp": now() + 600, "app": "other"}), &jsonwebtoken::EncodingKey::from_secret(KEY).expect("key")).expect("sign");
        assert_eq!(verify(Some(&format!("Bearer {other_app}")), KEY), Err(JwtRefusal::Invalid));
        // "none" algorithm: header {"alg":"none"} with an empty signature.
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJleHAiOjQxMDI0NDQ4MDB9.";
        assert_eq!(verify(Some(&format!("Bearer {none}")), KEY), Err(JwtRefusal::Invalid));
    }
}
