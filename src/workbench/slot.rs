//! The plugin slot: what is open (or being read, resolved, asked about, or failed), how it got
//! there, and the stages an open goes through. The workbench moves a plugin through them.

use std::sync::Arc;
use std::time::Instant;

use crate::open::{self, OpenError, Opened, PluginRef, Source, WatchedFile};
use crate::platform::job::Job;
use crate::runner::Session;
use crate::trust::{Decision, FileGrants, Review, Trust};

use super::watch;

/// Why an open is happening, which decides what it may replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// The user opened it: the file's options, function and input replace the current ones.
    Fresh,
    /// The app started with it: the saved options, function and input stay.
    Restore,
    /// Its file changed (or the user asked): everything but the plugin stays, and a plugin
    /// that fails to load leaves the previous version running.
    Reload { automatic: bool },
}

/// The open plugin: what it is, where from, and its session.
pub struct Ready {
    pub origin: PluginRef,
    pub session: Session,
    pub watched: Vec<WatchedFile>,
    /// Where the sandbox options came from.
    pub options_origin: OptionsOrigin,
    /// Why the last attempt to open something else failed (this plugin stayed open).
    pub open_error: Option<Arc<OpenError>>,
    /// What its file asked of the sandbox and what was decided (shared, so the window reads
    /// it every frame without copying it).
    pub grants: Option<Arc<FileGrants>>,
    /// The crate it was built from, when it sits in one's target folder (Build builds it).
    pub build_crate: Option<crate::build::Crate>,
}

/// A file whose grants need the user's consent, waiting for the answer. Nothing of it has been
/// resolved or granted yet.
pub struct Asking {
    pub source: Source,
    pub intent: Intent,
    pub(super) read: open::Read,
    /// The plugin that stays open if the user cancels.
    pub previous: Option<Box<Ready>>,
}

impl Asking {
    /// What the file asks for.
    pub fn review(&self) -> &Review {
        self.read
            .review()
            .expect("only files with a review are asked about")
    }
}

/// A plugin being read or resolved on a background thread: a file is never read on the
/// window's thread (however large or strange it is), nor are its modules or downloads.
pub struct Opening {
    pub source: Source,
    pub intent: Intent,
    pub(super) job: Job<Result<Stage, OpenError>>,
    /// The download, when pulling from a registry: its progress, and Stop.
    pub transfer: Option<Arc<crate::registry::Transfer>>,
    /// The plugin that stays open if this one fails.
    pub previous: Option<Box<Ready>>,
    /// What was decided of the file's grants, when it is being resolved.
    pub(super) decided: Option<Decided>,
}

/// What was decided of a file's grants, kept while it resolves.
#[derive(Clone, Debug)]
pub(super) struct Decided {
    pub(super) decision: Decision,
    pub(super) trust: Option<Trust>,
    pub(super) review: Option<Review>,
}

/// A module download redirected to another origin than its URL's: nothing was sent there, and
/// the user decides whether to follow it.
#[derive(Clone, Debug)]
pub struct RedirectQuestion {
    pub source: Source,
    pub(super) intent: Intent,
    /// The module's URL, as the file names it.
    pub url: String,
    /// Where the server sends it.
    pub to: String,
    /// `scheme://host[:port]` of `to`.
    pub origin: String,
    pub(super) decided: Option<Decided>,
}

/// How far a background open got.
pub(super) enum Stage {
    /// The file is read: what it asks of the sandbox is decided next, on the window's thread.
    Read(Box<open::Read>),
    /// Resolved and inspected: ready to install.
    Opened(Box<Opened>),
}

/// Where the plugin slot is.
pub enum PluginSlot {
    Empty,
    /// A file asks for grants; the user has not answered yet.
    Asking(Box<Asking>),
    Opening(Box<Opening>),
    Ready(Box<Ready>),
    Failed {
        source: Source,
        error: Arc<OpenError>,
    },
}

impl PluginSlot {
    /// Takes the open plugin out of the slot (from wherever it is kept), leaving it empty.
    pub(super) fn take_ready(&mut self) -> Option<Box<Ready>> {
        match std::mem::replace(self, Self::Empty) {
            Self::Ready(ready) => Some(ready),
            Self::Opening(opening) => {
                // Whatever replaces it, its download is no longer wanted.
                if let Some(transfer) = &opening.transfer {
                    transfer.cancel();
                }
                opening.previous
            }
            Self::Asking(asking) => asking.previous,
            Self::Empty | Self::Failed { .. } => None,
        }
    }
}

/// How hot reload learns of changes to the open plugin's files.
pub enum Watch {
    /// Hot reload is off, or the plugin has no files (a sample, a registry pull).
    Off,
    /// The OS reports changes.
    Events(watch::Watcher),
    /// The OS cannot (`why`): the files' stamps are compared every [`RELOAD_CHECK`].
    Polling { next: Instant, why: String },
}

/// Where the current sandbox options came from, as the sandbox panel says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionsOrigin {
    /// Restored with the app, or kept across a reload.
    Kept,
    /// What the user set for this plugin last time.
    Remembered,
    /// A plugin never opened before starts closed (WASI on only when it imports WASI).
    Defaults,
    /// The sample's own.
    Sample,
    /// The manifest's (WASI and fuel are not part of a manifest).
    Manifest,
    /// The session's or bundle's.
    Scenario,
}
