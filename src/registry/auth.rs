//! Which credentials a registry gets, and how to say which were tried. In order: the login
//! given on the command line or in the window, then docker's credentials for the registry
//! (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`: `auths`, or a credential helper
//! from `credHelpers`/`credsStore`), then none.

use std::path::PathBuf;

use oci_client::secrets::RegistryAuth;

/// A user name and password given for this run (never saved).
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
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
        .or_else(|| {
            std::env::var_os("HOME")
                .or_else(|| std::env::var_os("USERPROFILE"))
                .map(|home| PathBuf::from(home).join(".docker"))
        })
        .map(|dir| dir.join("config.json"))
}

/// The credential helper docker's config names for `registry`, if any.
fn helper_for(registry: &str) -> Option<String> {
    let bytes = std::fs::read(docker_config_path()?).ok()?;
    let config: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    config
        .get("credHelpers")
        .and_then(|h| h.get(registry))
        .or_else(|| config.get("credsStore"))
        .and_then(serde_json::Value::as_str)
        .map(|name| format!("docker-credential-{name}"))
}

/// The credentials to use for `registry`: `login` when given, else docker's, else none.
pub fn credentials(registry: &str, login: Option<&Login>) -> Credentials {
    if let Some(login) = login {
        return Credentials {
            auth: RegistryAuth::Basic(login.user.clone(), login.password.clone()),
            described: format!("user {} (given for this run)", login.user),
        };
    }
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
        Ok(docker_credential::DockerCredential::IdentityToken(token)) => Credentials {
            auth: RegistryAuth::Bearer(token),
            described: format!("a token from {from}"),
        },
        Err(
            docker_credential::CredentialRetrievalError::NoCredentialConfigured
            | docker_credential::CredentialRetrievalError::ConfigNotFound,
        ) => Credentials {
            auth: RegistryAuth::Anonymous,
            described: format!("no credentials (none for {registry} in {config})"),
        },
        Err(e) => {
            tracing::warn!("cannot read docker's credentials for {registry} from {from}: {e}");
            Credentials {
                auth: RegistryAuth::Anonymous,
                described: format!("no credentials ({from} failed: {})", e.to_string().trim()),
            }
        }
    }
}
