//! Which credentials a registry gets, and how to say which were tried. In order: a login given
//! on the command line or in the window for that registry (a login names the registries it is
//! for, and goes nowhere else), then docker's credentials for it
//! (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`: `auths`, or a credential helper
//! from `credHelpers`/`credsStore`), then none.

use std::path::PathBuf;

use oci_client::secrets::RegistryAuth;

/// A user name and password given for this run (never saved), for the registries the user
/// named: a registry a file names never gets it unless the user named that registry too.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    /// The registries (`HOST[:PORT]`) it is for; none: it is sent nowhere.
    pub registries: Vec<String>,
    pub user: String,
    pub password: String,
}

impl Login {
    /// Whether this login is for `registry`.
    pub fn is_for(&self, registry: &str) -> bool {
        self.registries
            .iter()
            .any(|r| r.eq_ignore_ascii_case(registry))
    }
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("registries", &self.registries)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Credentials for one registry, and where they came from.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub auth: RegistryAuth,
    /// For people: "no credentials", "user alice (given)", "user alice from
    /// ~/.docker/config.json", "a token from the credential helper docker-credential-pass".
    pub described: String,
}

/// The docker config file credentials are read from.
pub fn docker_config_path() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| crate::platform::dirs::home().map(|home| home.join(".docker")))
        .map(|dir| dir.join("config.json"))
}

/// The credential helper docker's config names for `registry`, if any.
fn helper_for(registry: &str) -> Option<String> {
    let bytes = crate::platform::files::read(
        &docker_config_path()?,
        crate::platform::files::FileKind::AppData,
    )
    .ok()?;
    let config: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    config
        .get("credHelpers")
        .and_then(|h| h.get(registry))
        .or_else(|| config.get("credsStore"))
        .and_then(serde_json::Value::as_str)
        .map(|name| format!("docker-credential-{name}"))
}

/// The credentials to use for `registry`: the first of `logins` for it, else docker's, else
/// none.
pub fn credentials(registry: &str, logins: &[Login]) -> Credentials {
    if let Some(login) = logins.iter().find(|l| l.is_for(registry)) {
        return Credentials {
            auth: RegistryAuth::Basic(login.user.clone(), login.password.clone()),
            described: format!("user {} (given for this run)", login.user),
        };
    }
    let mut found = docker_credentials(registry);
    // A login given for other registries is not sent here: say so, and how to send it.
    if let Some(login) = logins.first() {
        found.described = format!(
            "{} (the login of {} is only for {}; to send it to {registry} too, add --registry-host {registry})",
            found.described,
            login.user,
            login.registries.join(", ")
        );
    }
    found
}

/// Docker's credentials for `registry`, else none.
fn docker_credentials(registry: &str) -> Credentials {
    let path = docker_config_path();
    let config = path.as_ref().map_or_else(
        || "the docker config".to_string(),
        |p| p.display().to_string(),
    );
    if !path.is_some_and(|p| p.is_file()) {
        return Credentials {
            auth: RegistryAuth::Anonymous,
            described: format!(
                "no credentials (there is no {config}; `docker login {registry}` writes one)"
            ),
        };
    }
    let from = helper_for(registry).map_or_else(
        || config.clone(),
        |helper| format!("the credential helper {helper} (named in {config})"),
    );
    match docker_credential::get_credential(registry) {
        Ok(docker_credential::DockerCredential::UsernamePassword(user, password)) => Credentials {
            described: format!("user {user} from {from}"),
            auth: RegistryAuth::Basic(user, password),
        },
        // Docker keeps an OAuth refresh token there (`az acr login`, OIDC logins); a registry
        // wants it exchanged at its token service first, which oci-client does not do, and
        // sent as it is, it is refused. Saying so beats a 401 that blames the user's login.
        Ok(docker_credential::DockerCredential::IdentityToken(_)) => Credentials {
            auth: RegistryAuth::Anonymous,
            described: format!(
                "no credentials ({from} holds an identity token for {registry}, which this app cannot use; pass --registry-user NAME --registry-password-stdin with a password or access token instead)"
            ),
        },
        Err(
            docker_credential::CredentialRetrievalError::NoCredentialConfigured
            | docker_credential::CredentialRetrievalError::ConfigNotFound,
        ) => Credentials {
            auth: RegistryAuth::Anonymous,
            described: format!("no credentials (none for {registry} in {config})"),
        },
        Err(e) => Credentials {
            auth: RegistryAuth::Anonymous,
            described: format!("no credentials ({from} failed: {})", e.to_string().trim()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_goes_only_to_its_registry() {
        let login = |registries: &[&str]| Login {
            registries: registries.iter().map(|r| (*r).to_string()).collect(),
            user: "alice".into(),
            password: "s3cret".into(),
        };
        let logins = [login(&["registry.a:5000"])];
        let used = credentials("registry.a:5000", &logins);
        assert!(matches!(used.auth, RegistryAuth::Basic(ref u, _) if u == "alice"));
        // Another registry never sees it (docker's credentials, or none, instead).
        let other = credentials("registry.b", &logins);
        assert!(!matches!(other.auth, RegistryAuth::Basic(ref u, _) if u == "alice"));
        assert!(
            other.described.contains("--registry-host registry.b"),
            "{}",
            other.described
        );
        // A login for no registry goes nowhere; one for two goes to both.
        assert!(!matches!(
            credentials("registry.b", &[login(&[])]).auth,
            RegistryAuth::Basic(..)
        ));
        let both = [login(&["registry.a:5000", "REGISTRY.B"])];
        assert!(matches!(
            credentials("registry.b", &both).auth,
            RegistryAuth::Basic(..)
        ));
    }
}
