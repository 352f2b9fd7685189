//! `md5`, `sha256` and `hmac_sha256`: lowercase hex digests of the input's
//! text, as the hosted original and Shopify print them (for signed links,
//! Gravatar URLs, identity-verification hashes of chat widgets).

use hmac::{Hmac, Mac};
use liquid_core::{Expression, Result, Value, ValueView};
use sha2::Digest;

use super::declare_filter;
use super::filter_error;

declare_filter!(
    /// `{{ "ada@example.com" | md5 }}`: the MD5 digest in hex.
    pub Md5 => Md5Filter,
    "md5",
    "The MD5 digest of the input, in lowercase hex.",
    hex_digest::<md5::Md5>
);

declare_filter!(
    /// `{{ "abc" | sha256 }}`: the SHA-256 digest in hex.
    pub Sha256 => Sha256Filter,
    "sha256",
    "The SHA-256 digest of the input, in lowercase hex.",
    hex_digest::<sha2::Sha256>
);

/// The digest of the input's text under `D`, in hex.
fn hex_digest<D: Digest>(input: &dyn ValueView) -> Result<Value> {
    Ok(Value::scalar(hex(&D::digest(input.to_kstr().as_bytes()))))
}

declare_filter!(
    /// `{{ recipient.id | hmac_sha256: vars.widget_secret }}`: the HMAC-SHA256
    /// of the input under the key, in hex.
    pub HmacSha256 => HmacSha256Filter {
        args: HmacArgs {
            key: Expression => "The secret key.",
        },
    },
    "hmac_sha256",
    "The HMAC-SHA256 of the input under the given key, in lowercase hex.",
    |input, args| {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(args.key.as_bytes())
            .map_err(|e| filter_error("hmac_sha256", e))?;
        mac.update(input.to_kstr().as_bytes());
        Ok(Value::scalar(hex(&mac.finalize().into_bytes())))
    }
);

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
