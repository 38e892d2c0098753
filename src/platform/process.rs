//! Starting and stopping the processes the app runs: plugin workers (one process each, no
//! children) and cargo builds (cargo runs rustc and build scripts, which must stop with it).
//!
//! - Unix: a build starts in a process group of its own; Stop sends `SIGKILL` to the group.
//! - Windows: nothing the app starts opens a console window (`CREATE_NO_WINDOW`); Stop ends a
//!   build's whole tree with `taskkill /T /F` (which walks the parent-process links), then the
//!   process itself with `TerminateProcess` (what [`std::process::Child::kill`] is there).
//!
//! A worker is a single process: [`kill`] (`SIGKILL`, `TerminateProcess`) ends it on every OS,
//! for Stop and for a timeout alike.

use std::process::{Child, Command};

/// Starts `command` without a window of its own: a GUI app's helpers must not flash consoles
/// on Windows. Nothing to do elsewhere.
pub fn windowless(command: &mut Command) {
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt as _;
        command.creation_flags(CREATE_NO_WINDOW);
    }
    #[cfg(not(windows))]
    let _ = command;
}

/// Starts `command` so that [`kill_tree`] can end it together with the processes it starts
/// (and without a window, see [`windowless`]).
pub fn own_group(command: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
    }
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt as _;
        command.creation_flags(CREATE_NO_WINDOW | CREATE_NEW_PROCESS_GROUP);
    }
}

/// Ends `child` at once (it starts no processes of its own).
pub fn kill(child: &mut Child) {
    let _ = child.kill();
}

/// Ends `child`, started with [`own_group`], and every process it started.
pub fn kill_tree(child: &mut Child) {
    #[cfg(unix)]
    if let Some(pid) = rustix::process::Pid::from_raw(child.id().cast_signed()) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    #[cfg(windows)]
    {
        let mut taskkill = Command::new("taskkill");
        taskkill
            .args(taskkill_args(child.id()))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        windowless(&mut taskkill);
        let _ = taskkill.status();
    }
    kill(child);
}

/// `CREATE_NO_WINDOW` (winbase.h).
#[cfg(windows)]
const CREATE_NO_WINDOW: u32 = 0x0800_0000;
/// `CREATE_NEW_PROCESS_GROUP` (winbase.h): Ctrl+C in the app's console does not reach cargo.
#[cfg(windows)]
const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;

/// The arguments that make `taskkill` end process `pid` and its descendants, forcibly.
#[cfg_attr(not(windows), allow(dead_code, reason = "tested on every host"))]
fn taskkill_args(pid: u32) -> [String; 4] {
    ["/PID".into(), pid.to_string(), "/T".into(), "/F".into()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taskkill_ends_the_tree_by_force() {
        assert_eq!(taskkill_args(4242), ["/PID", "4242", "/T", "/F"]);
    }

    /// Every process the child started dies with it.
    #[cfg(unix)]
    #[test]
    fn kill_tree_ends_the_children_too() {
        use std::io::BufRead as _;
        let mut command = Command::new("sh");
        command
            .args(["-c", "sleep 60 & echo $!; wait"])
            .stdout(std::process::Stdio::piped());
        own_group(&mut command);
        let mut child = command.spawn().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let grandchild = line.trim().to_string();
        let alive = |pid: &str| std::path::Path::new(&format!("/proc/{pid}")).exists();
        if !std::path::Path::new("/proc/self").exists() {
            // macOS has no /proc: the kill is still made, just not observed here.
            kill_tree(&mut child);
            return;
        }
        assert!(alive(&grandchild));
        kill_tree(&mut child);
        let _ = child.wait();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        // Reaped by init once killed: gone, or a zombie for a moment.
        while alive(&grandchild)
            && !std::fs::read_to_string(format!("/proc/{grandchild}/stat"))
                .is_ok_and(|s| s.contains(") Z "))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the grandchild lives on"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
