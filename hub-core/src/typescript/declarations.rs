//! The type declarations a module needs: every declarable type reachable from
//! the hub's parameters and results, once each, dependencies first.

use std::collections::HashSet;

use ts_rs::{Config, TS, TypeVisitor};

/// Collects `export type ...` declarations while visiting types.
pub(crate) struct Declarations {
    config: Config,
    seen: HashSet<String>,
    declared: Vec<String>,
}

impl std::fmt::Debug for Declarations {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Declarations")
            .field("declared", &self.declared)
            .finish_non_exhaustive()
    }
}

impl Declarations {
    pub(super) fn new() -> Self {
        Self {
            config: config(),
            seen: HashSet::new(),
            declared: Vec::new(),
        }
    }

    /// The declarations, in the order they were found (dependencies first).
    pub(super) fn into_declarations(self) -> Vec<String> {
        self.declared
    }
}

/// How types map: 64-bit integers are `number`, as both hub protocols give
/// them to JavaScript.
pub(super) fn config() -> Config {
    Config::new().with_large_int("number")
}

/// Declares `T` when it is declarable (a type deriving `TS`), and every type
/// it uses, including through generic arguments (`Vec<Message>`).
pub(crate) fn declare<T: TS + 'static + ?Sized>(declarations: &mut Declarations) {
    declarations.visit::<T>();
    T::visit_generics(declarations);
}

impl TypeVisitor for Declarations {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if T::output_path().is_none() || !self.seen.insert(T::ident(&self.config)) {
            return;
        }
        T::visit_dependencies(self);
        let mut declaration = T::docs().unwrap_or_default();
        declaration.push_str("export ");
        declaration.push_str(&T::decl(&self.config));
        self.declared.push(declaration);
    }
}
