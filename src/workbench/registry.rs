//! The workbench's side of registries: opening a reference with the login and plain-HTTP choice
//! the window's dialog gives, Stop for a pull in progress, and "Check for newer" (is the tag the
//! open plugin was pulled by still pointing at the same digest?) on a background thread.

use std::sync::Arc;

use poll_promise::Promise;

use crate::registry::{self, Login, Reference, RegistryError};

use super::{Intent, Notice, PluginSlot, Source, Workbench};

/// What "Check for newer" found, or that it is still asking.
pub enum NewerCheck {
    Checking {
        tag: Reference,
        job: Promise<Result<String, RegistryError>>,
    },
    Done(NewerVerdict),
}

/// Where the open plugin's tag points now, compared with the digest open.
#[derive(Clone, Debug)]
pub struct NewerVerdict {
    /// The tag asked about (`oci://HOST/REPO:TAG`).
    pub tag: Reference,
    /// The digest of the plugin open.
    pub open: String,
    /// The digest the tag points to now, or why the registry could not say.
    pub latest: Result<String, Arc<RegistryError>>,
    /// Seconds since the Unix epoch.
    pub checked_at: u64,
}

impl NewerVerdict {
    /// Whether the tag moved (`None` when the registry could not be asked).
    pub fn moved(&self) -> Option<bool> {
        self.latest.as_ref().ok().map(|latest| *latest != self.open)
    }
}

impl Workbench {
    /// Opens `text` (an `oci://` reference) with this login (kept in memory only); `plain_http`
    /// says whether its host is reached over plain HTTP from now on (`None`: as before).
    pub(super) fn open_from_registry(
        &mut self,
        text: &str,
        login: Option<Login>,
        plain_http: Option<bool>,
    ) {
        self.registry_attempt = Some(text.trim().to_string());
        let reference: Reference = match text.trim().parse() {
            Ok(r) => r,
            Err(e) => return self.say(Notice::BadReference(Arc::new(e))),
        };
        if plain_http == Some(true)
            && !reference.is_loopback()
            && !self.state.insecure_registries.contains(&reference.registry)
        {
            self.state
                .insecure_registries
                .push(reference.registry.clone());
        }
        if plain_http == Some(false) {
            self.state
                .insecure_registries
                .retain(|h| *h != reference.registry && *h != reference.host());
        }
        if let Some(mut login) = login {
            // Only ever sent to the registry it was typed for.
            login.registries = vec![reference.registry.clone()];
            self.registry_logins
                .retain(|l| !l.is_for(&reference.registry));
            self.registry_logins.push(login);
        }
        self.open(Source::Registry(reference), Intent::Fresh);
    }

    /// The reference last given to Open from registry, as typed.
    pub fn registry_attempt(&self) -> Option<&str> {
        self.registry_attempt.as_deref()
    }

    /// The user name of the login given in the window for `registry`, if any.
    pub fn registry_login_user(&self, registry: &str) -> Option<&str> {
        self.registry_logins
            .iter()
            .find(|l| l.is_for(registry))
            .map(|l| l.user.as_str())
    }

    pub(super) fn forget_registry_login(&mut self, registry: &str) {
        self.registry_logins.retain(|l| !l.is_for(registry));
        self.say(Notice::LoginForgotten {
            registry: registry.to_string(),
        });
    }

    /// Keeps pulled registry content in `cache` instead of the user's cache directory.
    #[must_use]
    pub fn with_registry_cache(mut self, cache: registry::Cache) -> Self {
        self.registry_base.cache = cache;
        self
    }

    /// Reaches registries as `settings` say (the app's flags) before the window's own logins
    /// and plain-HTTP hosts.
    pub fn set_registry_settings(&mut self, settings: registry::Settings) {
        self.registry_base = settings;
    }

    /// How pulls made from the window reach registries now: the settings the app started with
    /// (its flags) with the window's plain-HTTP hosts and logins.
    pub fn registry_settings(&self) -> registry::Settings {
        let process = self.registry_base.clone();
        let mut insecure = process.insecure.clone();
        insecure.extend(self.state.insecure_registries.iter().cloned());
        insecure.sort();
        insecure.dedup();
        // The window's own first; the process's for registries the window has none for.
        let mut logins = self.registry_logins.clone();
        for login in &process.logins {
            if !logins.iter().any(|l| l.registries == login.registries) {
                logins.push(login.clone());
            }
        }
        registry::Settings {
            insecure,
            logins,
            ..process
        }
    }

    /// Stops a pull in progress (the previous plugin stays open).
    pub(super) fn cancel_open(&mut self) {
        if let PluginSlot::Opening(opening) = &self.plugin
            && let Some(transfer) = &opening.transfer
        {
            transfer.cancel();
        }
    }

    /// Asks the registry where the open plugin's tag points now.
    pub(super) fn check_for_newer(&mut self) {
        let Some(pin) = self
            .session()
            .and_then(|s| s.plugin().registry_pin().cloned())
        else {
            return self.say(Notice::NotPulled);
        };
        let Some(tag) = pin.tag_reference() else {
            return self.say(Notice::PulledByDigest);
        };
        let settings = self.registry_settings();
        let wake = std::sync::Arc::clone(&self.wake);
        let asked = tag.clone();
        let job = Promise::spawn_thread("check-for-newer", move || {
            let result = registry::resolve(&asked, &settings);
            wake();
            result
        });
        self.newer = Some(NewerCheck::Checking { tag, job });
    }

    pub(super) fn poll_newer(&mut self) {
        let Some(NewerCheck::Checking { job, .. }) = &self.newer else {
            return;
        };
        if job.ready().is_none() {
            return;
        }
        let Some(NewerCheck::Checking { tag, job }) = self.newer.take() else {
            return;
        };
        let open = self
            .session()
            .and_then(|s| s.plugin().registry_pin().map(|p| p.digest.clone()))
            .unwrap_or_default();
        let verdict = NewerVerdict {
            tag,
            open,
            latest: job.block_and_take().map_err(Arc::new),
            checked_at: crate::clock::now(),
        };
        self.say(Notice::NewerChecked(verdict.clone()));
        self.newer = Some(NewerCheck::Done(verdict));
    }

    /// Whether a plugin is being pulled from a registry (Stop stops it).
    pub fn is_pulling(&self) -> bool {
        matches!(&self.plugin, PluginSlot::Opening(o) if o.transfer.is_some())
    }

    /// The last "Check for newer", or the one in progress.
    pub fn newer(&self) -> Option<&NewerCheck> {
        self.newer.as_ref()
    }
}
