//! The hub hub-core's own unit tests run against, through
//! [`TestClient`](crate::testing::TestClient).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::{Stream, stream};

use crate::testing::TestClient;
use crate::{
    CancellationToken, Cancelled, Hub, HubBuilder, HubCtx, HubError, HubOptions, HubResult,
    UploadStream,
};

#[crate::hub_client(crate = "crate")]
pub(crate) trait Calls {
    /// Every `To*` method delivers `Receive(text)`.
    async fn receive(&self, text: String);
    /// A client result.
    async fn answer(&self, question: String) -> i64;
}

#[crate::hub(crate = "crate", client = Calls)]
pub(crate) trait Test {
    async fn echo(&self, text: String) -> String;
    async fn add(&self, a: i64, b: i64) -> i64;
    async fn fail(&self, message: String) -> HubResult<()>;
    async fn panic(&self) -> HubResult<()>;
    /// Sleeps `millis`, then returns it.
    async fn delay(&self, millis: u64) -> u64;
    /// `0..count`, `millis` apart.
    async fn counter(&self, count: u32, millis: u64) -> impl Stream<Item = u32>;
    async fn sum(&self, numbers: UploadStream<i64>) -> HubResult<i64>;
    async fn whoami(&self, ctx: &HubCtx) -> String;
    async fn abort(&self, ctx: &HubCtx, error: String);
    /// `count` messages to the caller, then returns.
    async fn flood_caller(&self, ctx: &HubCtx, count: u32) -> HubResult<()>;
    /// `count` messages to everyone but the caller.
    async fn flood_others(&self, ctx: &HubCtx, count: u32) -> HubResult<()>;
    async fn to_all(&self, ctx: &HubCtx, text: String) -> HubResult<()>;
    async fn to_all_except(&self, ctx: &HubCtx, ids: Vec<String>, text: String) -> HubResult<()>;
    async fn to_others(&self, ctx: &HubCtx, text: String) -> HubResult<()>;
    async fn to_caller(&self, ctx: &HubCtx, text: String) -> HubResult<()>;
    async fn to_client(&self, ctx: &HubCtx, id: String, text: String) -> HubResult<()>;
    async fn to_clients(&self, ctx: &HubCtx, ids: Vec<String>, text: String) -> HubResult<()>;
    async fn to_group(&self, ctx: &HubCtx, group: String, text: String) -> HubResult<()>;
    async fn to_groups(&self, ctx: &HubCtx, groups: Vec<String>, text: String) -> HubResult<()>;
    async fn to_group_except(
        &self,
        ctx: &HubCtx,
        group: String,
        ids: Vec<String>,
        text: String,
    ) -> HubResult<()>;
    async fn to_others_in_group(&self, ctx: &HubCtx, group: String, text: String) -> HubResult<()>;
    async fn to_user(&self, ctx: &HubCtx, user: String, text: String) -> HubResult<()>;
    async fn to_users(&self, ctx: &HubCtx, users: Vec<String>, text: String) -> HubResult<()>;
    /// Adds connection `id` to `group`.
    async fn add_to_group(&self, ctx: &HubCtx, id: String, group: String) -> HubResult<()>;
    async fn remove_from_group(&self, ctx: &HubCtx, id: String, group: String) -> HubResult<()>;
    async fn members(&self, ctx: &HubCtx, group: String) -> Vec<String>;
    async fn groups_of(&self, ctx: &HubCtx, id: String) -> Vec<String>;
    async fn user_connections(&self, ctx: &HubCtx, user: String) -> Vec<String>;
    async fn is_online(&self, ctx: &HubCtx, user: String) -> bool;
    /// The caller's answer to `question` (a client result).
    async fn ask_caller(&self, ctx: &HubCtx, question: String) -> HubResult<i64>;
    /// Waits `millis` unless cancelled first (then fails with `Cancelled`,
    /// recording `cancelled <label>`).
    async fn cancellable(
        &self,
        label: String,
        cancellation: CancellationToken,
        millis: u64,
    ) -> HubResult<u64>;
    /// Waits `millis` whatever happens to its token, then says whether the
    /// token was cancelled.
    async fn ignores_cancel(&self, cancellation: CancellationToken, millis: u64) -> bool;
}

/// The test hub; `events` records its lifecycle hooks.
#[derive(Debug, Default, Clone)]
pub(crate) struct TestHub {
    pub(crate) events: Events,
}

/// What happened, in order (`connected <id>`, `disconnected <id>: <error>`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Events(Arc<Mutex<Vec<String>>>);

impl Events {
    fn push(&self, event: String) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
    }

    pub(crate) fn all(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The test hub with `options`, and what its hooks record.
pub(crate) fn hub_with(options: HubOptions) -> (Hub, Events) {
    let (builder, events) = builder();
    (builder.options(options).build(), events)
}

/// The test hub's builder (default options), and what its hooks will record.
pub(crate) fn builder() -> (HubBuilder, Events) {
    let hub = TestHub::default();
    let events = hub.events.clone();
    (hub.hub_builder(), events)
}

/// The test hub with default options.
pub(crate) fn hub() -> Hub {
    hub_with(HubOptions::default()).0
}

/// The texts of the `Receive` messages `client` got before `marker` (which
/// the test sends to everyone after what it checks); they come in order, so
/// what is missing before the marker was not sent.
pub(crate) async fn received_before(client: &mut TestClient, marker: &str) -> Vec<String> {
    let mut texts = Vec::new();
    loop {
        let message = client.recv().await.expect("the connection stays open");
        assert_eq!(message["target"], "Receive", "{message}");
        let text = message["arguments"][0].as_str().unwrap().to_owned();
        if text == marker {
            return texts;
        }
        texts.push(text);
    }
}

impl Test for TestHub {
    async fn on_connected(&self, ctx: &HubCtx) -> HubResult<()> {
        self.events
            .push(format!("connected {}", ctx.connection_id()));
        Ok(())
    }

    async fn on_disconnected(&self, ctx: &HubCtx, error: Option<HubError>) {
        let error = error.map_or_else(|| "-".to_owned(), |error| error.message().to_owned());
        self.events
            .push(format!("disconnected {}: {error}", ctx.connection_id()));
    }

    async fn echo(&self, text: String) -> String {
        text
    }

    async fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }

    async fn fail(&self, message: String) -> HubResult<()> {
        Err(HubError::new(message))
    }

    async fn panic(&self) -> HubResult<()> {
        panic!("the method panicked")
    }

    async fn delay(&self, millis: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(millis)).await;
        millis
    }

    async fn counter(&self, count: u32, millis: u64) -> impl Stream<Item = u32> {
        stream::unfold(0, move |next| async move {
            if next == count {
                return None;
            }
            if next > 0 {
                tokio::time::sleep(Duration::from_millis(millis)).await;
            }
            Some((next, next + 1))
        })
    }

    async fn sum(&self, mut numbers: UploadStream<i64>) -> HubResult<i64> {
        let mut sum = 0;
        while let Some(number) = numbers.next().await {
            sum += number?;
        }
        Ok(sum)
    }

    async fn whoami(&self, ctx: &HubCtx) -> String {
        format!("{:?} {}", ctx.user_id(), ctx.transport())
    }

    async fn abort(&self, ctx: &HubCtx, error: String) {
        ctx.abort(Some(error), true);
    }

    async fn flood_caller(&self, ctx: &HubCtx, count: u32) -> HubResult<()> {
        for n in 0..count {
            ctx.clients().caller().receive(n.to_string()).await?;
        }
        Ok(())
    }

    async fn flood_others(&self, ctx: &HubCtx, count: u32) -> HubResult<()> {
        for n in 0..count {
            ctx.clients().others().receive(n.to_string()).await?;
        }
        Ok(())
    }

    async fn to_all(&self, ctx: &HubCtx, text: String) -> HubResult<()> {
        ctx.clients().all().receive(text).await
    }

    async fn to_all_except(&self, ctx: &HubCtx, ids: Vec<String>, text: String) -> HubResult<()> {
        ctx.clients().all_except(ids).receive(text).await
    }

    async fn to_others(&self, ctx: &HubCtx, text: String) -> HubResult<()> {
        ctx.clients().others().receive(text).await
    }

    async fn to_caller(&self, ctx: &HubCtx, text: String) -> HubResult<()> {
        ctx.clients().caller().receive(text).await
    }

    async fn to_client(&self, ctx: &HubCtx, id: String, text: String) -> HubResult<()> {
        ctx.clients().client(id).receive(text).await
    }

    async fn to_clients(&self, ctx: &HubCtx, ids: Vec<String>, text: String) -> HubResult<()> {
        ctx.clients().clients(ids).receive(text).await
    }

    async fn to_group(&self, ctx: &HubCtx, group: String, text: String) -> HubResult<()> {
        ctx.clients().group(group).receive(text).await
    }

    async fn to_groups(&self, ctx: &HubCtx, groups: Vec<String>, text: String) -> HubResult<()> {
        ctx.clients().groups(groups).receive(text).await
    }

    async fn to_group_except(
        &self,
        ctx: &HubCtx,
        group: String,
        ids: Vec<String>,
        text: String,
    ) -> HubResult<()> {
        ctx.clients().group_except(group, ids).receive(text).await
    }

    async fn to_others_in_group(&self, ctx: &HubCtx, group: String, text: String) -> HubResult<()> {
        ctx.clients().others_in_group(group).receive(text).await
    }

    async fn to_user(&self, ctx: &HubCtx, user: String, text: String) -> HubResult<()> {
        ctx.clients().user(user).receive(text).await
    }

    async fn to_users(&self, ctx: &HubCtx, users: Vec<String>, text: String) -> HubResult<()> {
        ctx.clients().users(users).receive(text).await
    }

    async fn add_to_group(&self, ctx: &HubCtx, id: String, group: String) -> HubResult<()> {
        ctx.groups().add(&id, &group).await
    }

    async fn remove_from_group(&self, ctx: &HubCtx, id: String, group: String) -> HubResult<()> {
        ctx.groups().remove(&id, &group).await
    }

    async fn members(&self, ctx: &HubCtx, group: String) -> Vec<String> {
        let members = ctx.groups().members(&group).await;
        members.iter().map(ToString::to_string).collect()
    }

    async fn groups_of(&self, ctx: &HubCtx, id: String) -> Vec<String> {
        ctx.groups().of_connection(&id).await
    }

    async fn user_connections(&self, ctx: &HubCtx, user: String) -> Vec<String> {
        let connections = ctx.users().connections(&user).await;
        connections.iter().map(ToString::to_string).collect()
    }

    async fn is_online(&self, ctx: &HubCtx, user: String) -> bool {
        ctx.users().is_online(&user).await
    }

    async fn ask_caller(&self, ctx: &HubCtx, question: String) -> HubResult<i64> {
        ctx.clients().caller().answer(question).await
    }

    async fn cancellable(
        &self,
        label: String,
        cancellation: CancellationToken,
        millis: u64,
    ) -> HubResult<u64> {
        let wait = tokio::time::sleep(Duration::from_millis(millis));
        if cancellation.run_until_cancelled(wait).await.is_none() {
            self.events.push(format!("cancelled {label}"));
            return Err(Cancelled.into());
        }
        Ok(millis)
    }

    async fn ignores_cancel(&self, cancellation: CancellationToken, millis: u64) -> bool {
        tokio::time::sleep(Duration::from_millis(millis)).await;
        cancellation.is_cancelled()
    }
}
