//! What the window persists between runs: the workbench's state and the window's own choices
//! (theme, log filter, results tab), as one `#[serde(default)]` struct so adding a field never
//! breaks an old save. The workbench's fields sit at the top level, as they always have.

use serde::{Deserialize, Serialize};

use crate::workbench::WorkbenchState;
use crate::workbench::view::LogFilter;

/// Light, dark, or whatever the system says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    #[default]
    System,
    Light,
    Dark,
}

impl ThemeChoice {
    pub fn preference(self) -> egui::ThemePreference {
        match self {
            Self::System => egui::ThemePreference::System,
            Self::Light => egui::ThemePreference::Light,
            Self::Dark => egui::ThemePreference::Dark,
        }
    }
}

/// The tabs of the results area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResultTab {
    #[default]
    Output,
    Logs,
    HostCalls,
    Timing,
    History,
    Scenario,
    Build,
}

/// The persisted state of the window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppState {
    #[serde(flatten)]
    pub workbench: WorkbenchState,
    pub theme: ThemeChoice,
    pub log_filter: LogFilter,
    pub result_tab: ResultTab,
}

/// [`AppState`] borrowed from the window, for saving: serializes exactly as it does.
#[derive(Serialize)]
pub struct Saving<'a> {
    #[serde(flatten)]
    pub workbench: &'a WorkbenchState,
    pub theme: ThemeChoice,
    pub log_filter: &'a LogFilter,
    pub result_tab: ResultTab,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_save_keeps_the_workbench_fields_at_the_top_level() {
        let state: AppState = serde_json::from_str(
            r#"{"function": "greet", "theme": "Dark", "output_view": "Hex", "future": 1}"#,
        )
        .unwrap();
        assert_eq!(state.workbench.function, "greet");
        assert_eq!(state.theme, ThemeChoice::Dark);
        let saved = serde_json::to_value(&state).unwrap();
        assert_eq!(saved["function"], "greet");
        assert!(saved.get("workbench").is_none());
    }

    #[test]
    fn what_the_window_saves_borrowed_is_what_it_reads_back() {
        let mut state = AppState::default();
        state.workbench.input.text = "typed".into();
        state.theme = ThemeChoice::Light;
        state.result_tab = ResultTab::Logs;
        let borrowed = Saving {
            workbench: &state.workbench,
            theme: state.theme,
            log_filter: &state.log_filter,
            result_tab: state.result_tab,
        };
        let bytes = serde_json::to_vec(&borrowed).unwrap();
        assert_eq!(bytes, serde_json::to_vec(&state).unwrap());
        assert_eq!(serde_json::from_slice::<AppState>(&bytes).unwrap(), state);
    }
}
