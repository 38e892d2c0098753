//! A failed call's wasm backtrace as [`Frame`]s: wasmtime's frames (function index, name
//! section name, offset) with what the module's DWARF says about each (function, file, line,
//! column, inlined callers), names demangled without their hashes. Also the one line that tells
//! an author how to get source lines when the module has none.

use super::inspect::Inspection;
use super::report::Frame;

/// A deep backtrace keeps this many innermost frames…
pub const KEEP_INNER: usize = 100;
/// …and this many outermost.
pub const KEEP_OUTER: usize = 20;

/// The frames of `e`'s backtrace with the middle of a very deep one left out: the innermost
/// [`KEEP_INNER`] and outermost [`KEEP_OUTER`] stay.
pub(crate) fn frames_kept(e: &extism::Error) -> KeptFrames {
    let mut frames = frames(e);
    if frames.len() <= KEEP_INNER + KEEP_OUTER {
        return KeptFrames { frames, omitted: 0 };
    }
    let omitted = frames.len() - KEEP_INNER - KEEP_OUTER;
    frames.drain(KEEP_INNER..KEEP_INNER + omitted);
    KeptFrames { frames, omitted }
}

/// The frames kept of a deep backtrace, and how many were left out of its middle.
pub(crate) struct KeptFrames {
    pub frames: Vec<Frame>,
    pub omitted: usize,
}

/// The frames of the wasm backtrace wasmtime attached to `e`, innermost first; empty when it
/// has none (a load error, a plugin's own error return).
fn frames(e: &extism::Error) -> Vec<Frame> {
    let Some(backtrace) = e.downcast_ref::<wasmtime::WasmBacktrace>() else {
        return Vec::new();
    };
    let mut frames = Vec::new();
    for info in backtrace.frames() {
        let module = info.module().name().unwrap_or("main").to_string();
        let base = Frame {
            function: info.func_name().map(demangle),
            module_offset: info.module_offset(),
            module,
            func_index: info.func_index(),
            ..Frame::default()
        };
        let symbols = info.symbols();
        if symbols.is_empty() {
            frames.push(base);
            continue;
        }
        let last = symbols.len() - 1;
        for (i, symbol) in symbols.iter().enumerate() {
            // The outermost symbol is the function itself: the name section's name is the
            // fuller one (`debug_demo::apply_discount` where DWARF says `apply_discount`).
            // Inlined functions have only their DWARF name.
            let function = if i == last {
                base.function
                    .clone()
                    .or_else(|| symbol.name().map(demangle))
            } else {
                symbol.name().map(demangle)
            };
            frames.push(Frame {
                function,
                file: symbol.file().map(clean_path),
                line: symbol.line(),
                column: symbol.column(),
                inlined: i != last,
                ..base.clone()
            });
        }
    }
    frames
}

/// A function name as people write it: Rust (legacy and v0 mangling) without the hash,
/// C++ (Itanium) demangled, anything else as it is.
pub fn demangle(name: &str) -> String {
    if let Ok(symbol) = rustc_demangle::try_demangle(name) {
        // The alternate form leaves out the `::h0123…` hash.
        return format!("{symbol:#}");
    }
    if name.starts_with("_Z")
        && let Ok(symbol) = cpp_demangle::Symbol::new(name)
        && let Ok(text) = symbol.demangle(&cpp_demangle::DemangleOptions::default())
    {
        return text;
    }
    name.to_string()
}

/// `..` and `.` segments resolved, as compilers leave them in DWARF
/// (`/rustc/…/library/core/src/../../stdarch/…`). Paths with backslashes (built on Windows)
/// are left as they are.
fn clean_path(text: &str) -> String {
    if text.contains('\\') {
        return text.to_string();
    }
    let absolute = text.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// When no frame has a source line: one line saying why and how to get lines with the
/// toolchain that built the module (from its producers section).
pub fn line_hint(frames: &[Frame], inspection: &Inspection) -> Option<String> {
    if frames.is_empty() || frames.iter().any(|f| f.file.is_some()) {
        return None;
    }
    if inspection.has_debug_lines {
        return Some(
            "no source lines: the module has DWARF, but not for these frames (was it optimized after compiling, e.g. by wasm-opt without -g?)"
                .to_string(),
        );
    }
    let how = match Toolchain::of(inspection) {
        Toolchain::Rust => {
            "build with debug info and keep it: `debug = \"line-tables-only\"` and `strip = \"none\"` in the Cargo profile"
        }
        Toolchain::TinyGo => "build without `-no-debug` and do not strip the module",
        Toolchain::C => "compile with `-g` and do not strip the module (no `-s`, no wasm-strip)",
        Toolchain::AssemblyScript => "build with `asc --debug` (and `--sourceMap` for a map)",
        Toolchain::JavaScript => {
            "these frames are inside the JavaScript engine; the lines of your script are not in the module"
        }
        Toolchain::Unknown => "build with debug info (DWARF) and do not strip it",
    };
    Some(format!("no source lines: the module has no DWARF; {how}"))
}

/// The toolchains line hints know, read from a producers section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Toolchain {
    Rust,
    TinyGo,
    C,
    AssemblyScript,
    JavaScript,
    Unknown,
}

impl Toolchain {
    fn of(inspection: &Inspection) -> Self {
        let field = |name: &str| {
            inspection
                .producers
                .get(name)
                .map(|values| values.join(" ").to_ascii_lowercase())
                .unwrap_or_default()
        };
        let (language, tools) = (field("language"), field("processed-by"));
        // js-pdk's engine is Rust and C (its producers say so); its exports give it away.
        let js_pdk = inspection
            .exports
            .iter()
            .any(|e| e.name == "__invoke" || e.name.starts_with("__invokeHostFunc"));
        if js_pdk {
            Self::JavaScript
        } else if tools.contains("tinygo") || language.contains("go") {
            Self::TinyGo
        } else if tools.contains("javy")
            || tools.contains("extism-js")
            || language.contains("javascript")
        {
            Self::JavaScript
        } else if language.contains("rust") || tools.contains("rustc") {
            Self::Rust
        } else if tools.contains("assemblyscript") || language.contains("assemblyscript") {
            Self::AssemblyScript
        } else if tools.contains("clang") || language.contains("c11") || language.contains("c99") {
            Self::C
        } else {
            Self::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn rust_names_lose_their_hash() {
        assert_eq!(
            demangle("_ZN10debug_demo14apply_discount17ha9d7be6fcea63624E"),
            "debug_demo::apply_discount"
        );
        // v0 mangling.
        assert_eq!(
            demangle("_RNvCs1234_10debug_demo14apply_discount"),
            "debug_demo::apply_discount"
        );
    }

    #[test]
    fn cpp_names_are_demangled() {
        assert_eq!(demangle("_ZN5shape4areaEv"), "shape::area()");
        assert_eq!(demangle("_Z3addii"), "add(int, int)");
    }

    #[test]
    fn plain_names_stay() {
        for name in ["count_vowels", "run_test", "main.main", "_ZZZ not mangled"] {
            assert_eq!(demangle(name), name);
        }
    }

    #[test]
    fn paths_lose_dot_segments_but_windows_paths_stay() {
        let clean = clean_path;
        assert_eq!(
            clean("/rustc/abc/library/core/src/../../stdarch/crates/core_arch/src/wasm32/mod.rs"),
            "/rustc/abc/library/stdarch/crates/core_arch/src/wasm32/mod.rs"
        );
        assert_eq!(clean("src/./lib.rs"), "src/lib.rs");
        assert_eq!(clean("../x/../y.rs"), "../y.rs");
        assert_eq!(
            clean(r"D:\dylibso\go-sdk\plugins\host\main.go"),
            r"D:\dylibso\go-sdk\plugins\host\main.go"
        );
    }

    fn inspection(language: &str, tool: &str) -> Inspection {
        let mut producers = BTreeMap::new();
        producers.insert("language".to_string(), vec![language.to_string()]);
        producers.insert("processed-by".to_string(), vec![tool.to_string()]);
        Inspection {
            producers,
            ..Inspection::default()
        }
    }

    #[test]
    fn the_hint_names_the_toolchain() {
        let no_lines = [Frame::default()];
        let rust = line_hint(&no_lines, &inspection("Rust", "rustc 1.95.0")).unwrap();
        assert!(rust.contains("line-tables-only"), "{rust}");
        let go = line_hint(&no_lines, &inspection("Go", "TinyGo 0.33.0")).unwrap();
        assert!(go.contains("-no-debug"), "{go}");
        let c = line_hint(&no_lines, &inspection("C11", "clang 18")).unwrap();
        assert!(c.contains("-g"), "{c}");
        // Frames with lines need no hint; neither does an error without frames.
        let with_line = [Frame {
            file: Some("src/lib.rs".into()),
            ..Frame::default()
        }];
        assert_eq!(line_hint(&with_line, &inspection("Rust", "rustc")), None);
        assert_eq!(line_hint(&[], &inspection("Rust", "rustc")), None);
        // js-pdk's plugins say Rust and clang (their engine's); the hint is about JavaScript.
        let js = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/thirdparty/js-xtp-fruit.wasm"
        ))
        .unwrap();
        let js = Inspection::of("js-xtp-fruit.wasm", &js).unwrap();
        assert!(js.producers["language"].iter().any(|l| l.contains("Rust")));
        let hint = line_hint(&no_lines, &js).unwrap();
        assert!(hint.contains("JavaScript engine"), "{hint}");
        let mut dwarf = inspection("Rust", "rustc");
        dwarf.has_debug_lines = true;
        assert!(line_hint(&no_lines, &dwarf).unwrap().contains("wasm-opt"));
    }
}
