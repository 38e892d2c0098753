//! SHA-256 digests as lowercase hex: how modules, layers, bundles and trusted files are named
//! and checked everywhere (manifests' `hash`, OCI digests, the trust store's fingerprints).

use sha2::{Digest as _, Sha256};

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_digest_of_nothing_is_sha256s() {
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(super::sha256_hex(b"abc").len(), 64);
    }
}
