//! The SignalR server metrics of the OpenTelemetry semantic conventions, as
//! ASP.NET Core records them (meter `Microsoft.AspNetCore.Http.Connections`):
//!
//! | name | instrument | unit | attributes |
//! | --- | --- | --- | --- |
//! | `signalr.server.connection.duration` | histogram | `s` | `signalr.connection.status`, `signalr.transport` |
//! | `signalr.server.active_connections` | up-down counter | `{connection}` | `signalr.transport` |
//!
//! `signalr.transport` is `web_sockets`, `server_sent_events` or
//! `long_polling`; `signalr.connection.status` is `normal_closure`,
//! `timeout` (the client stopped polling, or did not come back to a stateful
//! connection, within the disconnect timeout) or `app_shutdown`. A
//! connection counts from the request that starts its transport (not from
//! negotiate) until its task ends.
//!
//! They are recorded through the `metrics` facade (a Prometheus exporter
//! shows `signalr_server_connection_duration_seconds` with unit suffixes
//! on, and `signalr_server_active_connections`, a gauge there) and, with the
//! `opentelemetry` feature, on the global OpenTelemetry meter provider as
//! the instruments above, under the meter `hub_transport`.

use std::sync::Once;
use std::time::Instant;

use hub_core::ConnectionEnd;
use metrics::{Unit, describe_gauge, describe_histogram, gauge, histogram};

use crate::{long_polling, sse, websocket};

const DURATION: &str = "signalr.server.connection.duration";
const ACTIVE: &str = "signalr.server.active_connections";
const STATUS: &str = "signalr.connection.status";
const TRANSPORT: &str = "signalr.transport";

/// The bucket boundaries ASP.NET advises for the duration (seconds).
pub const CONNECTION_DURATION_BUCKETS: &[f64] = &[
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// A connection being counted as active; [`ended`](Self::ended) records its
/// duration.
#[derive(Debug)]
pub(crate) struct ActiveConnection {
    transport: &'static str,
    started: Instant,
}

impl ActiveConnection {
    /// A connection over the transport named `transport` (`WebSockets`, ...) started.
    pub(crate) fn start(transport: &'static str) -> Self {
        static DESCRIBED: Once = Once::new();
        DESCRIBED.call_once(|| {
            describe_histogram!(
                DURATION,
                Unit::Seconds,
                "The duration of connections on the server."
            );
            // No unit: Prometheus exporters would append it to the name.
            describe_gauge!(
                ACTIVE,
                "Number of connections that are currently active on the server."
            );
        });
        let transport = attribute_value(transport);
        gauge!(ACTIVE, TRANSPORT => transport).increment(1.0);
        #[cfg(feature = "opentelemetry")]
        otel_instruments()
            .active
            .add(1, &[opentelemetry::KeyValue::new(TRANSPORT, transport)]);
        Self {
            transport,
            started: Instant::now(),
        }
    }

    /// The connection ended as `end` says.
    pub(crate) fn ended(self, end: ConnectionEnd) {
        let seconds = self.started.elapsed().as_secs_f64();
        let transport = self.transport;
        gauge!(ACTIVE, TRANSPORT => transport).decrement(1.0);
        histogram!(DURATION, STATUS => end.as_str(), TRANSPORT => transport).record(seconds);
        #[cfg(feature = "opentelemetry")]
        {
            use opentelemetry::KeyValue;
            let instruments = otel_instruments();
            instruments
                .active
                .add(-1, &[KeyValue::new(TRANSPORT, transport)]);
            instruments.duration.record(
                seconds,
                &[
                    KeyValue::new(STATUS, end.as_str()),
                    KeyValue::new(TRANSPORT, transport),
                ],
            );
        }
    }
}

/// The `signalr.transport` value of a transport.
fn attribute_value(transport: &'static str) -> &'static str {
    match transport {
        websocket::NAME => "web_sockets",
        sse::NAME => "server_sent_events",
        long_polling::NAME => "long_polling",
        other => other,
    }
}

/// The OpenTelemetry instruments.
#[cfg(feature = "opentelemetry")]
struct OtelInstruments {
    duration: opentelemetry::metrics::Histogram<f64>,
    active: opentelemetry::metrics::UpDownCounter<i64>,
}

/// The instruments, made on the global meter provider the first time a
/// connection starts (after the application installed its provider).
#[cfg(feature = "opentelemetry")]
fn otel_instruments() -> &'static OtelInstruments {
    static INSTRUMENTS: std::sync::OnceLock<OtelInstruments> = std::sync::OnceLock::new();
    INSTRUMENTS.get_or_init(|| {
        let meter = opentelemetry::global::meter("hub_transport");
        OtelInstruments {
            duration: meter
                .f64_histogram(DURATION)
                .with_unit("s")
                .with_description("The duration of connections on the server.")
                .with_boundaries(CONNECTION_DURATION_BUCKETS.to_vec())
                .build(),
            active: meter
                .i64_up_down_counter(ACTIVE)
                .with_unit("{connection}")
                .with_description("Number of connections that are currently active on the server.")
                .build(),
        }
    })
}
