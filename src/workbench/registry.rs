//! The workbench's side of registries ([`Registries`]): the login and reference the window's
//! dialog gives, how pulls reach registries, and "Check for newer" (is the tag the open plugin
//! was pulled by still pointing at the same digest?) on a background thread.

use std::sync::Arc;

use crate::platform::job::{Job, Waker};
use crate::registry::{self, Login, Reference, RegistryError};

use super::Notice;

/// What "Check for newer" found, or that it is still asking.
pub enum NewerCheck {
    Checking {
        tag: Reference,
        job: Job<Result<String, RegistryError>>,
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

/// The workbench's side of registries: the logins given in the window (never saved), the
/// reference last typed, the app's own settings, and the last "Check for newer".
#[derive(Default)]
pub struct Registries {
    /// The reference last given to Open from registry, as typed (it fills the dialog again, so
    /// a reference that failed can be corrected).
    attempt: Option<String>,
    /// One login per registry.
    logins: Vec<Login>,
    /// How the app was told to reach registries (its flags) and where pulled content is kept,
    /// before the window's own choices.
    base: registry::Settings,
    newer: Option<NewerCheck>,
}

impl Registries {
    /// Reads `text` as a reference, remembering it as typed; `login`, if given, is kept for
    /// that reference's registry only.
    ///
    /// # Errors
    /// Why `text` is not a reference.
    pub fn attempt(
        &mut self,
        text: &str,
        login: Option<Login>,
    ) -> Result<Reference, registry::ReferenceError> {
        self.attempt = Some(text.trim().to_string());
        let reference: Reference = text.trim().parse()?;
        if let Some(mut login) = login {
            // Only ever sent to the registry it was typed for.
            login.registries = vec![reference.registry.clone()];
            self.logins.retain(|l| !l.is_for(&reference.registry));
            self.logins.push(login);
        }
        Ok(reference)
    }

    /// The reference last given to Open from registry, as typed.
    pub fn last_attempt(&self) -> Option<&str> {
        self.attempt.as_deref()
    }

    /// The user name of the login given in the window for `registry`, if any.
    pub fn login_user(&self, registry: &str) -> Option<&str> {
        self.logins
            .iter()
            .find(|l| l.is_for(registry))
            .map(|l| l.user.as_str())
    }

    /// Forgets the login given for `registry`.
    pub fn forget(&mut self, registry: &str) -> Notice {
        self.logins.retain(|l| !l.is_for(registry));
        Notice::LoginForgotten {
            registry: registry.to_string(),
        }
    }

    /// Where pulled content is kept.
    pub fn set_cache(&mut self, cache: registry::Cache) {
        self.base.cache = cache;
    }

    /// The app's own settings (its flags), before the window's.
    pub fn set_base(&mut self, settings: registry::Settings) {
        self.base = settings;
    }

    /// How pulls reach registries now: the app's settings with the window's logins and the
    /// plain-HTTP hosts `insecure` (the window's, saved with its state).
    pub fn settings(&self, insecure: &[String]) -> registry::Settings {
        let base = self.base.clone();
        let mut all_insecure = base.insecure.clone();
        all_insecure.extend(insecure.iter().cloned());
        all_insecure.sort();
        all_insecure.dedup();
        // The window's own first; the app's for registries the window has none for.
        let mut logins = self.logins.clone();
        for login in &base.logins {
            if !logins.iter().any(|l| l.registries == login.registries) {
                logins.push(login.clone());
            }
        }
        registry::Settings {
            insecure: all_insecure,
            logins,
            ..base
        }
    }

    /// Asks where `tag` points now, in the background.
    pub fn check_for_newer(&mut self, tag: Reference, settings: registry::Settings, wake: Waker) {
        let asked = tag.clone();
        let job = Job::spawn("check-for-newer", wake, move |_| {
            registry::resolve(&asked, &settings)
        });
        self.newer = Some(NewerCheck::Checking { tag, job });
    }

    /// Takes in a finished check, against `open`, the digest of the plugin open.
    pub fn poll(&mut self, open: String) -> Option<Notice> {
        let Some(NewerCheck::Checking { job, .. }) = &self.newer else {
            return None;
        };
        if job.is_running() {
            return None;
        }
        let Some(NewerCheck::Checking { tag, job }) = self.newer.take() else {
            return None;
        };
        let verdict = NewerVerdict {
            tag,
            open,
            latest: job.finish().ok()?.map_err(Arc::new),
            checked_at: crate::clock::now(),
        };
        self.newer = Some(NewerCheck::Done(verdict.clone()));
        Some(Notice::NewerChecked(Box::new(verdict)))
    }

    /// The last "Check for newer", or the one in progress.
    pub fn newer(&self) -> Option<&NewerCheck> {
        self.newer.as_ref()
    }

    /// Another plugin is open: what was found of the last one goes.
    pub fn forget_newer(&mut self) {
        self.newer = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(user: &str) -> Login {
        Login {
            user: user.to_string(),
            password: "pw".to_string(),
            registries: Vec::new(),
        }
    }

    #[test]
    fn a_login_is_kept_for_the_registry_it_was_typed_for_and_comes_first() {
        let mut registries = Registries::default();
        let mut from_flags = login("flags");
        from_flags.registries = vec!["a.example".to_string(), "b.example".to_string()];
        let mut other = login("other");
        other.registries = vec!["c.example".to_string()];
        registries.set_base(registry::Settings {
            logins: vec![from_flags, other],
            insecure: vec!["b.example".to_string()],
            ..registry::Settings::default()
        });
        let reference = registries
            .attempt(" oci://a.example/team/plugin:1 ", Some(login("ada")))
            .unwrap();
        assert_eq!(reference.registry, "a.example");
        assert_eq!(
            registries.last_attempt(),
            Some("oci://a.example/team/plugin:1")
        );
        assert_eq!(registries.login_user("a.example"), Some("ada"));
        assert_eq!(registries.login_user("b.example"), None);

        let settings = registries.settings(&["local:5000".to_string(), "b.example".to_string()]);
        assert_eq!(settings.insecure, ["b.example", "local:5000"]);
        let users: Vec<_> = settings.logins.iter().map(|l| l.user.as_str()).collect();
        assert_eq!(users, ["ada", "flags", "other"]);

        assert!(matches!(
            registries.forget("a.example"),
            Notice::LoginForgotten { registry } if registry == "a.example"
        ));
        assert_eq!(registries.login_user("a.example"), None);
    }

    #[test]
    fn a_reference_that_does_not_read_is_kept_as_typed() {
        let mut registries = Registries::default();
        assert!(registries.attempt("not a reference", None).is_err());
        assert_eq!(registries.last_attempt(), Some("not a reference"));
        assert!(registries.newer().is_none());
        assert!(registries.poll(String::new()).is_none());
    }
}
