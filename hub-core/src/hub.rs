//! A hub: configured by a [`HubBuilder`], immutable once built, served one
//! connection at a time by a transport.

use std::sync::Arc;

use crate::cluster::{Backplane, Cluster};
use crate::filter::{Filters, HubFilter};
use crate::hub_context::HubContext;
use crate::hub_state::HubState;
use crate::method::HubMethods;
use crate::options::HubOptions;
use crate::serve::{self, Dispatcher};
use crate::transport::{ConnectionEnd, ConnectionInfo, Identity, IdentityRefused, Transport};

/// Configures a hub before it exists: its options, its filters, its
/// backplane. Made by the `hub_builder()` method `#[hub]` adds to the trait.
///
/// ```
/// # use hub_core::{HubCtx, HubFilter, HubOptions, HubResult, hub};
/// # #[hub]
/// # trait Chat {
/// #     async fn send_message(&self, ctx: &HubCtx, text: String) -> HubResult<()>;
/// # }
/// # struct ChatHub;
/// # impl Chat for ChatHub {
/// #     async fn send_message(&self, _: &HubCtx, _: String) -> HubResult<()> { Ok(()) }
/// # }
/// # struct Audit;
/// # impl HubFilter for Audit {}
/// let hub = ChatHub
///     .hub_builder()
///     .options(HubOptions {
///         enable_detailed_errors: true,
///         ..Default::default()
///     })
///     .filter(Audit)
///     .build();
/// assert!(hub.options().enable_detailed_errors);
/// ```
#[must_use = "a builder does nothing until `build()`"]
pub struct HubBuilder {
    methods: Box<dyn HubMethods>,
    options: HubOptions,
    filters: Filters,
    backplane: Option<Arc<dyn Backplane>>,
}

impl HubBuilder {
    pub(crate) fn new(methods: Box<dyn HubMethods>) -> Self {
        Self {
            methods,
            options: HubOptions::default(),
            filters: Filters::default(),
            backplane: None,
        }
    }

    /// The hub's options (ASP.NET Core's defaults when not set).
    pub fn options(mut self, options: HubOptions) -> Self {
        self.options = options;
        self
    }

    /// Adds a filter around every invocation, connect and disconnect.
    /// Filters added first run outermost.
    pub fn filter(mut self, filter: impl HubFilter) -> Self {
        self.filters.push(filter);
        self
    }

    /// Joins the other server processes serving this hub through `backplane`
    /// (e.g. `hub_redis::RedisBackplane`): every client target, group,
    /// client result and membership query then spans all of them. The hub
    /// starts using it when it is first served or used inside a tokio
    /// runtime; building needs none.
    pub fn backplane(mut self, backplane: impl Backplane) -> Self {
        self.backplane = Some(Arc::new(backplane));
        self
    }

    /// The hub.
    pub fn build(self) -> Hub {
        let name = self.methods.name();
        let backplane = self.backplane;
        let state = HubState::new(name, self.options, |registry| {
            backplane.map(|backplane| Cluster::new(backplane, registry, name))
        });
        Hub {
            state: Arc::new(state),
            dispatcher: Arc::new(Dispatcher::new(self.methods, self.filters)),
        }
    }
}

impl std::fmt::Debug for HubBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubBuilder")
            .field("hub", &self.methods.name())
            .field("options", &self.options)
            .field("filters", &self.filters)
            .field("backplane", &self.backplane.is_some())
            .finish()
    }
}

/// A hub: a `#[hub]` trait implementation with its options, filters and
/// connections. Immutable once built.
///
/// Made by the `into_hub()` (default options) or `hub_builder()` methods the
/// `#[hub]` macro adds to the trait; served by `hub-transport`. Cloning is
/// cheap and clones share everything.
#[derive(Clone)]
pub struct Hub {
    state: Arc<HubState>,
    dispatcher: Arc<Dispatcher>,
}

impl Hub {
    /// The hub trait's name.
    pub fn name(&self) -> &'static str {
        self.state.name()
    }

    /// The hub's options.
    pub fn options(&self) -> &HubOptions {
        self.state.options()
    }

    /// A handle to send to this hub's clients and manage its groups from
    /// outside hub methods (background tasks, HTTP handlers).
    pub fn context(&self) -> HubContext {
        HubContext::new(self.state.clone())
    }

    /// Runs one connection over `transport` until it ends: handshake, messages,
    /// cleanup; resolves to how it ended. Transports call this once per connection.
    pub fn serve_connection<T: Transport>(
        &self,
        transport: T,
        info: ConnectionInfo,
    ) -> impl Future<Output = ConnectionEnd> + Send + 'static + use<T> {
        // Serving needs the cluster: a hub built outside a runtime joins it here.
        let _ = self.state.cluster();
        serve::serve(self.state.clone(), self.dispatcher.clone(), transport, info)
    }
}

impl Hub {
    /// Replaces the identity of the connection `connection_id` (on this
    /// server) with a re-authenticated one: later invocations see its
    /// claims ([`HubCtx::identity`](crate::HubCtx::identity)). Refused if it
    /// names another user, as ASP.NET refuses a refresh that changes the
    /// user. The transport calls this for `POST {hub}/refresh`.
    pub fn refresh_identity(
        &self,
        connection_id: &str,
        identity: Identity,
    ) -> Result<(), IdentityRefused> {
        let connection = self
            .state
            .registry()
            .get(connection_id)
            .ok_or(IdentityRefused::NotConnected)?;
        connection.refresh_identity(identity)
    }
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("name", &self.state.name())
            .field("registry", self.state.registry())
            .finish()
    }
}
