//! The limit finder run from the window: the search of `runner::limits` on a thread of its
//! own, its probes reported as they come (Stop ends it), for the current function and input.

use std::sync::{Arc, Mutex};

use crate::platform::job::Job;
use crate::runner::limits::{self, Found, LimitError, Probe};
use crate::runner::session::{CallRequest, Session};

/// A search in progress or done.
pub struct LimitJob {
    pub function: String,
    probes: Arc<Mutex<Vec<Probe>>>,
    job: Job<Result<Found, LimitError>>,
}

impl LimitJob {
    /// Starts the search for `request` on a session of its own made from `session`.
    pub fn start(session: &Session, request: CallRequest, wake: super::Waker) -> Self {
        let probes = Arc::new(Mutex::new(Vec::new()));
        let function = request.function.clone();
        let job = {
            let (session, probes) = (session.clone(), Arc::clone(&probes));
            Job::spawn("find-limits", Arc::clone(&wake), move |stop| {
                let mut report = |probe: Probe| {
                    probes
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(probe);
                    wake();
                };
                limits::find(&session, &request, stop, &mut report)
            })
        };
        Self {
            function,
            probes,
            job,
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
        self.job.result()
    }

    pub fn is_running(&self) -> bool {
        self.job.is_running()
    }

    /// Stops the search (it ends after the probe under way).
    pub fn stop(&self) {
        self.job.stop();
    }
}
