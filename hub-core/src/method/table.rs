//! The method table of a hub: wire names, what each method expects, and
//! the shims that start them; the lifecycle hooks beside them.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::call::MethodCall;
use crate::context::HubCtx;
use crate::error::{ArgumentError, HubError};
use crate::outcome::InvocationFuture;
use crate::transport::Identity;

/// Starts a call of one method: decodes the arguments, returns the call's future.
pub type InvokeFn<H> =
    for<'a> fn(&Arc<H>, &MethodCall<'a>) -> Result<InvocationFuture, ArgumentError>;

/// The `on_connected` hook of a hub.
pub type ConnectedFn<H> = fn(&Arc<H>, HubCtx) -> BoxFuture<'static, Result<(), HubError>>;

/// The `on_disconnected` hook of a hub.
pub type DisconnectedFn<H> = fn(&Arc<H>, HubCtx, Option<HubError>) -> BoxFuture<'static, ()>;

/// Who may invoke a hub method (`#[hub(authorize)]`, `#[hub(authorize = "role")]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorize {
    /// Any authenticated user (a connection with a user id).
    Authenticated,
    /// Users with this role: a claim `role` (or `roles`) with this value.
    Role(&'static str),
}

impl Authorize {
    /// Whether `identity` may invoke the method.
    pub fn permits(self, identity: &Identity) -> bool {
        match self {
            Authorize::Authenticated => identity.user_id.is_some(),
            Authorize::Role(role) => {
                identity.user_id.is_some()
                    && identity
                        .claims
                        .iter()
                        .any(|(name, value)| (name == "role" || name == "roles") && value == role)
            }
        }
    }
}

/// What the runtime knows about a hub method.
#[derive(Debug, Clone, Copy)]
pub struct MethodSpec {
    /// The wire name (PascalCase, or as renamed).
    pub name: &'static str,
    /// Number of (non-stream) arguments.
    pub arguments: usize,
    /// Number of upload stream parameters.
    pub upload_streams: usize,
    /// Whether the method returns a stream (invoked with StreamInvocation).
    pub streaming: bool,
    /// Whether the method takes a `CancellationToken`: its calls are then
    /// cancellable by the client's CancelInvocation.
    pub cancellable: bool,
    /// Who may invoke it; `None`: everyone connected.
    pub authorize: Option<Authorize>,
}

struct MethodEntry<H> {
    spec: MethodSpec,
    invoke: InvokeFn<H>,
}

/// The type-erased method table and hooks of a hub.
pub(crate) trait HubMethods: Send + Sync + 'static {
    /// The trait's name, for logs.
    fn name(&self) -> &'static str;
    /// Finds a method by wire name, ignoring ASCII case (as ASP.NET does).
    fn find(&self, target: &str) -> Option<(usize, MethodSpec)>;
    /// Starts a call of method `index`.
    fn invoke(
        &self,
        index: usize,
        call: &MethodCall<'_>,
    ) -> Result<InvocationFuture, ArgumentError>;
    /// Runs the hub's `on_connected`.
    fn on_connected(&self, ctx: HubCtx) -> BoxFuture<'static, Result<(), HubError>>;
    /// Runs the hub's `on_disconnected`.
    fn on_disconnected(&self, ctx: HubCtx, error: Option<HubError>) -> BoxFuture<'static, ()>;
}

/// The methods of a hub implementation; filled by `#[hub]`-generated code.
pub struct MethodTable<H> {
    name: &'static str,
    hub: Arc<H>,
    methods: Vec<MethodEntry<H>>,
    connected: Option<ConnectedFn<H>>,
    disconnected: Option<DisconnectedFn<H>>,
}

impl<H: Send + Sync + 'static> MethodTable<H> {
    /// Starts a table for the hub implementation `hub` of the trait `name`.
    pub fn new(hub: H, name: &'static str) -> Self {
        Self {
            name,
            hub: Arc::new(hub),
            methods: Vec::new(),
            connected: None,
            disconnected: None,
        }
    }

    /// Adds a method.
    pub fn method(&mut self, spec: MethodSpec, invoke: InvokeFn<H>) -> &mut Self {
        self.methods.push(MethodEntry { spec, invoke });
        self
    }

    /// Sets the lifecycle hooks.
    pub fn lifecycle(
        &mut self,
        connected: ConnectedFn<H>,
        disconnected: DisconnectedFn<H>,
    ) -> &mut Self {
        self.connected = Some(connected);
        self.disconnected = Some(disconnected);
        self
    }
}

impl<H> std::fmt::Debug for MethodTable<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.methods.iter().map(|m| m.spec.name).collect();
        f.debug_struct("MethodTable")
            .field("name", &self.name)
            .field("methods", &names)
            .finish()
    }
}

impl<H: Send + Sync + 'static> HubMethods for MethodTable<H> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn find(&self, target: &str) -> Option<(usize, MethodSpec)> {
        self.methods
            .iter()
            .position(|method| method.spec.name.eq_ignore_ascii_case(target))
            .map(|index| (index, self.methods[index].spec))
    }

    fn invoke(
        &self,
        index: usize,
        call: &MethodCall<'_>,
    ) -> Result<InvocationFuture, ArgumentError> {
        (self.methods[index].invoke)(&self.hub, call)
    }

    fn on_connected(&self, ctx: HubCtx) -> BoxFuture<'static, Result<(), HubError>> {
        match self.connected {
            Some(connected) => connected(&self.hub, ctx),
            None => Box::pin(async { Ok(()) }),
        }
    }

    fn on_disconnected(&self, ctx: HubCtx, error: Option<HubError>) -> BoxFuture<'static, ()> {
        match self.disconnected {
            Some(disconnected) => disconnected(&self.hub, ctx, error),
            None => Box::pin(async {}),
        }
    }
}
