//! The console window a Windows program is given. The binary is a console program, so the
//! command line's output reaches the terminal it runs in; started from the Start menu or
//! Explorer, though, Windows opens a console just for it, which would sit empty beside the
//! window. [`release_own_console`] closes that one (and only that one: a console shared with
//! the shell the app was started from stays). Elsewhere there is nothing to do.

/// Lets go of a console that was made for this process alone (Windows); writes to stdout and
/// stderr are then discarded. Call it only when opening the window.
pub fn release_own_console() {
    #[cfg(windows)]
    windows::release_own_console();
}

#[cfg(windows)]
#[allow(unsafe_code)]
mod windows {
    #[link(name = "kernel32")]
    unsafe extern "system" {
        fn GetConsoleProcessList(list: *mut u32, count: u32) -> u32;
        fn FreeConsole() -> i32;
    }

    pub(super) fn release_own_console() {
        let mut ids = [0u32; 2];
        // SAFETY: `ids` is valid for writes of its length, which is what is passed.
        let attached = unsafe { GetConsoleProcessList(ids.as_mut_ptr(), 2) };
        // 0: no console at all; 1: the console is this process's own; more: a shell's.
        if attached == 1 {
            // SAFETY: no preconditions; Rust's stdio treats the handles it leaves invalid as
            // sinks.
            unsafe {
                FreeConsole();
            }
        }
    }
}
