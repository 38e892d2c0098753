//! `inspect`: what a module exports and imports, and how it links here.

use crate::open::{self, Source};
use crate::runner::inspect::Linkage;
use crate::runner::{HostRegistry, Inspection, LoadedPlugin};
use crate::trust::{Decision, Review};

use super::args::InspectArgs;
use super::plugin::decide;
use super::reference_of;

pub(super) fn inspect(args: &InspectArgs) -> anyhow::Result<()> {
    let registry = args.registry.settings(reference_of(&args.wasm).as_ref())?;
    let plugin = match Source::from_arg(&args.wasm)? {
        Source::Registry(reference) => {
            let pulled = crate::registry::pull(
                &reference,
                &registry,
                &crate::registry::Transfer::default(),
            )?;
            if let Some(note) = &pulled.note {
                eprintln!("warning: {note}");
            }
            LoadedPlugin::from_pulled(pulled)?
        }
        source => {
            // Inspecting needs no path or host a file grants, only what it reads and fetches.
            let read = open::read(&source)?;
            let needs = read.review().is_some_and(Review::reads_or_fetches);
            let opened = if needs {
                decide(read, &args.consent, &registry)?
            } else {
                read.resolve(Decision::WithoutGrants, None, &registry)?
            };
            opened.plugin
        }
    };
    let inspection = Inspection::of(&plugin.display_name, &plugin.main().bytes)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&inspection)?);
        return Ok(());
    }
    print!(
        "{}",
        render_inspection(
            &plugin.display_name,
            &inspection,
            &plugin.linked_module_names(),
            &HostRegistry::builtin(),
        )
    );
    Ok(())
}

/// The text form of `inspect`: imports are checked against `host` with WASI on (the problems
/// listed are those no flag fixes), and what cannot be provided is listed at the end.
pub fn render_inspection(
    name: &str,
    i: &Inspection,
    linked: &[String],
    host: &HostRegistry,
) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "{name}: {} bytes, sha256 {}", i.size_bytes, i.sha256);
    if let Some(toolchain) = i.toolchain_summary() {
        let _ = writeln!(s, "toolchain: {toolchain}");
    }
    for m in &i.memories {
        let max = m
            .max_pages
            .map_or_else(|| "no max".to_string(), |p| format!("max {p} pages"));
        let _ = writeln!(
            s,
            "memory: {} pages initial ({} KiB), {max}{}",
            m.initial_pages,
            m.initial_pages * 64,
            if m.imported { ", imported" } else { "" }
        );
    }
    let _ = writeln!(
        s,
        "debug info: {}",
        if i.has_debug_lines {
            "DWARF line tables (a trap's frames show file and line)"
        } else {
            "none (a trap's frames show function names, not source lines)"
        }
    );
    let _ = writeln!(
        s,
        "WASI: {}",
        if i.needs_wasi {
            "needed (call with --wasi)"
        } else {
            "not needed"
        }
    );
    let _ = writeln!(
        s,
        "\nexports (* = plugin function, + = callable, added by the toolchain):"
    );
    let entries = i.entry_points();
    let mut exports: Vec<_> = i.exports.iter().collect();
    exports.sort_by_key(|e| (!entries.contains(&e.name.as_str()), !e.callable, &e.name));
    for e in exports {
        let sig = e
            .signature
            .as_ref()
            .map_or_else(|| e.kind.as_str().to_string(), ToString::to_string);
        let mark = if entries.contains(&e.name.as_str()) {
            "*"
        } else if e.callable {
            "+"
        } else {
            " "
        };
        let _ = writeln!(s, "  {mark} {:<28} {sig}", e.name);
    }
    let _ = writeln!(s, "\nimports:");
    if i.imports.is_empty() {
        let _ = writeln!(s, "  (none)");
    }
    for (module, imports) in i.imports_by_module() {
        let _ = writeln!(s, "  {module}");
        for import in imports {
            let sig = import
                .signature
                .as_ref()
                .map_or_else(|| import.kind.as_str().to_string(), ToString::to_string);
            let linkage = Linkage {
                wasi: true,
                linked_modules: linked,
                host,
            };
            let problem = Inspection::import_problem(import, &linkage)
                .map_or_else(String::new, |p| format!("  ✗ {p}"));
            let _ = writeln!(s, "    {:<28} {sig}{problem}", import.name);
        }
    }
    let unsatisfied = i.unsatisfied_imports(&Linkage {
        wasi: i.needs_wasi,
        linked_modules: linked,
        host,
    });
    if !unsatisfied.is_empty() {
        let _ = writeln!(s, "\nthis host cannot satisfy:");
        for u in unsatisfied {
            let _ = writeln!(s, "  {u}");
        }
    }
    s
}
