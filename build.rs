//! The build script: gives the Windows executable its icon (Explorer, the taskbar and the Start
//! menu read it from the .exe's resources). Nothing happens for other targets.
//!
//! A resource script naming `assets/icon/extism-playground.ico` is compiled with the resource
//! compiler of the target's toolchain (`windres` of mingw-w64 for `*-windows-gnu`, `rc.exe` of
//! the Windows SDK for `*-windows-msvc`) and linked into the binaries. When no resource compiler
//! is found the build goes on without the icon and says so.

use std::path::PathBuf;
use std::process::Command;

const ICON: &str = "assets/icon/extism-playground.ico";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={ICON}");
    println!("cargo:rerun-if-env-changed=WINDRES");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    if let Err(why) = embed_icon() {
        println!("cargo:warning=the Windows executable gets no icon: {why}");
    }
}

fn embed_icon() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let out = PathBuf::from(env("OUT_DIR")?);
    let icon = manifest_dir.join(ICON);
    let script = out.join("icon.rc");
    // Resource scripts take `/` in paths on every host; `\` would need escaping.
    let icon_path = icon.to_string_lossy().replace('\\', "/");
    std::fs::write(&script, format!("1 ICON \"{icon_path}\"\n"))
        .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    let compiled = if env("CARGO_CFG_TARGET_ENV")? == "msvc" {
        let res = out.join("icon.res");
        run(Command::new("rc.exe")
            .arg("/nologo")
            .arg("/fo")
            .arg(&res)
            .arg(&script))
        .map_err(|e| format!("{e} (run the build from a Visual Studio developer prompt)"))?;
        res
    } else {
        let object = out.join("icon.o");
        run(Command::new(windres()?)
            .arg("--input")
            .arg(&script)
            .arg("--output-format=coff")
            .arg("--output")
            .arg(&object))
        .map_err(|e| format!("{e} (install mingw-w64, or set WINDRES)"))?;
        object
    };
    println!("cargo:rustc-link-arg-bins={}", compiled.display());
    Ok(())
}

/// mingw-w64's resource compiler: `$WINDRES`, else the target's cross `windres` off Windows,
/// else plain `windres` (mingw on Windows).
fn windres() -> Result<String, String> {
    if let Ok(windres) = std::env::var("WINDRES") {
        return Ok(windres);
    }
    let host_is_windows = env("HOST")?.contains("windows");
    Ok(if host_is_windows {
        "windres".to_string()
    } else {
        format!("{}-w64-mingw32-windres", env("CARGO_CFG_TARGET_ARCH")?)
    })
}

fn run(command: &mut Command) -> Result<(), String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("cargo did not set {name}"))
}
