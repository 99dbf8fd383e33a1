//! The test hub's methods.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::Stream;
use hub_core::{CancellationToken, Cancelled, HubCtx, HubError, HubResult, UploadStream};

use super::{ClusterCounters, LIFECYCLE_GROUP, Stats, Test, TestClient, TestHub};

/// Counts itself in `live` while alive (an `Endless` producer).
struct LiveProducer(Arc<AtomicUsize>);

impl LiveProducer {
    fn new(live: &Arc<AtomicUsize>) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        Self(live.clone())
    }
}

impl Drop for LiveProducer {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn sum_stream(mut numbers: UploadStream<i64>) -> HubResult<i64> {
    let mut total: i64 = 0;
    while let Some(number) = numbers.next().await {
        total = total
            .checked_add(number?)
            .ok_or_else(|| HubError::new("Sum overflowed."))?;
    }
    Ok(total)
}

impl Test for TestHub {
    async fn on_connected(&self, ctx: &HubCtx) -> HubResult<()> {
        let message = format!("connected:{}", ctx.connection_id());
        ctx.clients().group(LIFECYCLE_GROUP).receive(message).await
    }

    async fn on_disconnected(&self, ctx: &HubCtx, error: Option<HubError>) {
        let suffix = if error.is_some() { ":error" } else { "" };
        let message = format!("disconnected:{}{suffix}", ctx.connection_id());
        let _ = ctx.clients().group(LIFECYCLE_GROUP).receive(message).await;
    }

    async fn echo(&self, message: String) -> String {
        message
    }

    async fn add(&self, a: i64, b: i64) -> HubResult<i64> {
        a.checked_add(b)
            .ok_or_else(|| HubError::new("Add overflowed."))
    }

    async fn get_connection_id(&self, ctx: &HubCtx) -> String {
        ctx.connection_id().to_string()
    }

    async fn whoami(&self, ctx: &HubCtx) -> Option<String> {
        ctx.user_id().map(str::to_owned)
    }

    async fn send_to_all(&self, ctx: &HubCtx, message: String) -> HubResult<()> {
        ctx.clients().all().receive(message).await
    }

    async fn send_to_others(&self, ctx: &HubCtx, message: String) -> HubResult<()> {
        ctx.clients().others().receive(message).await
    }

    async fn send_to_caller(&self, ctx: &HubCtx, message: String) -> HubResult<()> {
        ctx.clients().caller().receive(message).await
    }

    async fn send_to_connection(
        &self,
        ctx: &HubCtx,
        connection_id: String,
        message: String,
    ) -> HubResult<()> {
        ctx.clients().client(connection_id).receive(message).await
    }

    async fn send_to_user(&self, ctx: &HubCtx, user_id: String, message: String) -> HubResult<()> {
        ctx.clients().user(user_id).receive(message).await
    }

    async fn join_group(&self, ctx: &HubCtx, group: String) -> HubResult<()> {
        ctx.groups().add(ctx.connection_id(), &group).await
    }

    async fn leave_group(&self, ctx: &HubCtx, group: String) -> HubResult<()> {
        ctx.groups().remove(ctx.connection_id(), &group).await
    }

    async fn send_to_group(&self, ctx: &HubCtx, group: String, message: String) -> HubResult<()> {
        ctx.clients().group(group).receive(message).await
    }

    async fn throw(&self, message: String) -> HubResult<()> {
        Err(HubError::new(message))
    }

    async fn delay(&self, ms: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    }

    async fn counter(&self, count: i32, delay_ms: u64) -> impl Stream<Item = i32> {
        futures_util::stream::unfold(0, move |next| async move {
            if next >= count {
                return None;
            }
            if next > 0 {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            }
            Some((next, next + 1))
        })
    }

    async fn sum(&self, numbers: UploadStream<i64>) -> HubResult<i64> {
        sum_stream(numbers).await
    }

    async fn ask_client(&self, ctx: &HubCtx, question: String) -> HubResult<String> {
        ctx.clients().caller().answer(question).await
    }

    async fn send_to_all_except(
        &self,
        ctx: &HubCtx,
        excluded: Vec<String>,
        message: String,
    ) -> HubResult<()> {
        ctx.clients().all_except(excluded).receive(message).await
    }

    async fn send_to_connections(
        &self,
        ctx: &HubCtx,
        connection_ids: Vec<String>,
        message: String,
    ) -> HubResult<()> {
        ctx.clients().clients(connection_ids).receive(message).await
    }

    async fn send_to_groups(
        &self,
        ctx: &HubCtx,
        groups: Vec<String>,
        message: String,
    ) -> HubResult<()> {
        ctx.clients().groups(groups).receive(message).await
    }

    async fn send_to_group_except(
        &self,
        ctx: &HubCtx,
        group: String,
        excluded: Vec<String>,
        message: String,
    ) -> HubResult<()> {
        ctx.clients()
            .group_except(group, excluded)
            .receive(message)
            .await
    }

    async fn send_to_others_in_group(
        &self,
        ctx: &HubCtx,
        group: String,
        message: String,
    ) -> HubResult<()> {
        ctx.clients().others_in_group(group).receive(message).await
    }

    async fn send_to_users(
        &self,
        ctx: &HubCtx,
        user_ids: Vec<String>,
        message: String,
    ) -> HubResult<()> {
        ctx.clients().users(user_ids).receive(message).await
    }

    async fn add_to_group(
        &self,
        ctx: &HubCtx,
        connection_id: String,
        group: String,
    ) -> HubResult<()> {
        ctx.groups().add(&connection_id, &group).await
    }

    async fn remove_from_group(
        &self,
        ctx: &HubCtx,
        connection_id: String,
        group: String,
    ) -> HubResult<()> {
        ctx.groups().remove(&connection_id, &group).await
    }

    async fn panic(&self, message: String) -> HubResult<()> {
        panic!("{message}");
    }

    async fn fail_unexpectedly(&self, message: String) -> HubResult<()> {
        Err(HubError::unexpected(message))
    }

    async fn get_stats(&self, ctx: &HubCtx) -> Stats {
        ctx.hub_context().stats().into()
    }

    async fn failing_counter(
        &self,
        fail_after: i32,
        message: String,
    ) -> impl Stream<Item = HubResult<i32>> {
        futures_util::stream::iter((0..=fail_after).map(move |next| {
            if next < fail_after {
                Ok(next)
            } else {
                Err(HubError::new(message.clone()))
            }
        }))
    }

    async fn endless(&self, delay_ms: u64) -> impl Stream<Item = u64> {
        let producer = LiveProducer::new(&self.live_producers);
        futures_util::stream::unfold((0u64, producer), move |(next, producer)| async move {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            Some((next, (next + 1, producer)))
        })
    }

    async fn live_producers(&self) -> usize {
        self.live_producers.load(Ordering::SeqCst)
    }

    async fn sum_both(
        &self,
        first: UploadStream<i64>,
        label: String,
        second: UploadStream<i64>,
    ) -> HubResult<String> {
        let (first, second) = tokio::join!(sum_stream(first), sum_stream(second));
        Ok(format!("{label}: {}, {}", first?, second?))
    }

    async fn start_ticker(&self, ctx: &HubCtx, count: u32) -> HubResult<()> {
        let context = ctx.hub_context();
        let caller = ctx.connection_id().clone();
        tokio::spawn(async move {
            for tick in 0..count {
                let _ = context
                    .clients()
                    .client(&caller)
                    .receive(format!("tick {tick}"))
                    .await;
            }
            let _ = context
                .clients()
                .client(&caller)
                .receive("ticks done".into())
                .await;
        });
        Ok(())
    }

    async fn admin_only(&self) -> String {
        "secret".into()
    }

    async fn abort_me(&self, ctx: &HubCtx, error: String, allow_reconnect: bool) {
        ctx.abort(Some(error), allow_reconnect);
    }

    async fn secret_for_users(&self, ctx: &HubCtx) -> String {
        format!("secret for {}", ctx.user_id().unwrap_or_default())
    }

    async fn admin_by_role(&self) -> String {
        "admin secret".into()
    }

    async fn get_claims(&self, ctx: &HubCtx) -> Vec<(String, String)> {
        ctx.claims().to_vec()
    }

    async fn ask_connection(
        &self,
        ctx: &HubCtx,
        connection_id: String,
        question: String,
    ) -> HubResult<String> {
        ctx.clients().client(connection_id).answer(question).await
    }

    async fn group_members(&self, ctx: &HubCtx, group: String) -> Vec<String> {
        ctx.groups()
            .members(&group)
            .await
            .into_iter()
            .map(|id| id.to_string())
            .collect()
    }

    async fn groups_of(&self, ctx: &HubCtx, connection_id: String) -> Vec<String> {
        ctx.groups().of_connection(&connection_id).await
    }

    async fn user_connections(&self, ctx: &HubCtx, user_id: String) -> Vec<String> {
        ctx.users()
            .connections(&user_id)
            .await
            .into_iter()
            .map(|id| id.to_string())
            .collect()
    }

    async fn is_user_online(&self, ctx: &HubCtx, user_id: String) -> bool {
        ctx.users().is_online(&user_id).await
    }

    async fn node_id(&self, ctx: &HubCtx) -> Option<String> {
        ctx.hub_context()
            .cluster()
            .map(|link| link.node_id().to_owned())
    }

    async fn get_cluster_stats(&self, ctx: &HubCtx) -> Option<ClusterCounters> {
        ctx.hub_context()
            .cluster_stats()
            .map(|stats| ClusterCounters {
                published: stats.published,
                lost: stats.lost,
                received: stats.received,
            })
    }

    async fn current_trace_id(&self) -> String {
        use opentelemetry::trace::TraceContextExt;
        use tracing_opentelemetry::OpenTelemetrySpanExt;

        let context = tracing::Span::current().context();
        context.span().span_context().trace_id().to_string()
    }

    async fn cancellable_delay(&self, ms: u64, cancellation: CancellationToken) -> HubResult<u64> {
        let wait = tokio::time::sleep(Duration::from_millis(ms));
        if cancellation.run_until_cancelled(wait).await.is_none() {
            self.cancelled.fetch_add(1, Ordering::SeqCst);
            return Err(Cancelled.into());
        }
        Ok(ms)
    }

    async fn cancelled_count(&self) -> u64 {
        self.cancelled.load(Ordering::SeqCst)
    }
}
