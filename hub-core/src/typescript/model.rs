//! What a hub looks like to TypeScript: its methods, their parameters and
//! results, and its client callbacks, as the generated code describes them.

use super::declarations::{self, Declarations};
use ts_rs::TS;

/// A hub's methods and client callbacks, described for TypeScript.
///
/// Built by `fn typescript()`, which `#[hub(typescript)]` adds to the hub
/// trait; render it with [`to_typescript`](Self::to_typescript) or
/// [`write`](Self::write).
#[derive(Debug, Clone)]
pub struct HubApi {
    pub(super) name: &'static str,
    pub(super) docs: &'static [&'static str],
    pub(super) methods: Vec<MethodApi>,
    pub(super) client: Option<ClientApi>,
}

/// The client callbacks of a hub.
#[derive(Debug, Clone)]
pub(super) struct ClientApi {
    pub(super) name: &'static str,
    pub(super) docs: &'static [&'static str],
    pub(super) callbacks: Vec<MethodApi>,
}

impl HubApi {
    /// Starts the description of the hub trait `name` (generated code).
    #[doc(hidden)]
    pub fn new(name: &'static str, docs: &'static [&'static str]) -> Self {
        Self {
            name,
            docs,
            methods: Vec::new(),
            client: None,
        }
    }

    /// Adds a hub method (generated code).
    #[doc(hidden)]
    pub fn method(&mut self, method: MethodApi) {
        self.methods.push(method);
    }

    /// Names the client callbacks trait (generated code).
    #[doc(hidden)]
    pub fn client(&mut self, name: &'static str, docs: &'static [&'static str]) {
        self.client = Some(ClientApi {
            name,
            docs,
            callbacks: Vec::new(),
        });
    }

    /// Adds a client callback (generated code).
    #[doc(hidden)]
    pub fn callback(&mut self, callback: MethodApi) {
        if let Some(client) = &mut self.client {
            client.callbacks.push(callback);
        }
    }

    /// The Rust name of the hub trait.
    pub fn name(&self) -> &str {
        self.name
    }
}

/// One hub method or client callback (generated code).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct MethodApi {
    /// The wire name (`SendMessage`); the TypeScript name is its camelCase
    /// (`sendMessage`).
    pub wire_name: &'static str,
    /// The doc comment, one entry per line.
    pub docs: &'static [&'static str],
    /// The parameters, in order (upload streams among them).
    pub params: Vec<ParamApi>,
    /// What it returns.
    pub returns: Returns,
}

/// A parameter (generated code).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct ParamApi {
    /// The Rust name.
    pub rust_name: &'static str,
    /// Its type; for an upload stream, the item type.
    pub ty: TypeRef,
    /// Whether it is an upload stream (`UploadStream<T>`).
    pub upload: bool,
}

/// What a method returns (generated code).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub enum Returns {
    /// No value (`()`, `HubResult<()>`).
    Nothing,
    /// A value.
    Value(TypeRef),
    /// A stream of items (server methods only).
    Stream(TypeRef),
}

/// A Rust type's TypeScript name and declarations (generated code).
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct TypeRef {
    pub(super) name: fn(&ts_rs::Config) -> String,
    pub(super) declare: fn(&mut Declarations),
}

impl std::fmt::Debug for TypeRef {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("TypeRef")
    }
}

/// The [`TypeRef`] of `T` (generated code).
#[doc(hidden)]
pub fn type_ref<T: TS + 'static + ?Sized>() -> TypeRef {
    TypeRef {
        name: <T as TS>::name,
        declare: declarations::declare::<T>,
    }
}
