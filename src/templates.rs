//! The template engine the code generators share: minijinja with every template under
//! `assets/templates` built into the binary, one folder per generator and language
//! (`host/go`, `host/rust`, `starter/rust`), and the filters that write Go and Rust literals.
//! A generator computes a context (plain data) and [`render`]s a template with it; the
//! templates hold the code's text. Whitespace is predictable: a block tag's line ends with it
//! (`trim_blocks`), the indentation before a block tag is dropped (`lstrip_blocks`), and a
//! template's last newline is kept. Nothing is escaped unless a filter says so, and a name the
//! context lacks is an error, not an empty string.

use std::sync::LazyLock;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

/// Every template, by the path it has under `assets/templates`. A new language is a new folder
/// there and its files here.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "host/go/main.go.j2",
        include_str!("../assets/templates/host/go/main.go.j2"),
    ),
    (
        "host/rust/main.rs.j2",
        include_str!("../assets/templates/host/rust/main.rs.j2"),
    ),
    (
        "starter/rust/Cargo.toml.j2",
        include_str!("../assets/templates/starter/rust/Cargo.toml.j2"),
    ),
    (
        "starter/rust/lib.rs.j2",
        include_str!("../assets/templates/starter/rust/lib.rs.j2"),
    ),
    (
        "starter/rust/host.rs.j2",
        include_str!("../assets/templates/starter/rust/host.rs.j2"),
    ),
    (
        "starter/rust/README.md.j2",
        include_str!("../assets/templates/starter/rust/README.md.j2"),
    ),
    (
        "starter/rust/suite.toml.j2",
        include_str!("../assets/templates/starter/rust/suite.toml.j2"),
    ),
    (
        "starter/rust/gitignore.j2",
        include_str!("../assets/templates/starter/rust/gitignore.j2"),
    ),
];

/// The environment, with every template parsed once.
static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("the default delimiters are valid"),
    );
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Code, not HTML: `.md` or `.toml` must not pick an escaping by their extension.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.add_filter("go_str", go_str);
    env.add_filter("rust_str", rust_str);
    env.add_filter("rust_int", rust_int);
    env.add_filter("rust_float", rust_float);
    env.add_filter("go_float", go_float);
    env.add_filter("hex", hex);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("built-in template {name} parses: {e:#}"));
    }
    env
});

/// `template` (a path under `assets/templates`) rendered with `context`.
///
/// The templates are built in and every generator's context is typed, so a failure here is a
/// bug in the template or its context; it panics with minijinja's account of where.
pub fn render(template: &str, context: impl serde::Serialize) -> String {
    let rendered = ENVIRONMENT
        .get_template(template)
        .and_then(|t| t.render(Value::from(Serde(context))));
    match rendered {
        Ok(text) => text,
        Err(e) => panic!("built-in template {template} renders: {e:#}"),
    }
}

/// A Go string literal (Go reads JSON's escapes).
fn go_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

/// A Rust string literal.
fn rust_str(s: &str) -> String {
    format!("{s:?}")
}

/// An integer literal with `_` between thousands, as clippy likes them: `-1_500_000`.
fn rust_int(n: i128) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::from(if n < 0 { "-" } else { "" });
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

/// A Rust float literal (or constant) of type `ty` (`f32`, `f64`), from the float's `{:?}`.
fn rust_float(debug: &str, ty: &str) -> String {
    match debug {
        "NaN" => format!("{ty}::NAN"),
        "inf" => format!("{ty}::INFINITY"),
        "-inf" => format!("{ty}::NEG_INFINITY"),
        _ => format!("{debug}_{ty}"),
    }
}

/// A Go float constant (or `math` call) of type `ty` (`float32`, `float64`), from the float's
/// `{:?}` in Rust. The generator imports `math` where the value needs it.
fn go_float(debug: &str, ty: &str) -> String {
    let special = match debug {
        "NaN" => "math.NaN()",
        "inf" => "math.Inf(1)",
        "-inf" => "math.Inf(-1)",
        _ => return debug.to_string(),
    };
    if ty == "float32" {
        format!("float32({special})")
    } else {
        special.to_string()
    }
}

/// Bytes as a list of hex literals, `0xff, 0x00`.
fn hex(bytes: &Value) -> Result<String, Error> {
    let mut out = Vec::new();
    for b in bytes.try_iter()? {
        let b = u8::try_from(b.clone())
            .map_err(|_| Error::new(ErrorKind::InvalidOperation, format!("{b} is not a byte")))?;
        out.push(format!("0x{b:02x}"));
    }
    Ok(out.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for (name, _) in TEMPLATES {
            assert!(ENVIRONMENT.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn literals_are_written_as_each_language_reads_them() {
        assert_eq!(rust_int(-1_500_000), "-1_500_000");
        assert_eq!(rust_int(100), "100");
        assert_eq!(rust_int(1000), "1_000");
        assert_eq!(rust_float("100.5", "f32"), "100.5_f32");
        assert_eq!(rust_float("-inf", "f64"), "f64::NEG_INFINITY");
        assert_eq!(go_float("1e20", "float64"), "1e20");
        assert_eq!(go_float("NaN", "float32"), "float32(math.NaN())");
        assert_eq!(go_str("a\"b"), r#""a\"b""#);
        assert_eq!(rust_str("a\"b"), r#""a\"b""#);
        assert_eq!(hex(&Value::from(vec![255u8, 0])).unwrap(), "0xff, 0x00");
    }
}
