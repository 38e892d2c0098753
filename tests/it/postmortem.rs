//! Post-mortems end to end, through real worker processes: traps at the source line (our
//! debug-built sample, and plugins others built with `TinyGo` and C), demangled names, modules
//! without names or lines, memory figures read from the instance, coredumps, and the limit
//! finder, from the runner and from the command line.

use crate::common;
use crate::common::model::{said, settle};
use extism_playground::workbench::{Notice, notice};

use std::path::Path;

use crate::common::{
    assert_exit, assert_ok, call, fixture, flag, output, run_bin, run_json, sample, session,
    session_with, stderr, stdout_json, wasi_options,
};
use extism_playground::runner::coredump::Coredump;
use extism_playground::runner::limits;
use extism_playground::runner::session::Canceller;
use extism_playground::runner::{CallRequest, ErrorKind, SandboxOptions, Session};

const CHECKOUT_TRAP: &str =
    r#"{"items": [{"name": "tea", "cents": 350, "quantity": 2}], "discount_percent": 150}"#;
const DEMO_SOURCE: &str = "sample-plugins/debug-demo/src/lib.rs";

/// The line of `needle` in the debug-demo's source (1-based), so the test follows the file.
fn demo_line(needle: &str) -> u32 {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO_SOURCE)).unwrap();
    let index = source
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} is in {DEMO_SOURCE}"));
    u32::try_from(index + 1).unwrap()
}

#[test]
fn a_trap_in_a_debug_build_names_every_frame_at_its_source_line() {
    let r = call(
        &session("debug-demo", SandboxOptions::default()),
        "checkout",
        CHECKOUT_TRAP,
    );
    let error = r.error.expect("a discount over 100% traps");
    assert_eq!(error.kind, ErrorKind::Trap);
    assert_eq!(
        error.message,
        "wasm trap: wasm `unreachable` instruction executed"
    );
    let in_demo: Vec<_> = error
        .frames
        .iter()
        .filter(|f| f.file.as_deref() == Some(DEMO_SOURCE))
        .collect();
    let names: Vec<_> = in_demo.iter().map(|f| f.function_label()).collect();
    assert_eq!(
        names,
        [
            "debug_demo::reject_discount",
            "debug_demo::apply_discount",
            "inner",
            "checkout"
        ],
        "{:#?}",
        error.frames
    );
    // Each at the line of its own source, with a column and the instruction's offset.
    assert_eq!(
        in_demo[0].line,
        Some(demo_line("core::arch::wasm32::unreachable()"))
    );
    assert_eq!(
        in_demo[1].line,
        Some(demo_line("reject_discount(percent);"))
    );
    assert!(
        in_demo
            .iter()
            .all(|f| f.column.is_some() && f.module_offset.is_some())
    );
    // The innermost frame is the standard library's `unreachable`, inlined, with `..` resolved.
    let first = &error.frames[0];
    assert!(first.inlined);
    assert!(
        first
            .file
            .as_deref()
            .is_some_and(|f| f.starts_with("/rustc/") && !f.contains("..")),
        "{first:?}"
    );
    // Lines need no hint; the whole text has one line per frame.
    assert_eq!(error.hint, None);
    let text = error.with_backtrace();
    assert!(
        text.contains(&format!(
            "debug_demo::apply_discount at {DEMO_SOURCE}:{}",
            demo_line("reject_discount(percent);")
        )),
        "{text}"
    );
}

#[test]
fn a_panic_shows_the_standard_library_frames_and_then_the_plugin_line() {
    let r = call(
        &session("debug-demo", SandboxOptions::default()),
        "average",
        r#"{"items": []}"#,
    );
    let error = r.error.expect("an empty order divides by zero");
    assert_eq!(error.kind, ErrorKind::Trap);
    let culprit = error
        .frames
        .iter()
        .find(|f| f.file.as_deref() == Some(DEMO_SOURCE))
        .expect("a frame in the plugin's own source");
    assert_eq!(culprit.function.as_deref(), Some("debug_demo::mean_cents"));
    assert_eq!(culprit.line, Some(demo_line("subtotal(items) / count")));
    assert!(
        error
            .frames
            .iter()
            .any(|f| f.function.as_deref() == Some("core::panicking::panic_fmt")),
        "{:#?}",
        error.frames
    );
}

#[test]
fn a_module_without_dwarf_shows_demangled_names_and_how_to_get_lines() {
    let r = call(&session("chaos", SandboxOptions::default()), "panic", "");
    let error = r.error.expect("panic traps");
    assert!(!error.frames.is_empty());
    assert!(
        error
            .frames
            .iter()
            .all(|f| f.file.is_none() && f.line.is_none())
    );
    let names: Vec<_> = error
        .frames
        .iter()
        .map(extism_playground::runner::report::Frame::function_label)
        .collect();
    assert!(
        names.iter().any(|n| n == "core::panicking::panic_fmt"),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .all(|n| !n.contains("17h") && !n.starts_with("_ZN")),
        "hashes and mangling are gone: {names:?}"
    );
    let hint = error.hint.expect("a hint for a module without lines");
    assert!(hint.contains("line-tables-only"), "{hint}");
}

#[test]
fn a_tinygo_plugin_built_elsewhere_names_its_go_source() {
    // go-sdk's host plugin, built with TinyGo on Windows: its DWARF names a D:\ path. The host
    // function it imports fails here, so the call stops inside `run_test`.
    let s = session_with(
        &fixture("go-host-mult"),
        &[flag("mult(num,num)->num=fail:no multiplier")],
        wasi_options(),
    );
    let error = call(&s, "run_test", "")
        .error
        .expect("the host function fails");
    assert_eq!(error.kind, ErrorKind::HostFunction);
    let frame = &error.frames[0];
    assert_eq!(frame.function.as_deref(), Some("run_test"));
    assert_eq!(
        frame.file.as_deref(),
        Some(r"D:\dylibso\go-sdk\plugins\host\main.go")
    );
    assert_eq!((frame.line, frame.column), (Some(15), Some(11)));
}

#[test]
fn a_runaway_recursion_keeps_the_ends_of_its_backtrace() {
    let r = call(
        &session("chaos", SandboxOptions::default()),
        "stack_overflow",
        "",
    );
    let error = r.error.expect("the stack overflows");
    assert!(
        error.frames_omitted > 0,
        "thousands of frames, most left out"
    );
    assert!(error.frames.len() <= 120);
    assert!(error.with_backtrace().contains("frames left out"));
    // The outermost frame, the export, is kept.
    assert_eq!(
        error.frames.last().and_then(|f| f.function.as_deref()),
        Some("stack_overflow")
    );
}

#[test]
fn a_c_plugin_without_a_name_section_shows_function_indices() {
    // c-pdk's count_vowels: no name section, and DWARF that does not cover the frame.
    let s = session_with(
        &fixture("c-count-vowels-hostfn"),
        &[flag("hello_world=fail:host down")],
        wasi_options(),
    );
    let error = call(&s, "count_vowels", "hello")
        .error
        .expect("the host fails");
    let frame = &error.frames[0];
    assert_eq!(frame.function, None);
    assert_eq!(
        frame.function_label(),
        format!("func[{}]", frame.func_index)
    );
    assert!(frame.module_offset.is_some());
    let hint = error.hint.expect("no frame has a line");
    assert!(
        hint.contains("has DWARF, but not for these frames"),
        "{hint}"
    );
}

#[test]
fn memory_figures_come_from_the_instance() {
    let s = session("chaos", SandboxOptions::default());
    let small = call(&s, "alloc", "1");
    assert_ok(&small);
    let m1 = small.memory.expect("chaos has a memory of its own");
    let big = call(&s, "alloc", "8");
    assert_ok(&big);
    let m2 = big.memory.unwrap();
    // The warm instance starts where the last call left it, and 8 MiB is 128 pages more.
    assert_eq!(m2.initial_pages, m1.final_pages);
    assert!(
        m2.peak_pages >= m2.initial_pages + 128 - 16,
        "{m1:?} then {m2:?}"
    );
    assert_eq!(m2.peak_pages, m2.final_pages, "wasm memories only grow");
    // A call that allocates nothing new leaves it as it was.
    let again = call(&s, "alloc", "1").memory.unwrap();
    assert_eq!(again.initial_pages, again.final_pages);
}

#[test]
fn a_trap_brings_back_its_coredump_when_asked() {
    let s = session("debug-demo", SandboxOptions::default());
    let request = |coredump| CallRequest {
        function: "checkout".into(),
        input: CHECKOUT_TRAP.as_bytes().to_vec().into(),
        coredump,
        ..CallRequest::default()
    };
    let r = s.call_blocking(request(true));
    assert_eq!(r.error_kind(), Some(ErrorKind::Trap));
    assert!(r.output.is_empty(), "the coredump is not taken for output");
    let dump = Coredump::parse(r.coredump.as_ref().expect("a coredump")).unwrap();
    assert_eq!(dump.process, "extism");
    assert!(dump.frames.len() >= 3, "{:?}", dump.frames);
    let main = dump.trapped_instance().expect("the plugin's instance");
    assert!(main.module.contains("debug_demo"), "{}", main.module);
    let pages = r.memory.unwrap().final_pages;
    assert_eq!(main.memories[0].pages, pages);
    // The order's item name was parsed into the plugin's memory.
    assert!(
        main.memories[0].bytes.windows(3).any(|w| w == b"tea"),
        "the memory holds the input"
    );
    assert!(!main.globals.is_empty());
    // Not asked for, none comes back.
    assert!(s.call_blocking(request(false)).coredump.is_none());
    // The file extism writes it to is the worker's own, in a folder made for it that only its
    // owner may enter (this session's worker is alive, so at least its folder is there).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mut seen = 0;
        for entry in std::fs::read_dir(std::env::temp_dir()).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !(name.starts_with("extism-playground-worker-")
                && name.ends_with(".extism-playground-tmp"))
            {
                continue;
            }
            // Another test's worker may end (and take its folder) meanwhile.
            let (Ok(folder), Ok(file)) = (
                std::fs::symlink_metadata(entry.path()),
                std::fs::symlink_metadata(entry.path().join("plugin.coredump")),
            ) else {
                continue;
            };
            assert!(folder.is_dir() && file.is_file(), "{name}");
            assert_eq!(folder.permissions().mode() & 0o777, 0o700, "{name}");
            assert_eq!(file.permissions().mode() & 0o777, 0o600, "{name}");
            seen += 1;
        }
        assert!(seen > 0, "this session's worker has its folder");
    }
}

fn find(s: &Session, function: &str, input: &str) -> limits::Found {
    let request = CallRequest {
        function: function.into(),
        input: input.as_bytes().to_vec().into(),
        ..CallRequest::default()
    };
    let mut probes = Vec::new();
    let found = limits::find(s, &request, &Canceller::default(), &mut |p| probes.push(p))
        .expect("limits found");
    assert_eq!(u32::try_from(probes.len()).unwrap(), found.probes);
    found
}

#[test]
fn the_limit_finder_finds_the_smallest_memory_and_fuel() {
    let s = session("chaos", SandboxOptions::default());
    let found = find(&s, "alloc", "2");
    let pages = found
        .limits
        .memory_pages
        .expect("a memory limit keeps the outcome");
    let fuel = found.limits.fuel.expect("a fuel limit keeps the outcome");
    assert!(found.limits.timeout_ms >= 10);
    // The session searched on its own worker: its options are untouched.
    assert_eq!(s.options().memory_max_pages, None);
    let with = |memory_max_pages, fuel_limit| {
        session(
            "chaos",
            SandboxOptions {
                memory_max_pages,
                fuel_limit,
                ..SandboxOptions::default()
            },
        )
    };
    assert_eq!(
        output(&call(&with(Some(pages), None), "alloc", "2")),
        "allocated 2 MiB"
    );
    assert_eq!(
        call(&with(Some(pages - 1), None), "alloc", "2").error_kind(),
        Some(ErrorKind::OutOfMemory)
    );
    assert_ok(&call(&with(None, Some(fuel)), "alloc", "2"));
    assert_eq!(
        call(&with(None, Some(fuel - 1)), "alloc", "2").error_kind(),
        Some(ErrorKind::OutOfFuel)
    );
    // The snippet carries the margin.
    let snippet: serde_json::Value = serde_json::from_str(&found.manifest_snippet()).unwrap();
    assert!(snippet["memory"]["max_pages"].as_u64().unwrap() > u64::from(pages));
}

#[test]
fn a_stopped_search_says_so() {
    let s = session("chaos", SandboxOptions::default());
    let stop = Canceller::default();
    stop.cancel();
    let request = CallRequest {
        function: "alloc".into(),
        input: b"1".to_vec().into(),
        ..CallRequest::default()
    };
    assert!(matches!(
        limits::find(&s, &request, &stop, &mut |_| {}),
        Err(limits::LimitError::Stopped)
    ));
    // A call that never finishes has no outcome to keep.
    let spin = session(
        "chaos",
        SandboxOptions {
            timeout_ms: Some(50),
            ..SandboxOptions::default()
        },
    );
    let request = CallRequest {
        function: "spin".into(),
        ..CallRequest::default()
    };
    assert!(matches!(
        limits::find(&spin, &request, &Canceller::default(), &mut |_| {}),
        Err(limits::LimitError::NoBaseline(_))
    ));
}

#[test]
fn cli_json_carries_frames_memory_and_limits() {
    let demo = sample("debug-demo");
    let json = run_json(
        &[
            "call",
            demo.to_str().unwrap(),
            "checkout",
            "-i",
            CHECKOUT_TRAP,
            "--json",
        ],
        1,
    );
    let frames = json["error"]["frames"].as_array().unwrap();
    let discount = frames
        .iter()
        .find(|f| f["function"] == "debug_demo::apply_discount")
        .expect("the frame of apply_discount");
    assert_eq!(discount["file"], DEMO_SOURCE);
    assert_eq!(discount["line"], demo_line("reject_discount(percent);"));
    for key in ["function", "file", "line", "column", "module_offset"] {
        assert!(discount.get(key).is_some(), "{key} is present");
    }
    assert!(
        json["memory"]["peak_pages"].as_u64().unwrap()
            >= json["memory"]["initial_pages"].as_u64().unwrap()
    );

    // A frame without a line has nulls, not missing keys.
    let chaos = sample("chaos");
    let out = run_bin(&["call", chaos.to_str().unwrap(), "trap", "--json"], b"");
    let json = stdout_json(&out);
    let frame = &json["error"]["frames"][0];
    assert!(frame["file"].is_null() && frame["line"].is_null() && frame.get("line").is_some());
    assert!(json["error"]["hint"].as_str().unwrap().contains("debug"));

    // --find-limits adds the minimums, which hold: with them the call succeeds, one page less
    // it fails.
    let json = run_json(
        &[
            "call",
            chaos.to_str().unwrap(),
            "alloc",
            "-i",
            "1",
            "--json",
            "--find-limits",
        ],
        0,
    );
    let pages = json["limits"]["memory_pages"].as_u64().unwrap();
    assert!(json["limits"]["fuel"].as_u64().unwrap() > 0);
    assert!(json["limits"]["timeout_ms"].as_u64().unwrap() > 0);
    let with_max = |pages: u64| {
        run_bin(
            &[
                "call",
                chaos.to_str().unwrap(),
                "alloc",
                "-i",
                "1",
                "--memory-max",
                &pages.to_string(),
            ],
            b"",
        )
    };
    assert!(with_max(pages).status.success());
    let short = with_max(pages - 1);
    assert_exit(&short, 1);
    assert!(
        stderr(&short).contains("out_of_memory"),
        "{}",
        stderr(&short)
    );
}

#[test]
fn cli_text_prints_file_and_line_per_frame_and_writes_the_coredump() {
    let demo = sample("debug-demo");
    let dir = tempfile::tempdir().unwrap();
    let core = dir.path().join("checkout.core");
    let out = run_bin(
        &[
            "call",
            demo.to_str().unwrap(),
            "checkout",
            "-i",
            CHECKOUT_TRAP,
            "--coredump",
            core.to_str().unwrap(),
        ],
        b"",
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "debug_demo::reject_discount at {DEMO_SOURCE}:{}",
            demo_line("core::arch::wasm32::unreachable()")
        )),
        "{err}"
    );
    assert!(err.contains("may hold secrets"), "{err}");
    let dump = Coredump::parse(&std::fs::read(&core).unwrap()).unwrap();
    assert!(!dump.frames.is_empty());
    // A call that does not trap writes none, and says so.
    let ok_core = dir.path().join("none.core");
    let out = run_bin(
        &[
            "call",
            demo.to_str().unwrap(),
            "checkout",
            "-i",
            r#"{"items": [], "discount_percent": 10}"#,
            "--coredump",
            ok_core.to_str().unwrap(),
        ],
        b"",
    );
    assert_exit(&out, 0);
    assert!(!ok_core.exists());
    assert!(stderr(&out).contains("did not trap"));
}

#[test]
fn a_bundle_carries_the_coredump_only_when_asked() {
    let demo = sample("debug-demo");
    let dir = tempfile::tempdir().unwrap();
    let save = |name: &str, extra: &[&str]| {
        let path = dir.path().join(name);
        let mut args = vec![
            "call",
            demo.to_str().unwrap(),
            "checkout",
            "-i",
            CHECKOUT_TRAP,
            "--save-bundle",
            path.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = run_bin(&args, b"");
        assert_exit(&out, 1);
        (path, stderr(&out))
    };
    let (plain, _) = save("plain.bundle.json", &[]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plain).unwrap()).unwrap();
    assert!(
        json.get("coredump").is_none(),
        "not without --bundle-coredump"
    );

    let (with, err) = save("with.bundle.json", &["--bundle-coredump"]);
    assert!(err.contains("with the trap's coredump"), "{err}");
    let bundle =
        extism_playground::bundle::Bundle::parse(&std::fs::read(&with).unwrap(), "with").unwrap();
    let bytes = bundle.coredump_bytes().unwrap().expect("a coredump");
    let dump = Coredump::parse(&bytes).unwrap();
    assert!(dump.trapped_instance().is_some());

    // Opened in the workbench, the bundle's coredump is there to show.
    let mut wb = extism_playground::workbench::Workbench::new(
        extism_playground::workbench::WorkbenchState::default(),
        common::worker(),
        std::sync::Arc::new(|| {}),
    )
    .with_trust_store(common::trust_store());
    wb.apply(extism_playground::workbench::Command::Open(
        extism_playground::workbench::Source::Path(with),
    ));
    settle(&mut wb);
    let started = std::time::Instant::now();
    while wb.session().is_none() && wb.asking().is_none() {
        assert!(started.elapsed().as_secs() < 30, "{}", said(&wb));
        wb.poll();
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert_eq!(wb.coredump().map(|d| d.len()), Some(bytes.len()));
    assert!(
        matches!(
            wb.status(),
            Some(Notice::Opened(notice::Opened::Scenario {
                coredump: true,
                ..
            }))
        ),
        "{}",
        said(&wb)
    );
}

#[test]
fn a_window_bundle_embeds_the_coredump_only_when_the_user_turned_it_on() {
    use extism_playground::workbench::{Command, Source, Workbench, WorkbenchState};
    let mut wb = Workbench::new(
        WorkbenchState::default(),
        common::worker(),
        std::sync::Arc::new(|| {}),
    )
    .with_trust_store(common::trust_store());
    wb.apply(Command::Open(Source::sample("debug-demo").unwrap()));
    settle(&mut wb);
    wb.apply(Command::Run);
    let started = std::time::Instant::now();
    while wb.is_running() {
        assert!(started.elapsed().as_secs() < 30);
        wb.poll();
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert!(wb.coredump().is_some(), "the trap's coredump came back");
    let dir = tempfile::tempdir().unwrap();
    // Save coredump… writes it as it came.
    let saved = dir.path().join("checkout.coredump");
    wb.apply(Command::SaveCoredump(saved.clone()));
    assert_eq!(
        std::fs::read(&saved).unwrap(),
        wb.coredump().unwrap().as_slice()
    );
    assert!(
        matches!(wb.status(), Some(Notice::CoredumpSaved { bytes, .. }) if *bytes == wb.coredump().unwrap().len()),
        "{}",
        said(&wb)
    );
    let off = dir.path().join("off.bundle.json");
    wb.apply(Command::SaveSession {
        path: off.clone(),
        embed: true,
    });
    let text = std::fs::read_to_string(&off).unwrap();
    assert!(!text.contains("\"coredump\""));
    wb.apply(Command::SetBundleCoredump(true));
    let on = dir.path().join("on.bundle.json");
    wb.apply(Command::SaveSession {
        path: on.clone(),
        embed: true,
    });
    let bundle =
        extism_playground::bundle::Bundle::parse(&std::fs::read(&on).unwrap(), "on").unwrap();
    assert_eq!(
        bundle.coredump_bytes().unwrap().as_deref(),
        wb.coredump().map(|d| d.as_slice())
    );
    assert!(
        matches!(
            wb.status(),
            Some(Notice::SessionSaved {
                with_coredump: true,
                ..
            })
        ),
        "{}",
        said(&wb)
    );
}
