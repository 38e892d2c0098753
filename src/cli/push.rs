//! `push`: a module published to an OCI registry as a CNCF Wasm artifact.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::runner::Inspection;

use super::args::PushArgs;
use super::{key_value, usage_error};

/// `push`: publishes a module as a CNCF Wasm artifact and prints the reference pinned to the
/// digest it got (stdout), for scripts to record.
pub(super) fn push(args: &PushArgs) -> ExitCode {
    match push_module(args) {
        Ok(pushed) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&pushed).expect("push results serialize")
                );
            } else {
                eprintln!(
                    "pushed {} ({} bytes)\n  digest: {}\n  layer:  {}",
                    args.wasm.display(),
                    pushed.size,
                    pushed.digest,
                    pushed.layer
                );
                println!("{}", pushed.reference);
            }
            ExitCode::SUCCESS
        }
        Err(e) => usage_error(&e),
    }
}

pub(super) fn push_module(args: &PushArgs) -> anyhow::Result<crate::registry::Pushed> {
    let reference: crate::registry::Reference = args.reference.parse()?;
    if reference.tag.is_none() {
        bail!(
            "{} names no tag to publish under; add one, e.g. {}:1.0",
            args.reference,
            args.reference.split('@').next().unwrap_or(&args.reference)
        );
    }
    let bytes = crate::platform::files::read(&args.wasm, crate::platform::files::FileKind::Plugin)?;
    let name = args.wasm.display().to_string();
    let inspection = Inspection::of(&name, &bytes).with_context(|| {
        format!("{name} is not a plugin to push; push a .wasm module (build the plugin first)")
    })?;
    let os = if inspection.imports_wasi() {
        crate::registry::ModuleOs::Wasip1
    } else {
        crate::registry::ModuleOs::Wasm
    };
    let mut annotations = BTreeMap::new();
    for kv in &args.annotations {
        let (k, v) = key_value(kv, "--annotation")?;
        annotations.insert(k, v);
    }
    let settings = args.registry.settings(Some(&reference))?;
    Ok(crate::registry::push(
        &bytes,
        os,
        &reference,
        &settings,
        annotations,
    )?)
}
