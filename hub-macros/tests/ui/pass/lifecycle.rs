use hub_core::{HubCtx, HubError, HubFilter, HubResult, Invocation, InvocationResult, Next, hub};

#[hub]
pub trait Lifecycle {
    async fn ping(&self) -> String;
}

struct LifecycleHub;

impl Lifecycle for LifecycleHub {
    async fn on_connected(&self, ctx: &HubCtx) -> HubResult<()> {
        ctx.groups().add(ctx.connection_id(), "everyone").await
    }

    async fn on_disconnected(&self, _ctx: &HubCtx, error: Option<HubError>) {
        let _ = error;
    }

    async fn ping(&self) -> String {
        "pong".into()
    }
}

struct Deny;

impl HubFilter for Deny {
    async fn invoke(&self, invocation: &Invocation, next: Next<InvocationResult>) -> InvocationResult {
        if invocation.method() == "Ping" {
            return Err(HubError::new("denied"));
        }
        next.run().await
    }
}

fn main() {
    let _ = LifecycleHub.hub_builder().filter(Deny).build();
}
