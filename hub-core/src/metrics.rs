//! Metrics through the `metrics` facade: install any recorder (Prometheus,
//! StatsD, ...) in the application and these appear; without one they cost
//! nothing but a branch. The OpenTelemetry conventions' connection metrics
//! (`signalr.server.connection.duration`, `signalr.server.active_connections`)
//! are hub-transport's: see `docs/observability.md`.
//!
//! | name | kind | labels | what |
//! | --- | --- | --- | --- |
//! | `signalr_connections` | gauge | hub, transport, protocol | connections open now |
//! | `signalr_connections_total` | counter | hub, transport, protocol | connections opened |
//! | `signalr_messages_received_total` | counter | hub, transport, protocol | hub messages received |
//! | `signalr_messages_sent_total` | counter | hub, transport, protocol | hub messages written |
//! | `signalr_invocations_total` | counter | hub | hub method calls started |
//! | `signalr_invocation_errors_total` | counter | hub | calls that ended with an error |
//! | `signalr_disconnects_total` | counter | hub, reason | connections ended, by reason (`client_closed`, `transport_timeout`, `slow_consumer`, ...) |
//! | `signalr_backplane_lost_total` | counter | hub | messages the backplane could not carry |

use metrics::{Counter, Gauge, counter, gauge};

/// The metric handles of one connection, resolved once when it starts.
pub(crate) struct ConnectionMetrics {
    hub: &'static str,
    open: Gauge,
    pub(crate) received: Counter,
    pub(crate) sent: Counter,
    pub(crate) invocations: Counter,
    pub(crate) invocation_errors: Counter,
}

impl ConnectionMetrics {
    pub(crate) fn start(
        hub: &'static str,
        transport: &'static str,
        protocol: &'static str,
    ) -> Self {
        let labels = [
            ("hub", hub),
            ("transport", transport),
            ("protocol", protocol),
        ];
        counter!("signalr_connections_total", &labels).increment(1);
        let open = gauge!("signalr_connections", &labels);
        open.increment(1.0);
        Self {
            hub,
            open,
            received: counter!("signalr_messages_received_total", &labels),
            sent: counter!("signalr_messages_sent_total", &labels),
            invocations: counter!("signalr_invocations_total", "hub" => hub),
            invocation_errors: counter!("signalr_invocation_errors_total", "hub" => hub),
        }
    }

    /// The connection ended for `reason` (`client_closed`, `slow_consumer`, ...).
    pub(crate) fn ended(&self, reason: &'static str) {
        self.open.decrement(1.0);
        counter!("signalr_disconnects_total", "hub" => self.hub, "reason" => reason).increment(1);
    }
}

/// Counts messages the backplane could not carry.
pub(crate) fn backplane_lost(hub: &'static str) {
    counter!("signalr_backplane_lost_total", "hub" => hub).increment(1);
}
