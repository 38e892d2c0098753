//! The host functions the open plugin is linked with ([`HostLinks`]): the built-ins with the
//! user's definitions fitted to the plugin's imports, and the definitions that cannot stand for
//! the import they name, with why.

use crate::runner::HostRegistry;
use crate::runner::host::{DefProblem, HostFnDef};
use crate::runner::inspect::Import;

use super::Notice;

/// The registry the open plugin links and the definitions that did not fit.
#[derive(Default)]
pub struct HostLinks {
    registry: HostRegistry,
    problems: Vec<DefProblem>,
}

impl HostLinks {
    /// The built-ins and the user's definitions that fit.
    pub fn registry(&self) -> &HostRegistry {
        &self.registry
    }

    /// The user's definitions that cannot stand for the imports they name, and why.
    pub fn problems(&self) -> &[DefProblem] {
        &self.problems
    }

    /// The problem of the definition for `module::name`, if it has one.
    pub fn problem(&self, module: &str, name: &str) -> Option<&DefProblem> {
        self.problems
            .iter()
            .find(|p| p.module == module && p.name == name)
    }

    /// Fits `definitions` to `imports` (no plugin open: `None`, the built-ins alone).
    pub fn rebuild(&mut self, definitions: &[HostFnDef], imports: Option<&[Import]>) {
        (self.registry, self.problems) = match imports {
            Some(imports) => HostRegistry::with_definitions(definitions, imports),
            None => (HostRegistry::builtin(), Vec::new()),
        };
    }

    /// Whether the definition of `qualified` (`module::name`) is in use, or why not.
    pub fn verdict(&self, qualified: &str) -> Notice {
        match self
            .problems
            .iter()
            .find(|p| format!("{}::{}", p.module, p.name) == qualified)
        {
            Some(problem) => Notice::HostFnProblem(Box::new(problem.clone())),
            None => Notice::HostFnDefined(qualified.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::host::Behaviour;
    use crate::runner::inspect::{ImportGroup, ItemKind, Signature};

    fn import(name: &str, params: &[&str], results: &[&str]) -> Import {
        Import {
            module: "acme".to_string(),
            name: name.to_string(),
            kind: ItemKind::Func,
            signature: Some(Signature {
                params: params.iter().map(ToString::to_string).collect(),
                results: results.iter().map(ToString::to_string).collect(),
            }),
            group: ImportGroup::Other,
        }
    }

    #[test]
    fn a_definition_that_fits_links_and_one_that_does_not_says_why() {
        let mut links = HostLinks::default();
        let imports = [
            import("price", &["i64"], &["i64"]),
            import("log", &["v128"], &[]),
        ];
        let defs = [
            HostFnDef::new("acme", "price", Behaviour::Value { value: "1".into() }),
            // A value for an import that returns nothing cannot stand for it.
            HostFnDef::new("acme", "log", Behaviour::Value { value: "1".into() }),
        ];
        links.rebuild(&defs, Some(&imports));
        assert!(
            links.registry().get("acme", "price").is_some(),
            "{:?}",
            links.problems()
        );
        assert!(links.problem("acme", "log").is_some());
        assert!(matches!(
            links.verdict("acme::price"),
            Notice::HostFnDefined(_)
        ));
        assert!(matches!(
            links.verdict("acme::log"),
            Notice::HostFnProblem(_)
        ));

        links.rebuild(&defs, None);
        assert!(links.problems().is_empty());
        assert!(links.registry().get("acme", "price").is_none());
    }
}
