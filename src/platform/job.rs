//! The one shape of a background job: work on a thread of its own that ends in a value, a stop
//! flag the work reads, and a waker called once the value can be taken (so the repaint it asks
//! for finds it). Whoever starts a job owns it, and takes its value when it polls.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use poll_promise::Promise;

/// Called from a job's thread when there is something to show (at the latest when it ends).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Asks a job (or a call) to stop, from any thread; the work checks it and ends early.
#[derive(Clone, Debug, Default)]
pub struct Canceller(Arc<AtomicBool>);

impl Canceller {
    /// Asks the work to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`Self::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Work running on a thread of its own, and the value it ends with.
pub struct Job<T: Send + 'static> {
    promise: Promise<T>,
    stop: Canceller,
}

impl<T: Send + 'static> Job<T> {
    /// Starts `work` on a thread named `name`; it gets the job's stop flag. `wake` is called
    /// once its value can be taken.
    ///
    /// # Panics
    /// When the system cannot start a thread.
    pub fn spawn(
        name: &str,
        wake: Waker,
        work: impl FnOnce(&Canceller) -> T + Send + 'static,
    ) -> Self {
        let stop = Canceller::default();
        let flag = stop.clone();
        let (sender, promise) = Promise::new();
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                sender.send(work(&flag));
                wake();
            })
            .expect("the system cannot start a thread");
        Self { promise, stop }
    }

    /// A job that ended before it started (it could not start, say), with `value`.
    pub fn done(value: T) -> Self {
        Self {
            promise: Promise::from_ready(value),
            stop: Canceller::default(),
        }
    }

    pub fn is_running(&self) -> bool {
        self.promise.ready().is_none()
    }

    /// Asks the work to stop (it ends when it next checks).
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Whether [`Self::stop`] was called.
    pub fn stop_requested(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// The value, once the work ended.
    pub fn result(&self) -> Option<&T> {
        self.promise.ready()
    }

    /// The value, once the work ended, taking the job; `Err` gives the job back while it runs.
    ///
    /// # Errors
    /// The job itself, while the work runs.
    pub fn finish(self) -> Result<T, Self> {
        if self.is_running() {
            return Err(self);
        }
        Ok(self.promise.block_and_take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_job_ends_with_its_value_and_wakes_once_it_can_be_taken() {
        let (woken, wakes) = mpsc::channel();
        let woken = std::sync::Mutex::new(woken);
        let job = Job::spawn(
            "test-job",
            Arc::new(move || {
                let _ = woken.lock().unwrap().send(());
            }),
            |_| 42,
        );
        wakes.recv_timeout(Duration::from_secs(10)).unwrap();
        // Woken after the value is there: the first poll finds it.
        assert!(!job.is_running());
        assert_eq!(job.result(), Some(&42));
        assert_eq!(job.finish().ok(), Some(42));
    }

    #[test]
    fn stop_reaches_the_work_and_a_running_job_is_not_taken() {
        let (started, running) = mpsc::channel();
        let job = Job::spawn("test-stop", Arc::new(|| {}), move |stop| {
            started.send(()).unwrap();
            while !stop.is_cancelled() {
                std::thread::sleep(Duration::from_millis(1));
            }
            "stopped"
        });
        running.recv_timeout(Duration::from_secs(10)).unwrap();
        let Err(job) = job.finish() else {
            panic!("still running: not taken");
        };
        assert!(job.is_running() && !job.stop_requested());
        job.stop();
        assert!(job.stop_requested());
        let mut job = job;
        let value = loop {
            match job.finish() {
                Ok(value) => break value,
                Err(running) => job = running,
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!(value, "stopped");
        assert_eq!(Job::done(7).finish().ok(), Some(7));
    }
}
