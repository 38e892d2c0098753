//! What an installed app brings besides its binary: the man page and shell completions (checked
//! against the command line, so they never go stale), the desktop entry, the icon set, and the
//! `.deb` metadata that installs them all.
//!
//! The generated files are committed. When the command line changes, regenerate them with
//! `EXTISM_PLAYGROUND_UPDATE_ASSETS=1 cargo test --test it install::`.

use crate::common;

use std::path::{Path, PathBuf};

use crate::common::{assert_exit, run_bin, stdout};
use clap::CommandFactory as _;
use extism_playground::cli::{Cli, print_completions};

const UPDATE_ENV: &str = "EXTISM_PLAYGROUND_UPDATE_ASSETS";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Compares a generated file with its committed copy (or rewrites it when asked).
fn check_generated(relative: &str, generated: &[u8]) {
    let path = root().join(relative);
    if std::env::var_os(UPDATE_ENV).is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{relative} is out of date with the command line; regenerate it with \
         `{UPDATE_ENV}=1 cargo test --test it install::`"
    );
}

/// The names of the subcommands people use (not `help`).
fn subcommands() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|name| name != "help")
        .collect()
}

#[test]
fn the_man_pages_are_up_to_date() {
    let render = |command: clap::Command| {
        let mut page = Vec::new();
        clap_mangen::Man::new(command).render(&mut page).unwrap();
        page
    };
    let page = render(Cli::command());
    let text = String::from_utf8_lossy(&page);
    assert!(text.contains(".TH extism-playground 1"), "{text}");
    let names = subcommands();
    assert_eq!(
        names,
        ["call", "inspect", "replay", "test", "push", "completions"]
    );
    for name in &names {
        // The main page points to a page of each subcommand; each is installed.
        assert!(
            text.contains(&format!("extism\\-playground\\-{name}(1)")),
            "{name}"
        );
    }
    check_generated("assets/man/extism-playground.1", &page);
    let cli = Cli::command();
    for sub in cli.get_subcommands().filter(|c| c.get_name() != "help") {
        let full = format!("extism-playground-{}", sub.get_name());
        // clap names are `'static` without its `string` feature; a test may leak a few.
        let name: &'static str = Box::leak(full.clone().into_boxed_str());
        // The synopsis shows the command as it is typed.
        let typed: &'static str =
            Box::leak(format!("extism-playground {}", sub.get_name()).into_boxed_str());
        let page = render(sub.clone().name(name).display_name(name).bin_name(typed));
        let text = String::from_utf8_lossy(&page);
        assert!(text.contains(&format!(".TH {full} 1")), "{text}");
        assert!(text.contains(".SH OPTIONS"), "{full} lists its options");
        check_generated(&format!("assets/man/{full}.1"), &page);
    }
}

#[test]
fn completions_are_up_to_date_and_printed_by_the_binary() {
    use clap_complete::Shell;
    for (shell, file) in [
        (Shell::Bash, "extism-playground.bash"),
        (Shell::Zsh, "_extism-playground"),
        (Shell::Fish, "extism-playground.fish"),
        (Shell::PowerShell, "extism-playground.ps1"),
    ] {
        let mut script = Vec::new();
        print_completions(shell, &mut script);
        let text = String::from_utf8_lossy(&script);
        assert!(
            text.contains("inspect") && text.contains("completions"),
            "{shell}"
        );
        assert!(
            text.contains("allow-path"),
            "{shell} completes the flags too"
        );
        assert!(
            !text.contains("__worker"),
            "{shell}: the worker command stays hidden"
        );
        check_generated(&format!("assets/completions/{file}"), &script);
        // The binary prints the same script.
        let out = run_bin(&["completions", &shell.to_string()], b"");
        assert!(out.status.success(), "{shell}");
        assert_eq!(stdout(&out).as_bytes(), script.as_slice(), "{shell}");
    }
    let out = run_bin(&["completions", "tcsh"], b"");
    assert_exit(&out, 2);
    assert!(
        common::stderr(&out).contains("possible values"),
        "{}",
        common::stderr(&out)
    );
}

/// bash itself reads the bash script without a syntax error (unix: on Windows `bash` may be
/// WSL's, which cannot open the checkout's path).
#[cfg(unix)]
#[test]
fn bash_accepts_its_completion_script() {
    let script = root().join("assets/completions/extism-playground.bash");
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .expect("bash runs on every unix machine");
    assert!(status.success());
}

fn desktop_entry() -> Vec<(String, String)> {
    std::fs::read_to_string(root().join("assets/extism-playground.desktop"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_desktop_entry_starts_the_app_with_its_icon() {
    let entry = desktop_entry();
    let get = |key: &str| {
        entry.iter().find(|(k, _)| k == key).map_or_else(
            || panic!("the desktop entry has no {key}"),
            |(_, v)| v.as_str(),
        )
    };
    assert_eq!(get("Type"), "Application");
    // The binary opens the file it is given (a .wasm, manifest, session or bundle).
    assert_eq!(get("Exec"), "extism-playground %f");
    assert_eq!(get("Icon"), "extism-playground");
    assert_eq!(get("Terminal"), "false");
    // Docks group the window under the entry by its app id (Wayland) or WM class (X11).
    assert_eq!(
        get("StartupWMClass"),
        extism_playground::platform::dirs::APP_ID
    );
    assert!(get("Categories").split(';').any(|c| c == "Development"));
    let keys: Vec<&str> = entry.iter().map(|(k, _)| k.as_str()).collect();
    let mut unique = keys.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(keys.len(), unique.len(), "no key twice: {keys:?}");
}

/// The width and height a PNG's header says.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is a PNG",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn the_icon_set_and_the_window_icon() {
    for size in [16, 32, 48, 64, 128, 256, 512] {
        let path = root().join(format!("assets/icon/extism-playground-{size}.png"));
        assert_eq!(png_size(&path), (size, size), "{}", path.display());
    }
    // The Windows executable's icon (build.rs embeds it): every size up to 256 px.
    let ico = std::fs::read(root().join("assets/icon/extism-playground.ico")).unwrap();
    let word = |at: usize| u16::from_le_bytes([ico[at], ico[at + 1]]);
    assert_eq!((word(0), word(2)), (0, 1), "an icon file");
    let sizes: Vec<u32> = (0..usize::from(word(4)))
        .map(|i| match ico[6 + 16 * i] {
            0 => 256,
            width => u32::from(width),
        })
        .collect();
    assert_eq!(sizes, [16, 32, 48, 64, 128, 256]);
    let icon = extism_playground::app::window_icon().expect("the window icon decodes");
    assert_eq!((icon.width, icon.height), (256, 256));
    assert_eq!(icon.rgba.len(), 256 * 256 * 4);
    // Transparent corners, opaque middle: a shaped icon, not a square.
    assert_eq!(icon.rgba[3], 0, "top-left corner is transparent");
    let middle = (128 * 256 + 128) * 4;
    assert_eq!(icon.rgba[middle + 3], 255, "the middle is opaque");
}

/// Every file the .deb is made of exists in the repository (the binary is built), and the
/// package carries the binary, the desktop entry, icons, the man pages and the README.
#[test]
fn the_deb_metadata_names_files_that_exist() {
    let manifest: toml::Table = std::fs::read_to_string(root().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let deb = &manifest["package"]["metadata"]["deb"];
    let assets = deb["assets"].as_array().expect("deb assets");
    let mut destinations = Vec::new();
    for asset in assets {
        let asset = asset.as_array().unwrap();
        let (source, destination) = (asset[0].as_str().unwrap(), asset[1].as_str().unwrap());
        if let Some((folder, suffix)) = source.split_once("/*") {
            // A glob (`assets/man/*.1`): every match goes into the destination folder.
            let matches: Vec<String> = std::fs::read_dir(root().join(folder))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(suffix))
                .collect();
            assert!(!matches.is_empty(), "{source} matches files");
            destinations.extend(matches.iter().map(|name| format!("{destination}{name}")));
            continue;
        }
        destinations.push(destination.to_string());
        if source.starts_with("target/") {
            // cargo-deb maps `target/release/` to the profile and target it packages.
            assert_eq!(source, "target/release/extism-playground");
            continue;
        }
        assert!(root().join(source).is_file(), "{source} exists");
        if let Some(size) = destination
            .strip_prefix("usr/share/icons/hicolor/")
            .and_then(|rest| rest.split_once('x'))
            .map(|(w, _)| w.parse::<u32>().unwrap())
        {
            assert_eq!(png_size(&root().join(source)), (size, size), "{source}");
        }
    }
    let pages = std::iter::once("usr/share/man/man1/extism-playground.1".to_string()).chain(
        subcommands()
            .into_iter()
            .map(|name| format!("usr/share/man/man1/extism-playground-{name}.1")),
    );
    for wanted in [
        "usr/bin/",
        "usr/share/applications/",
        "usr/share/icons/hicolor/256x256/apps/extism-playground.png",
        "usr/share/doc/extism-playground/README.md",
        "usr/share/bash-completion/completions/extism-playground",
    ]
    .into_iter()
    .map(str::to_string)
    .chain(pages)
    {
        assert!(
            destinations.contains(&wanted),
            "the .deb installs {wanted}: {destinations:?}"
        );
    }
}

/// Where `cargo install --path .` and the .deb put the binary: nothing there but the binary
/// itself is needed at run time (the samples, fonts and icon are built in).
#[test]
fn the_binary_runs_from_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let copy: PathBuf = dir
        .path()
        .join(format!("extism-playground{}", std::env::consts::EXE_SUFFIX));
    std::fs::copy(env!("CARGO_BIN_EXE_extism-playground"), &copy).unwrap();
    let out = std::process::Command::new(&copy)
        .arg("--version")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("extism-playground {}", env!("CARGO_PKG_VERSION"))
    );
    // A plugin runs through the copy (its worker is the copy too).
    let plugin = common::wasm_file(&dir, "greeting.wasm", &common::greeting_wat("installed"));
    let out = std::process::Command::new(&copy)
        .arg("call")
        .arg(&plugin)
        .arg("greet")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "installed");
}
