//! Write deadlines that cost nothing while writes complete at once.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use tokio::time::Sleep;

/// Runs `future` to completion unless it stays pending for `limit`: `None`
/// then. The clock is read and a timer armed only if the first poll is
/// pending, so a write that the socket takes at once costs no timer.
pub(super) async fn within<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut timer: Option<Pin<Box<Sleep>>> = None;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn ready_futures_need_no_timer() {
        assert_eq!(within(Duration::from_secs(1), async { 7 }).await, Some(7));
    }

    #[tokio::test(start_paused = true)]
    async fn pending_futures_time_out() {
        let never = std::future::pending::<()>();
        let started = tokio::time::Instant::now();
        assert_eq!(within(Duration::from_secs(10), never).await, None);
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn slow_futures_finish_within_the_limit() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "done"
        };
        assert_eq!(within(Duration::from_secs(10), slow).await, Some("done"));
    }
}
