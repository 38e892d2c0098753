//! `oci://` references as users write them: `oci://HOST[:PORT]/REPO[:TAG][@sha256:HEX]`. The
//! host is always named (there is no default registry), a reference with neither tag nor digest
//! means `:latest` (as `oras` and `crane` read it), and a digest pins the content whatever the
//! tag says.

use std::fmt;
use std::str::FromStr;

/// The scheme every registry reference starts with.
pub const SCHEME: &str = "oci://";

/// A plugin in a registry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    /// `HOST[:PORT]`, as written.
    pub registry: String,
    /// `team/plugin`: lowercase path components.
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:` and 64 lowercase hex digits.
    pub digest: Option<String>,
}

/// Why a string is not a registry reference.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{input:?} is not a registry reference: {reason}; write oci://HOST[:PORT]/REPO:TAG or oci://HOST[:PORT]/REPO@sha256:DIGEST"
)]
pub struct ReferenceError {
    pub input: String,
    pub reason: String,
}

/// Whether `text` names a registry reference (and should be parsed as one, not as a path).
pub fn is_reference(text: &str) -> bool {
    text.get(..SCHEME.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(SCHEME))
}

/// The 64 lowercase hex digits of a `sha256:` digest, if `digest` is one. Every digest that
/// names a file, a pin or a request goes through here.
pub fn digest_hex(digest: &str) -> Option<&str> {
    digest.strip_prefix("sha256:").filter(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn valid_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    tag.len() <= 128
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A path component of a repository: lowercase alphanumerics separated by `.`, `_`, `__` or
/// runs of `-` (the distribution spec's grammar, checked loosely: separators never lead or
/// trail).
fn valid_component(component: &str) -> bool {
    let first_last_ok =
        |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    first_last_ok(component.bytes().next())
        && first_last_ok(component.bytes().last())
        && component.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

fn valid_host(registry: &str) -> bool {
    let (host, port) = match registry.rsplit_once(':') {
        // An IPv6 literal keeps its colons inside brackets.
        Some((host, port)) if !host.ends_with(':') && !registry.ends_with(']') => {
            (host, Some(port))
        }
        _ => (registry, None),
    };
    let host_ok = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        inner.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    };
    host_ok && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0))
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| ReferenceError {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let trimmed = input.trim();
        if !is_reference(trimmed) {
            return Err(fail("it does not start with oci://"));
        }
        let rest = &trimmed[SCHEME.len()..];
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| fail("it names no repository after the host"))?;
        if registry.is_empty() {
            return Err(fail("it names no registry host"));
        }
        if !valid_host(registry) {
            return Err(fail(&format!(
                "{registry:?} is not a host name with an optional port"
            )));
        }
        let (name_tag, digest) = match path.split_once('@') {
            Some((name_tag, digest)) => {
                let digest = digest.to_ascii_lowercase();
                if digest_hex(&digest).is_none() {
                    return Err(fail(&format!(
                        "{digest:?} is not a sha256 digest (sha256: and 64 hex digits)"
                    )));
                }
                (name_tag, Some(digest))
            }
            None => (path, None),
        };
        // A tag follows the last colon after the last slash.
        let (repository, tag) = match name_tag.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag.to_string())),
            _ => (name_tag, None),
        };
        if repository.is_empty() {
            return Err(fail("it names no repository after the host"));
        }
        if let Some(bad) = repository.split('/').find(|c| !valid_component(c)) {
            return Err(fail(&format!(
                "the repository part {bad:?} may hold only lowercase letters, digits, '.', '_' and '-'"
            )));
        }
        if let Some(tag) = &tag
            && !valid_tag(tag)
        {
            return Err(fail(&format!(
                "the tag {tag:?} may hold only letters, digits, '_', '.' and '-' (at most 128)"
            )));
        }
        let tag = match (&tag, &digest) {
            (None, None) => Some("latest".to_string()),
            _ => tag,
        };
        Ok(Self {
            registry: registry.to_ascii_lowercase(),
            repository: repository.to_string(),
            tag,
            digest,
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl Reference {
    /// The host without its port (what `--insecure-registry` and loopback checks compare).
    pub fn host(&self) -> &str {
        if self.registry.ends_with(']') {
            return &self.registry;
        }
        self.registry
            .rsplit_once(':')
            .map_or(self.registry.as_str(), |(host, _)| host)
    }

    /// Whether the registry is on this machine (reached over plain HTTP).
    pub fn is_loopback(&self) -> bool {
        let host = self.host().trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The same plugin pinned to `digest` (the tag is kept to say where it came from).
    #[must_use]
    pub fn pinned(&self, digest: &str) -> Self {
        Self {
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }

    /// The reference by tag only (what "Check for newer" resolves again).
    #[must_use]
    pub fn unpinned(&self) -> Option<Self> {
        self.tag.as_ref().map(|_| Self {
            digest: None,
            ..self.clone()
        })
    }

    /// `HOST/REPO:TAG` without the scheme: the key tags are remembered under.
    pub fn tag_key(&self) -> Option<String> {
        self.tag
            .as_ref()
            .map(|tag| format!("{}/{}:{tag}", self.registry, self.repository))
    }

    /// A short name for people: the repository's last component with the tag, or with the
    /// digest's first 12 hex digits (`checkout:1.4`, `checkout@sha256:0123456789ab`).
    pub fn short_name(&self) -> String {
        let last = self
            .repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository);
        match (&self.tag, &self.digest) {
            (Some(tag), _) => format!("{last}:{tag}"),
            (None, Some(digest)) => format!("{last}@{}", &digest[..digest.len().min(19)]),
            (None, None) => last.to_string(),
        }
    }

    /// What a manifest request names: the digest when there is one, else the tag (`latest`
    /// when none is given).
    pub(crate) fn manifest_name(&self) -> String {
        self.digest
            .clone()
            .or_else(|| self.tag.clone())
            .unwrap_or_else(|| "latest".to_string())
    }

    /// The host requests go to (Docker Hub's registry answers at `index.docker.io`, as
    /// docker and oci-client reach it).
    pub(crate) fn request_host(&self) -> &str {
        if self.registry == "docker.io" {
            "index.docker.io"
        } else {
            &self.registry
        }
    }

    /// The oci-client form of this reference.
    pub(crate) fn to_client(&self) -> oci_client::Reference {
        match (&self.tag, &self.digest) {
            (Some(tag), Some(digest)) => oci_client::Reference::with_tag_and_digest(
                self.registry.clone(),
                self.repository.clone(),
                tag.clone(),
                digest.clone(),
            ),
            (_, Some(digest)) => oci_client::Reference::with_digest(
                self.registry.clone(),
                self.repository.clone(),
                digest.clone(),
            ),
            (tag, None) => oci_client::Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                tag.clone().unwrap_or_else(|| "latest".to_string()),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn parse(s: &str) -> Reference {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn tags_digests_and_ports() {
        let r = parse("oci://127.0.0.1:5000/tenant/plugin:1.4");
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.host(), "127.0.0.1");
        assert_eq!(r.repository, "tenant/plugin");
        assert_eq!(r.tag.as_deref(), Some("1.4"));
        assert!(r.is_loopback());
        assert_eq!(r.to_string(), "oci://127.0.0.1:5000/tenant/plugin:1.4");

        let r = parse(&format!("oci://ghcr.io/acme/p@{D}"));
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.as_deref(), Some(D));
        assert!(!r.is_loopback());

        let r = parse(&format!(
            "OCI://Registry.Example.com/a/b:v1@{}",
            D.to_uppercase().replace("SHA256", "sha256")
        ));
        assert_eq!(r.registry, "registry.example.com");
        assert_eq!(r.digest.as_deref(), Some(D), "digests are lowercased");
        assert_eq!(r.tag_key().as_deref(), Some("registry.example.com/a/b:v1"));
        assert_eq!(parse("oci://localhost/x").tag.as_deref(), Some("latest"));
        assert!(parse("oci://[::1]:5000/x:y").is_loopback());
        assert_eq!(parse("oci://[::1]:5000/x:y").host(), "[::1]");
    }

    #[test]
    fn pins_keep_the_tag_for_people() {
        let r = parse("oci://h:1/r:t");
        let pinned = r.pinned(D);
        assert_eq!(pinned.to_string(), format!("oci://h:1/r:t@{D}"));
        assert_eq!(pinned.unpinned(), Some(r));
        assert_eq!(parse(&format!("oci://h/r@{D}")).unpinned(), None);
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        for (input, says) in [
            ("127.0.0.1:5000/r:t", "oci://"),
            ("oci://host", "no repository"),
            ("oci:///r:t", "no registry host"),
            ("oci://host/Repo:t", "lowercase"),
            ("oci://host/r:bad tag", "tag"),
            ("oci://host/r@sha256:abc", "sha256 digest"),
            ("oci://host/r@md5:0123", "sha256 digest"),
            ("oci://ho st/r", "host name"),
            ("oci://host:99999/r", "host name"),
            ("oci://host//r", "repository part"),
        ] {
            let e = input.parse::<Reference>().expect_err(input);
            assert!(e.to_string().contains(says), "{input}: {e}");
            assert!(e.to_string().contains("oci://HOST"), "{input}: {e}");
        }
    }

    #[test]
    fn only_the_scheme_makes_a_reference() {
        assert!(is_reference("oci://h/r"));
        assert!(is_reference("OCI://h/r"));
        assert!(!is_reference("./oci/r.wasm"));
        assert!(!is_reference("oci:/h"));
    }
}
