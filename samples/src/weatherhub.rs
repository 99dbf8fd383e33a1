//! The server `pysignalr`'s integration tests run against: the ASP.NET Core
//! app `AspNetAuthExample` of its source distribution (a `WeatherHub` at
//! `/weatherHub` and a JWT login at `/api/auth/login`), as a Rust sample.
//!
//! * `POST /api/auth/login` with the JSON `{"username": "test", "password":
//!   "password"}` answers `{"token": "<JWT>"}`, an HS256 token for the user
//!   `testuser` valid for 30 minutes; anything else is refused with 401.
//! * `/weatherHub` is open to anonymous callers; a valid token (header, or
//!   `access_token` query parameter) names the user, an invalid one counts as
//!   no token, as ASP.NET's JWT bearer handler treats it on a hub without
//!   `[Authorize]`.
//!
//! The hub's methods and the client methods it calls keep the wire names and
//! payloads of the C# `WeatherHub`, so clients written against that app (and
//! its tests) work unchanged.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::Stream;
use hub_core::{Hub, HubBuilder, HubCtx, HubError, HubResult, UploadStream, hub, hub_client};
use hub_transport::HubService;
use serde::Deserialize;

/// Where the hub is mapped.
pub const PATH: &str = "/weatherHub";

/// Where the login endpoint is.
pub const LOGIN_PATH: &str = "/api/auth/login";

/// The HS256 key tokens are signed with (the C# sample's, so a token from
/// either server works with the other).
pub const SECRET: &[u8] = b"yoursecretkeyheretoSignalRserver";

/// The user a successful login names (the token's `sub`).
pub const USER: &str = "testuser";

/// How long a token from the login endpoint stays valid.
pub const TOKEN_TTL: Duration = Duration::from_secs(30 * 60);

/// What the weather hub calls on its clients.
#[hub_client]
pub trait WeatherClient {
    /// A chat message from `user` (also `("System", ...)` on group changes).
    async fn receive_message(&self, user: String, message: String);
    /// A forecast broadcast by `SendWeatherForecast`.
    async fn receive_weather_forecast(&self, forecast: String);
    /// A client result: the server asks `message` and waits for the reply.
    async fn result_required(&self, message: String) -> String;
    /// Sent to the caller of `TriggerResultRequired` once it replied correctly.
    async fn success_received_message(&self, user: String, message: String);
    /// The sum of the caller's `UploadStream`.
    async fn upload_complete(&self, sum: i64);
}

/// The weather hub's methods (wire names as in the C# `WeatherHub`).
#[hub(client = WeatherClient)]
pub trait Weather {
    /// Everyone gets `ReceiveMessage(user, message)`.
    async fn send_message(&self, ctx: &HubCtx, user: String, message: String) -> HubResult<()>;
    /// The group's members get `ReceiveMessage(user, message)`.
    async fn send_message_to_group(
        &self,
        ctx: &HubCtx,
        group_name: String,
        user: String,
        message: String,
    ) -> HubResult<()>;
    /// Adds the caller to the group, then tells the group
    /// `ReceiveMessage("System", "<connection id> has joined the group <group>.")`.
    async fn add_to_group(&self, ctx: &HubCtx, group_name: String) -> HubResult<()>;
    /// Removes the caller from the group, then tells the group
    /// `ReceiveMessage("System", "<connection id> has left the group <group>.")`.
    async fn remove_from_group(&self, ctx: &HubCtx, group_name: String) -> HubResult<()>;
    /// Everyone gets `ReceiveWeatherForecast(forecast)`.
    async fn send_weather_forecast(&self, ctx: &HubCtx, forecast: String) -> HubResult<()>;
    /// Asks the caller `ResultRequired("Reply this message")`; when the reply
    /// is `"Reply message"`, sends the caller `SuccessReceivedMessage(user, message)`.
    async fn trigger_result_required(
        &self,
        ctx: &HubCtx,
        user: String,
        message: String,
    ) -> HubResult<()>;
    /// Streams `count, count - 1, ..., 1`, 10 ms apart.
    async fn countdown(&self, count: i32) -> impl Stream<Item = i32>;
    /// Sums a client-to-server stream of numbers, then sends the caller
    /// `UploadComplete(sum)`.
    async fn upload_stream(&self, ctx: &HubCtx, stream: UploadStream<i64>) -> HubResult<()>;
    /// Returns `payload`.
    async fn echo(&self, payload: String) -> String;
    /// Fails with a hub error carrying `reason`.
    async fn fail(&self, reason: String) -> HubResult<()>;
}

/// The weather hub.
#[derive(Debug, Default)]
pub struct WeatherHub;

impl Weather for WeatherHub {
    async fn send_message(&self, ctx: &HubCtx, user: String, message: String) -> HubResult<()> {
        ctx.clients().all().receive_message(user, message).await
    }

    async fn send_message_to_group(
        &self,
        ctx: &HubCtx,
        group_name: String,
        user: String,
        message: String,
    ) -> HubResult<()> {
        ctx.clients()
            .group(group_name)
            .receive_message(user, message)
            .await
    }

    async fn add_to_group(&self, ctx: &HubCtx, group_name: String) -> HubResult<()> {
        ctx.groups().add(ctx.connection_id(), &group_name).await?;
        let notice = format!("{} has joined the group {group_name}.", ctx.connection_id());
        ctx.clients()
            .group(group_name)
            .receive_message("System".to_owned(), notice)
            .await
    }

    async fn remove_from_group(&self, ctx: &HubCtx, group_name: String) -> HubResult<()> {
        ctx.groups()
            .remove(ctx.connection_id(), &group_name)
            .await?;
        let notice = format!("{} has left the group {group_name}.", ctx.connection_id());
        ctx.clients()
            .group(group_name)
            .receive_message("System".to_owned(), notice)
            .await
    }

    async fn send_weather_forecast(&self, ctx: &HubCtx, forecast: String) -> HubResult<()> {
        ctx.clients().all().receive_weather_forecast(forecast).await
    }

    async fn trigger_result_required(
        &self,
        ctx: &HubCtx,
        user: String,
        message: String,
    ) -> HubResult<()> {
        let caller = ctx.clients().client(ctx.connection_id().to_string());
        let reply = caller
            .result_required("Reply this message".to_owned())
            .await?;
        if reply == "Reply message" {
            caller.success_received_message(user, message).await?;
        }
        Ok(())
    }

    async fn countdown(&self, count: i32) -> impl Stream<Item = i32> {
        // Like the C# hub: yields an item, then waits 10 ms before the next.
        futures_util::stream::unfold(count, move |next| async move {
            if next <= 0 {
                return None;
            }
            if next < count {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Some((next, next - 1))
        })
    }

    async fn upload_stream(&self, ctx: &HubCtx, mut stream: UploadStream<i64>) -> HubResult<()> {
        let mut sum: i64 = 0;
        while let Some(item) = stream.next().await {
            sum = sum
                .checked_add(item?)
                .ok_or_else(|| HubError::new("The sum overflowed."))?;
        }
        ctx.clients().caller().upload_complete(sum).await
    }

    async fn echo(&self, payload: String) -> String {
        payload
    }

    async fn fail(&self, reason: String) -> HubResult<()> {
        Err(HubError::new(reason))
    }
}

/// The weather hub with default options.
pub fn hub() -> Hub {
    builder().build()
}

/// The builder of [`hub()`], to set options first.
pub fn builder() -> HubBuilder {
    WeatherHub.hub_builder()
}

/// The hub as a service, authenticating with tokens signed with [`SECRET`]
/// (an invalid token counts as anonymous).
pub fn hub_service(hub: Hub) -> HubService {
    HubService::builder(hub)
        .authenticate(crate::jwt::optional_authenticator(SECRET))
        .build()
}

/// The application: the login endpoint and the hub at [`PATH`].
pub fn app(hub: HubService) -> Router {
    Router::new()
        .route(LOGIN_PATH, post(login))
        .nest_service(PATH, hub)
}

/// The login request (ASP.NET binds property names case-insensitively).
#[derive(Debug, Deserialize)]
struct Login {
    #[serde(alias = "Username", alias = "UserName")]
    username: Option<String>,
    #[serde(alias = "Password")]
    password: Option<String>,
}

async fn login(axum::Json(login): axum::Json<Login>) -> Response {
    if login.username.as_deref() == Some("test") && login.password.as_deref() == Some("password") {
        let token = crate::jwt::issue(SECRET, USER, &[], TOKEN_TTL);
        axum::Json(serde_json::json!({ "token": token })).into_response()
    } else {
        StatusCode::UNAUTHORIZED.into_response()
    }
}

/// Serves [`app`] around `hub` on `listener` until `stop` resolves, then
/// closes the hub's connections gracefully.
pub async fn serve(
    listener: tokio::net::TcpListener,
    hub: Hub,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = hub_service(hub);
    let app = app(service.clone());
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        stop.await;
        service.shutdown().await;
    })
    .await
}

/// The `weatherhub` binary: `--addr HOST:PORT`, `--redis redis://HOST:PORT`;
/// prints `listening on http://HOST:PORT` once it accepts connections; stops
/// gracefully on Ctrl-C / SIGTERM.
pub async fn main() -> std::io::Result<()> {
    crate::cli::init_logging();
    let args = crate::cli::parse("weatherhub");
    let hub = args.join_backplane(builder(), "weather").await.build();
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    crate::cli::announce(listener.local_addr()?);
    serve(listener, hub, hub_transport::shutdown_signal()).await
}
