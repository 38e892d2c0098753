//! Consent for files from others: a session, bundle or manifest can ask to open holes in the
//! sandbox (host directories, hosts, files outside its folder). Those asks are grants; the
//! user's own (typed in the window or given as flags) need nothing, but a file's need consent
//! unless the file is trusted. Nothing here knows of the window or the command line.
//!
//! - [`review`]: what a file asks for, normalized, sorted into grants and exemptions.
//! - [`store`]: the files trusted on this machine (saved by this app, or remembered).

pub mod review;
pub mod store;

pub use review::{Decision, FileKind, Grant, PathGrant, PathState, Request, Review};
pub use store::{Trust, TrustList, TrustStore};

/// What was decided about an opened file's grants, kept with the open plugin so the window can
/// mark what came from the file and what was withheld.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileGrants {
    pub review: Review,
    pub decision: Decision,
    /// Why it was not asked, when it was not.
    pub trust: Option<Trust>,
}

impl FileGrants {
    /// Whether the file was saved by this app here: only then may the user's stored secrets
    /// fill in the secrets it names.
    pub fn is_own(&self) -> bool {
        self.trust == Some(Trust::Saved)
    }

    /// The grants removed, when the file was opened without them.
    pub fn withheld(&self) -> &[Grant] {
        match self.decision {
            Decision::Allow => &[],
            Decision::WithoutGrants => &self.review.grants,
        }
    }
}
