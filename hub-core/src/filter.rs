//! Hub filters: middleware around every invocation, connect and disconnect
//! (ASP.NET's `IHubFilter`).
//!
//! ```
//! use std::time::Instant;
//! use hub_core::{HubFilter, Invocation, InvocationResult, Next};
//!
//! /// Logs every invocation with its duration.
//! struct Timing;
//!
//! impl HubFilter for Timing {
//!     async fn invoke(&self, invocation: &Invocation, next: Next<InvocationResult>) -> InvocationResult {
//!         let started = Instant::now();
//!         let result = next.run().await;
//!         println!("{} took {:?}", invocation.method(), started.elapsed());
//!         result
//!     }
//! }
//! ```
//!
//! A filter sees the method's value before it is encoded, as ASP.NET's
//! filters see the result object, and may replace it:
//!
//! ```
//! use hub_core::{HubFilter, Invocation, InvocationResult, MethodValue, Next};
//!
//! /// Never lets a secret leave the server.
//! struct Redact;
//!
//! impl HubFilter for Redact {
//!     async fn invoke(&self, _: &Invocation, next: Next<InvocationResult>) -> InvocationResult {
//!         let value = next.run().await?;
//!         match value.downcast_ref::<String>() {
//!             Some(text) if text.contains("secret") => Ok(MethodValue::new("[redacted]")),
//!             _ => Ok(value),
//!         }
//!     }
//! }
//! ```
//!
//! Register filters with [`HubBuilder::filter`](crate::HubBuilder::filter);
//! the first registered runs outermost. A filter that returns without calling
//! `next.run()` short-circuits the call (an authorization check returning
//! `Err(HubError::new("Unauthorized"))`, a rate limit, ...). A hub without
//! filters pays nothing for them: its results are encoded as its methods
//! return, never boxed.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::context::HubCtx;
use crate::error::{HubError, HubResult};
use crate::outcome::{InvocationFuture, InvocationResult};

/// The call a filter wraps.
#[derive(Debug)]
pub struct Invocation {
    pub(crate) ctx: HubCtx,
    pub(crate) method: &'static str,
    pub(crate) invocation_id: Option<Arc<str>>,
    pub(crate) streaming: bool,
}

impl Invocation {
    /// The caller's context.
    pub fn ctx(&self) -> &HubCtx {
        &self.ctx
    }

    /// The method's wire name.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The caller's invocation id (`None` for fire-and-forget calls).
    pub fn invocation_id(&self) -> Option<&str> {
        self.invocation_id.as_deref()
    }

    /// Whether this is a server-to-client stream.
    pub fn is_streaming(&self) -> bool {
        self.streaming
    }
}

/// The rest of the chain: the next filter, or the hub method itself.
#[must_use = "a filter must run `next` or return its own result"]
pub struct Next<T> {
    inner: BoxFuture<'static, T>,
}

impl<T> Next<T> {
    /// Runs the rest of the chain.
    pub async fn run(self) -> T {
        self.inner.await
    }
}

impl<T> std::fmt::Debug for Next<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next").finish_non_exhaustive()
    }
}

/// Middleware around hub invocations and lifecycle hooks. Every method has a
/// default that just runs `next`; implement those you need.
pub trait HubFilter: Send + Sync + 'static {
    /// Wraps one invocation of a hub method.
    fn invoke(
        &self,
        invocation: &Invocation,
        next: Next<InvocationResult>,
    ) -> impl Future<Output = InvocationResult> + Send {
        let _ = invocation;
        next.run()
    }

    /// Wraps `on_connected`; an error closes the connection.
    fn connected(
        &self,
        ctx: &HubCtx,
        next: Next<HubResult<()>>,
    ) -> impl Future<Output = HubResult<()>> + Send {
        let _ = ctx;
        next.run()
    }

    /// Wraps `on_disconnected`.
    fn disconnected(
        &self,
        ctx: &HubCtx,
        error: Option<&HubError>,
        next: Next<()>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, error);
        next.run()
    }
}

/// [`HubFilter`] with boxed futures, so filters can be stored together. Each
/// call is one allocation: the box owns the filter, what it wraps, and the
/// filter's future.
trait ErasedFilter: Send + Sync + 'static {
    fn invoke(
        self: Arc<Self>,
        invocation: Held,
        next: Next<InvocationResult>,
    ) -> BoxFuture<'static, InvocationResult>;
    fn connected(
        self: Arc<Self>,
        ctx: HubCtx,
        next: Next<HubResult<()>>,
    ) -> BoxFuture<'static, HubResult<()>>;
    fn disconnected(
        self: Arc<Self>,
        ctx: HubCtx,
        error: Option<Arc<HubError>>,
        next: Next<()>,
    ) -> BoxFuture<'static, ()>;
}

impl<F: HubFilter> ErasedFilter for F {
    fn invoke(
        self: Arc<Self>,
        invocation: Held,
        next: Next<InvocationResult>,
    ) -> BoxFuture<'static, InvocationResult> {
        Box::pin(async move { HubFilter::invoke(&*self, &invocation, next).await })
    }

    fn connected(
        self: Arc<Self>,
        ctx: HubCtx,
        next: Next<HubResult<()>>,
    ) -> BoxFuture<'static, HubResult<()>> {
        Box::pin(async move { HubFilter::connected(&*self, &ctx, next).await })
    }

    fn disconnected(
        self: Arc<Self>,
        ctx: HubCtx,
        error: Option<Arc<HubError>>,
        next: Next<()>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move { HubFilter::disconnected(&*self, &ctx, error.as_deref(), next).await })
    }
}

/// The invocation a filter's future holds: its own when it is the only
/// filter (no allocation), shared by all of them otherwise.
enum Held {
    Own(Invocation),
    Shared(Arc<Invocation>),
}

impl std::ops::Deref for Held {
    type Target = Invocation;

    fn deref(&self) -> &Invocation {
        match self {
            Held::Own(invocation) => invocation,
            Held::Shared(invocation) => invocation,
        }
    }
}

/// The filters of a hub, outermost first.
#[derive(Default)]
pub(crate) struct Filters(Vec<Arc<dyn ErasedFilter>>);

impl Filters {
    /// Adds `filter` inside the ones added before.
    pub(crate) fn push(&mut self, filter: impl HubFilter) {
        self.0.push(Arc::new(filter));
    }

    /// Whether there is none (results then need not stay typed for them).
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Wraps an invocation's future in every filter (no cost without filters).
    pub(crate) fn wrap_invocation(
        &self,
        invocation: Invocation,
        method: InvocationFuture,
    ) -> InvocationFuture {
        match &self.0[..] {
            [] => method,
            // The usual case: the filter's future owns the invocation.
            [filter] => filter
                .clone()
                .invoke(Held::Own(invocation), Next { inner: method }),
            filters => {
                let invocation = Arc::new(invocation);
                filters.iter().rev().fold(method, |inner, filter| {
                    filter
                        .clone()
                        .invoke(Held::Shared(invocation.clone()), Next { inner })
                })
            }
        }
    }

    pub(crate) fn wrap_connected(
        &self,
        ctx: &HubCtx,
        hook: BoxFuture<'static, HubResult<()>>,
    ) -> BoxFuture<'static, HubResult<()>> {
        self.0.iter().rev().fold(hook, |inner, filter| {
            filter.clone().connected(ctx.clone(), Next { inner })
        })
    }

    pub(crate) fn wrap_disconnected(
        &self,
        ctx: &HubCtx,
        error: Option<HubError>,
        hook: BoxFuture<'static, ()>,
    ) -> BoxFuture<'static, ()> {
        let error = error.map(Arc::new);
        self.0.iter().rev().fold(hook, |inner, filter| {
            filter
                .clone()
                .disconnected(ctx.clone(), error.clone(), Next { inner })
        })
    }
}

impl std::fmt::Debug for Filters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filters")
            .field("len", &self.0.len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
