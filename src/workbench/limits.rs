//! The limit finder run from the window: the search of `runner::limits` on a thread of its
//! own, its probes reported as they come (Stop ends it), for the current function and input.

use std::sync::{Arc, Mutex};

use poll_promise::Promise;

use crate::runner::limits::{self, Found, LimitError, Probe};
use crate::runner::session::{CallRequest, Canceller, Session};

/// A search in progress or done.
pub struct LimitJob {
    pub function: String,
    pub stop: Canceller,
    probes: Arc<Mutex<Vec<Probe>>>,
    promise: Promise<Result<Found, LimitError>>,
}

impl LimitJob {
    /// Starts the search for `request` on a session of its own made from `session`.
    pub fn start(session: &Session, request: CallRequest, wake: super::Waker) -> Self {
        let stop = Canceller::default();
        let probes = Arc::new(Mutex::new(Vec::new()));
        let function = request.function.clone();
        let promise = {
            let (session, stop, probes) = (session.clone(), stop.clone(), Arc::clone(&probes));
            Promise::spawn_thread("find-limits", move || {
                let mut report = |probe: Probe| {
                    probes
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(probe);
                    wake();
                };
                let result = limits::find(&session, &request, &stop, &mut report);
                wake();
                result
            })
        };
        Self {
            function,
            stop,
            probes,
            promise,
        }
    }

    /// The probes so far, oldest first.
    pub fn probes(&self) -> Vec<Probe> {
        self.probes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The result, once the search ended.
    pub fn result(&self) -> Option<&Result<Found, LimitError>> {
        self.promise.ready()
    }

    pub fn is_running(&self) -> bool {
        self.promise.ready().is_none()
    }
}
