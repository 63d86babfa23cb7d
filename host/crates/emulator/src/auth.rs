//! Bearer tokens shaped like the real ones: HS256 JWTs with the claims the real API puts
//! in them (`clc-api.md` §1.1), valid for 14 days of wall-clock time, signed with a key
//! kept in the persisted state so tokens survive an emulator restart.

use certify_clc::codec::{b64url_decode, b64url_encode};
use sha2::{Digest, Sha256};

/// Token lifetime: 14 days.
pub(crate) const TOKEN_LIFETIME_SECS: i64 = 14 * 24 * 3600;

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Issues a token for the account.
pub(crate) fn issue(key: &str, user: &str, alias: &str, location: &str, now_unix: i64) -> String {
    let header = b64url_encode(br#"{"typ":"JWT","alg":"HS256"}"#);
    let claims = serde_json::json!({
        "unique_name": user,
        "urn:tier3:account-alias": alias,
        "urn:tier3:location-alias": location,
        "role": ["AccountAdmin", "ServerAdmin"],
        "iss": "urn:api-tier3",
        "aud": "urn:tier3-users",
        "nbf": now_unix,
        "exp": now_unix + TOKEN_LIFETIME_SECS,
        // Makes every token unique even within one second.
        "jti": uuid::Uuid::new_v4().simple().to_string(),
    });
    let payload = b64url_encode(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{payload}");
    let sig = b64url_encode(&hmac_sha256(key.as_bytes(), signing_input.as_bytes()));
    format!("{signing_input}.{sig}")
}

/// Whether a token was signed with `key` and is within its validity at `now_unix`.
pub(crate) fn verify(key: &str, token: &str, now_unix: i64) -> bool {
    let mut parts = token.rsplitn(2, '.');
    let (Some(sig), Some(signing_input)) = (parts.next(), parts.next()) else {
        return false;
    };
    let expected = b64url_encode(&hmac_sha256(key.as_bytes(), signing_input.as_bytes()));
    if !constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
        return false;
    }
    let Some(payload) = signing_input
        .split('.')
        .nth(1)
        .and_then(b64url_decode)
        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok())
    else {
        return false;
    };
    let nbf = payload["nbf"].as_i64().unwrap_or(i64::MAX);
    let exp = payload["exp"].as_i64().unwrap_or(0);
    // A little slack for clock skew between issuing and checking.
    nbf - 300 <= now_unix && now_unix < exp
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips() {
        for s in [
            "",
            "f",
            "fo",
            "foo",
            "foob",
            "fooba",
            "foobar",
            "\u{ff}\u{fe}",
        ] {
            assert_eq!(
                b64url_decode(&b64url_encode(s.as_bytes())).unwrap(),
                s.as_bytes()
            );
        }
        assert_eq!(b64url_encode(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn tokens_verify_and_expire() {
        let t = issue("k", "u", "CERT", "VA1", 1_000_000);
        assert!(verify("k", &t, 1_000_001));
        assert!(!verify("other", &t, 1_000_001));
        assert!(!verify("k", &t, 1_000_000 + TOKEN_LIFETIME_SECS));
        assert!(!verify("k", "garbage", 1_000_001));
    }
}
