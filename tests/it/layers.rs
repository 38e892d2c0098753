//! The layers ARCHITECTURE.md lists are the layers the code has: every path to another of
//! `src`'s top-level modules (a `use` line or a path inside code, `crate::x` or `super::x`
//! reaching the crate root) goes to a lower layer, never up and never across. Tests
//! (`#[cfg(test)]` items) may reach anywhere. The table is read from ARCHITECTURE.md itself,
//! so the document and the check cannot drift apart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where each top-level module sits: its level, from ARCHITECTURE.md's "Layers" table.
fn layers(architecture: &str) -> BTreeMap<String, usize> {
    let mut levels = BTreeMap::new();
    let mut in_section = false;
    for line in architecture.lines() {
        if line.starts_with("## ") {
            in_section = line.trim() == "## Layers";
            continue;
        }
        if !in_section || !line.starts_with('|') {
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(level), Some(modules)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let Ok(level) = level.parse::<usize>() else {
            continue; // the header and its rule
        };
        for module in modules.split(',') {
            let name = module.trim().trim_matches('`');
            assert!(
                levels.insert(name.to_string(), level).is_none(),
                "ARCHITECTURE.md lists `{name}` in two layers"
            );
        }
    }
    levels
}

/// One path from a file of module `from` to the top-level module `to`.
#[derive(Debug, PartialEq, Eq)]
struct Reference {
    to: String,
    line: usize,
}

/// Every path in `source` (a file whose module path, below the crate root, is `module`) that
/// reaches a top-level module: `crate::x`, `crate::{x, y::z}` and `super::…::x` chains that
/// climb to the root. Comments, strings and `#[cfg(test)]` items are left out.
fn references(source: &str, module: &[String]) -> Vec<Reference> {
    let code = without_test_items(&blank_comments_and_strings(source));
    let bytes = code.as_bytes();
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let word_starts = at == 0 || !is_ident(bytes[at - 1]) && bytes[at - 1] != b':';
        if word_starts && code[at..].starts_with("crate::") {
            let after = at + "crate::".len();
            for (name, offset) in names_after(&code[after..]) {
                found.push(Reference {
                    to: name,
                    line: line_of(after + offset),
                });
            }
            at = after;
            continue;
        }
        if word_starts && code[at..].starts_with("super::") {
            let mut climbs = 0;
            let mut rest = at;
            while code[rest..].starts_with("super::") {
                climbs += 1;
                rest += "super::".len();
            }
            if climbs == module.len() {
                for (name, offset) in names_after(&code[rest..]) {
                    found.push(Reference {
                        to: name,
                        line: line_of(rest + offset),
                    });
                }
            }
            at = rest;
            continue;
        }
        at += 1;
    }
    found
}

/// The first names of the paths after `crate::`: one name, or each of a `{…}` group's.
fn names_after(text: &str) -> Vec<(String, usize)> {
    let ident = |from: usize| {
        let len = text[from..].bytes().take_while(|b| is_ident(*b)).count();
        (text[from..from + len].to_string(), from)
    };
    if !text.starts_with('{') {
        let (name, at) = ident(0);
        return if name.is_empty() {
            Vec::new()
        } else {
            vec![(name, at)]
        };
    }
    // A group: the names at its top level, each first after `{` or a `,`.
    let mut names = Vec::new();
    let mut depth = 0;
    let mut expect_name = true;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'{' => {
                depth += 1;
                expect_name = depth == 1;
            }
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            b',' if depth == 1 => expect_name = true,
            b if expect_name && depth == 1 && is_ident(b) => {
                let (name, at) = ident(i);
                if name != "self" {
                    names.push((name, at));
                }
                expect_name = false;
            }
            _ => {}
        }
    }
    names
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `source` with comments, string and character literals replaced by spaces (newlines kept,
/// so line numbers stay right).
fn blank_comments_and_strings(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let prev_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if !prev_ident && (c == 'r' || c == 'b') && raw_string_start(&chars[i..]).is_some() {
            let (prefix, hashes) = raw_string_start(&chars[i..]).expect("checked");
            for &c in &chars[i..i + prefix] {
                blank(&mut out, c);
            }
            i += prefix;
            let closes = |at: usize| {
                chars.get(at) == Some(&'"') && (1..=hashes).all(|h| chars.get(at + h) == Some(&'#'))
            };
            while i < chars.len() && !closes(i) {
                blank(&mut out, chars[i]);
                i += 1;
            }
            for _ in 0..=hashes {
                if i < chars.len() {
                    out.push(' ');
                    i += 1;
                }
            }
        } else if c == '"' || (c == 'b' && next == Some('"') && !prev_ident) {
            if c == 'b' {
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
                if i < chars.len() {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && char_literal_len(&chars[i..]).is_some() {
            let len = char_literal_len(&chars[i..]).expect("checked");
            for _ in 0..len {
                out.push(' ');
            }
            i += len;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// `r"`, `r#"`, `br##"`…: how many characters open it, and how many `#`s close it.
fn raw_string_start(chars: &[char]) -> Option<(usize, usize)> {
    let mut i = usize::from(chars.first() == Some(&'b'));
    if chars.get(i) != Some(&'r') {
        return None;
    }
    i += 1;
    let hashes = chars[i..].iter().take_while(|c| **c == '#').count();
    i += hashes;
    (chars.get(i) == Some(&'"')).then_some((i + 1, hashes))
}

/// The length of the character literal at the start of `chars` (`'a'`, `'\n'`,
/// `'\u{1F600}'`), or `None` for a lifetime (`'a`).
fn char_literal_len(chars: &[char]) -> Option<usize> {
    match chars.get(1)? {
        // `'\''` and `'\\'`: the escaped character is the quote or the backslash itself.
        '\\' if matches!(chars.get(2), Some('\'' | '\\')) => {
            (chars.get(3) == Some(&'\'')).then_some(4)
        }
        '\\' => chars
            .iter()
            .skip(2)
            .position(|c| *c == '\'')
            .map(|end| end + 3),
        _ => (chars.get(2) == Some(&'\'')).then_some(3),
    }
}

/// `code` without the items marked `#[cfg(test)]`: from the attribute to the end of the item
/// (its `;`, or the `}` that closes its first `{`).
fn without_test_items(code: &str) -> String {
    const MARK: &str = "#[cfg(test)]";
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(start) = rest.find(MARK) {
        out.push_str(&rest[..start]);
        let item = &rest[start..];
        let mut end = item.len();
        let mut depth = 0;
        for (i, b) in item.bytes().enumerate().skip(MARK.len()) {
            match b {
                b';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        // Keep the newlines, so the lines after it keep their numbers.
        out.extend(item[..end].chars().filter(|c| *c == '\n'));
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The module path of a file below `src` (`src/runner/host/mod.rs` → `runner::host`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// Every path from a module to one at its own level or above, as `file:line: a -> b (…)`.
fn violations(src: &Path, levels: &BTreeMap<String, usize>) -> Vec<String> {
    let mut found = Vec::new();
    for file in rust_files(src) {
        // The binary's main.rs is the edge above every layer (and reaches the library by its
        // crate name, not `crate::`).
        if file == src.join("main.rs") || file == src.join("lib.rs") {
            continue;
        }
        let module = module_of(src, &file);
        let from = &module[0];
        let from_level = levels[from.as_str()];
        let text = std::fs::read_to_string(&file).unwrap();
        for reference in references(&text, &module) {
            if reference.to == *from {
                continue;
            }
            // A name that is not a top-level module (an item of lib.rs) is no layer's.
            let Some(&to_level) = levels.get(&reference.to) else {
                continue;
            };
            if to_level >= from_level {
                let how = if to_level == from_level {
                    "across"
                } else {
                    "up"
                };
                found.push(format!(
                    "{}:{}: {from} (level {from_level}) -> {} (level {to_level}) goes {how}",
                    file.strip_prefix(src.parent().unwrap()).unwrap().display(),
                    reference.line,
                    reference.to
                ));
            }
        }
    }
    found
}

#[test]
fn every_import_goes_to_a_lower_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let levels = layers(&architecture);
    // Every top-level module is in exactly one layer, and every layer names real modules.
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let modules: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';'))
        .collect();
    assert!(modules.len() > 5, "src/lib.rs declares its modules");
    for module in &modules {
        assert!(
            levels.contains_key(*module),
            "src/lib.rs's `{module}` is in no layer of ARCHITECTURE.md's Layers table"
        );
    }
    for listed in levels.keys() {
        assert!(
            modules.contains(&listed.as_str()),
            "ARCHITECTURE.md lists `{listed}`, which src/lib.rs does not declare"
        );
    }
    let found = violations(&root.join("src"), &levels);
    assert!(
        found.is_empty(),
        "imports that go up or across a layer (move what both need down a layer):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_finds_each_kind_of_path_and_ignores_tests_comments_and_strings() {
    let module = vec!["runner".to_string(), "source".to_string()];
    let source = r##"
use crate::platform::files;
use crate::{clock, registry::Pin, self};
use super::super::workbench::Thing;
use super::options::SandboxOptions;
fn f() -> crate::bundle::Bundle {
    let _ = "crate::app::not_code";
    let _ = r#"crate::app::raw"#;
    let _ = ('c', '\'', '\\', '\u{1F600}');
    // crate::app::in_a_comment
    /* crate::app::in /* nested */ a block */
    inline(crate::suite::run(), x::crate::not_a_root);
}
fn lifetime<'a>(s: &'a str) -> &'a str { crate::trust::check(s) }
#[cfg(test)]
mod tests {
    use crate::app::App;
    fn inner() { crate::cli::run(); }
}
fn after() { crate::open::read(); }
"##;
    let found: Vec<(String, usize)> = references(source, &module)
        .into_iter()
        .map(|r| (r.to, r.line))
        .collect();
    assert_eq!(
        found,
        [
            ("platform".to_string(), 2),
            ("clock".to_string(), 3),
            ("registry".to_string(), 3),
            ("workbench".to_string(), 4),
            ("bundle".to_string(), 6),
            ("suite".to_string(), 12),
            ("trust".to_string(), 14),
            ("open".to_string(), 20),
        ]
    );
}

#[test]
fn a_path_up_or_across_is_reported_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("low")).unwrap();
    std::fs::write(
        src.join("lib.rs"),
        "pub mod low;\npub mod mid;\npub mod high;\n",
    )
    .unwrap();
    std::fs::write(src.join("low/mod.rs"), "//! low\nuse crate::high::X;\n").unwrap();
    std::fs::write(
        src.join("mid.rs"),
        "fn f() { crate::low::y(); crate::mid2::z(); }\n",
    )
    .unwrap();
    std::fs::write(src.join("high.rs"), "use crate::{low, mid};\n").unwrap();
    let levels = layers(
        "# x\n## Layers\n| level | modules |\n|---|---|\n| 2 | `high` |\n| 1 | `mid`, `mid2` |\n\
         | 0 | `low` |\n## After\n| 9 | `ignored` |\n",
    );
    assert_eq!(levels.len(), 4);
    let found = violations(&src, &levels);
    assert_eq!(
        found,
        [
            "src/low/mod.rs:2: low (level 0) -> high (level 2) goes up",
            "src/mid.rs:1: mid (level 1) -> mid2 (level 1) goes across",
        ]
    );
}
