//! Bearer tokens shaped like the real ones: HS256 JWTs with the claims the real API puts
//! in them (`clc-api.md` §1.1), valid for 14 days of wall-clock time, signed with a key
//! kept in the persisted state so tokens survive an emulator restart.

use sha2::{Digest, Sha256};

/// Token lifetime: 14 days.
pub(crate) const TOKEN_LIFETIME_SECS: i64 = 14 * 24 * 3600;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url.
pub(crate) fn b64url_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Unpadded (or padded) base64url; `None` on bad input.
pub(crate) fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.trim_end_matches('=').bytes() {
        let v = B64.iter().position(|&b| b == c)? as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

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
