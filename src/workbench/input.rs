//! The input the next call sends ([`Input`]): the editor's text (kept in the saved state) or a
//! file too large or binary for the editor sent byte for byte, an input file being read in the
//! background, and the JSON check of the editor's text.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::platform::files::{self, FileKind, ReadError};
use crate::platform::job::{Job, Waker};

use super::view::{JsonError, check_json};
use super::{InputDraft, InputMode, Notice};

/// Inputs at least this big are kept out of the text editor.
pub const LARGE_INPUT_BYTES: usize = 1024 * 1024;

/// An input too large for the text editor (loaded from a file), sent as it is.
#[derive(Clone, Debug)]
pub struct LargeInput {
    pub bytes: Arc<Vec<u8>>,
    pub name: String,
}

/// An input file being read on a thread of its own.
struct Loading {
    path: PathBuf,
    job: Job<Result<Vec<u8>, ReadError>>,
}

/// What goes with the editor's text: the large input that replaces it, a file being read, the
/// JSON check.
pub struct Input {
    large: Option<LargeInput>,
    /// An input file being read.
    loading: Option<Loading>,
    /// The JSON check of the editor's text as it is now.
    check: Result<(), JsonError>,
}

impl Default for Input {
    fn default() -> Self {
        Self {
            large: None,
            loading: None,
            check: Ok(()),
        }
    }
}

impl Input {
    /// The input too large for the editor, when one is loaded.
    pub fn large(&self) -> Option<&LargeInput> {
        self.large.as_ref()
    }

    /// Uses `bytes` as the input, outside the editor.
    pub fn set_large(&mut self, name: &str, bytes: Vec<u8>) {
        self.large = Some(LargeInput {
            bytes: Arc::new(bytes),
            name: name.to_string(),
        });
    }

    /// Back to the editor's text.
    pub fn clear_large(&mut self) {
        self.large = None;
    }

    /// The bytes the next call sends: the large input, or `draft`'s text.
    pub fn bytes(&self, draft: &InputDraft) -> Arc<Vec<u8>> {
        match &self.large {
            Some(large) => Arc::clone(&large.bytes),
            None => Arc::new(draft.text.clone().into_bytes()),
        }
    }

    /// Redoes the JSON check of `draft` (only JSON mode is checked).
    pub fn recheck(&mut self, draft: &InputDraft) {
        self.check = if draft.mode == InputMode::Json {
            check_json(&draft.text)
        } else {
            Ok(())
        };
    }

    /// Why the editor's text is not valid JSON, when it is in JSON mode, is the input, and is
    /// not.
    pub fn error(&self) -> Option<&JsonError> {
        if self.large.is_some() {
            return None;
        }
        self.check.as_ref().err()
    }

    /// Starts reading `path` (on a thread of its own: it may be large, or not a file at all).
    pub fn load(&mut self, path: &Path, wake: Waker) -> Notice {
        let reading = path.to_path_buf();
        let job = Job::spawn("read-input", wake, move |_| {
            files::read(&reading, FileKind::Input)
        });
        self.loading = Some(Loading {
            path: path.to_path_buf(),
            job,
        });
        Notice::LoadingInput(path.to_path_buf())
    }

    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
    }

    /// Puts a file that finished loading in place (in `draft` when it is text of a reasonable
    /// size, else byte for byte), and says so.
    pub fn poll(&mut self, draft: &mut InputDraft) -> Option<Notice> {
        let Loading { path, job } = self.loading.take()?;
        let read = match job.finish() {
            Ok(read) => read,
            Err(job) => {
                self.loading = Some(Loading { path, job });
                return None;
            }
        };
        Some(match read {
            Ok(bytes) => self.put(draft, &path, bytes),
            Err(e) => Notice::InputNotLoaded(Arc::new(e)),
        })
    }

    /// Replaces the input with `bytes` read from `path`.
    fn put(&mut self, draft: &mut InputDraft, path: &Path, bytes: Vec<u8>) -> Notice {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        match self.place(draft, &name, bytes, None) {
            None => Notice::InputLoaded(path.to_path_buf()),
            Some(bytes) => Notice::LargeInputLoaded { bytes, name },
        }
    }

    /// Puts `bytes` in the editor when they are text of a reasonable size (in `mode`, or JSON
    /// when they read as JSON), else outside it under `name`; returns the size when outside.
    pub fn place(
        &mut self,
        draft: &mut InputDraft,
        name: &str,
        bytes: Vec<u8>,
        mode: Option<InputMode>,
    ) -> Option<usize> {
        self.large = None;
        match String::from_utf8(bytes) {
            Ok(text) if text.len() < LARGE_INPUT_BYTES => {
                let mode = mode.unwrap_or(if check_json(&text).is_ok() {
                    InputMode::Json
                } else {
                    InputMode::Raw
                });
                *draft = InputDraft { text, mode };
                None
            }
            // Binary or big inputs are sent byte for byte, outside the editor.
            other => {
                let bytes =
                    other.map_or_else(std::string::FromUtf8Error::into_bytes, String::into_bytes);
                let size = bytes.len();
                self.set_large(name, bytes);
                Some(size)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_goes_to_the_editor_and_big_or_binary_bytes_stay_outside_it() {
        let mut input = Input::default();
        let mut draft = InputDraft::default();
        assert_eq!(
            input.place(&mut draft, "a.json", br#"{"a": 1}"#.to_vec(), None),
            None
        );
        assert_eq!(draft.mode, InputMode::Json);
        assert_eq!(input.place(&mut draft, "t", b"hi".to_vec(), None), None);
        assert_eq!((draft.text.as_str(), draft.mode), ("hi", InputMode::Raw));

        assert_eq!(input.place(&mut draft, "bin", vec![0xff, 0], None), Some(2));
        assert_eq!(input.bytes(&draft).as_slice(), [0xff, 0]);
        assert_eq!(input.large().unwrap().name, "bin");
        assert_eq!(draft.text, "hi", "the editor keeps its text");
        let big = vec![b'a'; LARGE_INPUT_BYTES];
        assert_eq!(
            input.place(&mut draft, "big", big, None),
            Some(LARGE_INPUT_BYTES)
        );
        input.clear_large();
        assert_eq!(input.bytes(&draft).as_slice(), b"hi");
    }

    #[test]
    fn only_json_mode_is_checked_and_a_large_input_has_no_json_error() {
        let mut input = Input::default();
        let mut draft = InputDraft {
            text: "{nope".to_string(),
            mode: InputMode::Json,
        };
        input.recheck(&draft);
        assert!(input.error().is_some());
        input.set_large("f", vec![1]);
        assert!(input.error().is_none());
        input.clear_large();
        draft.mode = InputMode::Raw;
        input.recheck(&draft);
        assert!(input.error().is_none());
    }

    #[test]
    fn a_file_is_read_in_the_background_and_put_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        std::fs::write(&path, "from a file").unwrap();
        let mut input = Input::default();
        let mut draft = InputDraft::default();
        assert!(matches!(
            input.load(&path, Arc::new(|| {})),
            Notice::LoadingInput(_)
        ));
        let started = std::time::Instant::now();
        let notice = loop {
            if let Some(notice) = input.poll(&mut draft) {
                break notice;
            }
            assert!(started.elapsed().as_secs() < 10, "the read did not end");
            std::thread::sleep(std::time::Duration::from_millis(2));
        };
        assert!(matches!(notice, Notice::InputLoaded(p) if p == path));
        assert_eq!(draft.text, "from a file");
        assert!(!input.is_loading());

        input.load(&dir.path().join("missing"), Arc::new(|| {}));
        let notice = loop {
            if let Some(notice) = input.poll(&mut draft) {
                break notice;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        };
        assert!(matches!(notice, Notice::InputNotLoaded(_)));
        assert_eq!(draft.text, "from a file", "a failed load changes nothing");
    }
}
