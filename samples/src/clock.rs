//! The clock sample: a background task pushes the server time to every client
//! once a second through the hub context (the Socket.IO clock demo, as a hub).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hub_core::{Hub, HubBuilder, HubContext, hub, hub_client};
use hub_transport::ServerBuilder;
use tokio::task::JoinHandle;

use crate::BrowserClient;
use crate::browser_client::HTML;

/// The path the clock hub is served at.
pub const PATH: &str = "/hubs/clock";

/// What the clock calls on its clients.
#[hub_client]
pub trait ClockClient {
    /// The server's time, `HH:MM:SS` UTC.
    async fn show_time(&self, time: String);
}

/// The clock hub's methods.
#[hub(client = ClockClient)]
pub trait Clock {
    /// The server's time now (so a new page need not wait for the next tick).
    async fn get_time(&self) -> String;
}

/// The clock hub.
#[derive(Debug, Default)]
pub struct ClockHub;

impl Clock for ClockHub {
    async fn get_time(&self) -> String {
        now_utc()
    }
}

/// The clock hub.
pub fn hub() -> Hub {
    builder().build()
}

/// The builder of [`hub()`], to set options or a backplane first.
pub fn builder() -> HubBuilder {
    ClockHub.hub_builder()
}

/// Sends `ShowTime(now)` to every client once a second, until aborted.
pub fn spawn_ticker(context: HubContext) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            interval.tick().await;
            if let Err(error) = context.clients().all().show_time(now_utc()).await {
                tracing::warn!(%error, "failed to send the time");
            }
        }
    })
}

/// The clock server: the hub at [`PATH`], the page (built in) at `/`, the
/// official client at `/lib/signalr.min.js`.
pub fn server(hub: Hub, client: &BrowserClient) -> ServerBuilder {
    hub_transport::Server::builder()
        .hub(PATH, hub)
        .static_file("/lib/signalr.min.js", &client.signalr)
        .static_content(
            "/",
            HTML,
            &include_bytes!("../clock/wwwroot/index.html")[..],
        )
}

/// The current time of day in UTC, `HH:MM:SS`.
pub fn now_utc() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    format_time_of_day(seconds)
}

fn format_time_of_day(unix_seconds: u64) -> String {
    let of_day = unix_seconds % 86_400;
    format!(
        "{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::format_time_of_day;

    #[test]
    fn formats_the_time_of_day() {
        assert_eq!(format_time_of_day(0), "00:00:00");
        assert_eq!(format_time_of_day(86_399), "23:59:59");
        assert_eq!(format_time_of_day(1_764_158_405), "12:00:05");
    }
}
