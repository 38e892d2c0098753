//! What the workbench writes to files: the last output, a trap's coredump, sessions and
//! bundles, the Extism manifest, a run added to a suite. Each is a function of what it needs
//! and says what happened as a [`Notice`]; a failure says what failed, and nothing in the
//! workbench is lost by it.

use std::path::Path;
use std::sync::Arc;

use crate::bundle::{self, Bundle, BundleError, ExpectedOutcome, Scenario};
use crate::platform::files;
use crate::runner::host::HostFnDef;
use crate::runner::{SandboxOptions, Session};
use crate::trust::TrustStore;

use super::notice::{Notice, TestAdded};
use super::runs::RunSummary;
use super::view::RunView;

/// Saves the last run's whole output to `path`.
pub fn save_output(last: Option<&RunView>, path: &Path) -> Notice {
    let Some(last) = last else {
        return Notice::NoOutputYet;
    };
    match files::write_atomically(path, &last.report.output) {
        Ok(()) => Notice::OutputSaved {
            bytes: last.report.output.len(),
            path: path.to_path_buf(),
        },
        Err(e) => Notice::OutputNotSaved {
            path: path.to_path_buf(),
            error: Arc::new(e),
        },
    }
}

/// Writes a trap's coredump to `path`, readable by its owner only (it holds the plugin's
/// memory).
pub fn save_coredump(dump: Option<&Arc<Vec<u8>>>, path: &Path) -> Notice {
    let Some(dump) = dump else {
        return Notice::NoCoredump;
    };
    match files::write_private(path, dump) {
        Ok(()) => Notice::CoredumpSaved {
            bytes: dump.len(),
            path: path.to_path_buf(),
        },
        Err(e) => Notice::CoredumpNotSaved {
            path: path.to_path_buf(),
            error: Arc::new(e),
        },
    }
}

/// What a session or bundle is saved with.
pub struct Save<'a> {
    /// What the workbench holds (`None`: no plugin is open).
    pub scenario: Option<Scenario>,
    /// A bundle (the plugin embedded) rather than a session.
    pub embed: bool,
    /// Whether secret values go in.
    pub secrets: bool,
    /// The trap's coredump a bundle carries, when it carries one.
    pub coredump: Option<&'a Arc<Vec<u8>>>,
}

/// Saves a session (the plugin by path) or a self-contained bundle to `path`, recording it as
/// a file this app wrote.
///
/// # Errors
/// Why it could not be written (or that no plugin is open).
pub fn save_session(save: Save<'_>, path: &Path, trust: &TrustStore) -> Result<(), BundleError> {
    let Some(scenario) = save.scenario else {
        return Err(BundleError::Invalid {
            name: path.display().to_string(),
            detail: "no plugin is open; open one, then save".to_string(),
        });
    };
    let mut file = Bundle::new(&scenario, save.embed, save.secrets);
    if save.embed
        && let Some(dump) = save.coredump
    {
        file = file.with_coredump(dump);
    }
    let bytes = bundle::save(path, file)?;
    record_saved(trust, path, &bytes);
    Ok(())
}

/// Writes the plugin and `options` as a plain Extism manifest.
pub fn export_manifest(
    session: Option<&Session>,
    options: &SandboxOptions,
    path: &Path,
    trust: &TrustStore,
) -> Notice {
    let Some(session) = session else {
        return Notice::NoPluginToExport;
    };
    let manifest = session.plugin().to_manifest(options, false);
    let json = serde_json::to_string_pretty(&manifest).expect("manifests serialize");
    match files::write_atomically(path, json.as_bytes()) {
        Ok(()) => {
            record_saved(trust, path, json.as_bytes());
            Notice::ManifestExported(path.to_path_buf())
        }
        Err(e) => Notice::ManifestNotExported {
            path: path.to_path_buf(),
            error: Arc::new(e),
        },
    }
}

/// Records a file this app wrote, so opening it later asks nothing. A failure to record only
/// means the user will be asked; it is said in the log, not in the way.
pub fn record_saved(trust: &TrustStore, path: &Path, bytes: &[u8]) {
    let Some(review) = crate::open::saved_review(path, bytes) else {
        return tracing::warn!("{} cannot be reviewed to be trusted", path.display());
    };
    if let Err(e) = trust.record_saved(&review) {
        tracing::warn!("{e}");
    }
}

/// The last run and what a suite test of it is made of.
pub struct RunForSuite<'a> {
    pub last: &'a RunView,
    /// The last run as the history keeps it (what it was given, whatever the editor holds
    /// now).
    pub run: &'a RunSummary,
    /// The module file the suite names.
    pub wasm: &'a Path,
    pub options: &'a SandboxOptions,
    /// The user's definitions the plugin is linked with.
    pub host_functions: &'a [HostFnDef],
}

/// Appends the last run to the suite file at `path` (a new file starts with a `[plugin]`
/// table for the plugin and its options) as a one-step test expecting what the run did.
pub fn add_run_to_suite(run: &RunForSuite<'_>, path: &Path, trust: &TrustStore) -> Notice {
    let RunForSuite {
        last,
        run,
        wasm,
        options,
        host_functions,
    } = *run;
    let expected = ExpectedOutcome::of(&last.report);
    let name = format!("{} {}", last.report.function, run.number);
    let test = crate::suite::edit::NewTest {
        name: &name,
        function: &last.report.function,
        input: &run.input,
        expected: &expected,
    };
    let suite = crate::suite::edit::SuitePlugin {
        wasm,
        options,
        host_functions,
        kv: &run.kv_before,
    };
    match crate::suite::edit::append_test(path, &suite, &test) {
        Ok(added) => {
            // A suite this app created, or one already trusted, stays trusted with the test
            // added; one from someone else is not trusted for having a test added to it.
            let trusted_before = added.before.as_deref().is_none_or(|before| {
                crate::suite::file::review_text(path, before)
                    .is_ok_and(|r| !r.needs_consent() || trust.trust(&r).is_some())
            });
            if trusted_before
                && let Ok(review) = crate::suite::file::review_text(path, &added.text)
                && let Err(e) = trust.record_saved(&review)
            {
                tracing::warn!("{e}");
            }
            Notice::TestAdded(TestAdded {
                name: added.name,
                suite: path.to_path_buf(),
                warm: !last.report.new_instance,
                written: added.written,
                notes: added.notes,
            })
        }
        Err(e) => Notice::TestNotAdded(Arc::new(e)),
    }
}
