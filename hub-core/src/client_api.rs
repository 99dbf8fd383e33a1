//! What a SignalR *client* offers the code `#[hub]` and `#[hub_client]`
//! generate for it: the typed proxy of a hub (`{Trait}Proxy`, from `#[hub]`)
//! calls a hub through a [`HubCaller`]; the handler trait of a client
//! (`{Trait}Handler`, from `#[hub_client]`) registers its callbacks on a
//! [`CallbackRegistry`].
//!
//! hub-core implements neither: a client crate (`hub-client`) does, so that
//! the server runtime never depends on a client. Only the vocabulary lives
//! here: what a call carries ([`Upload`]), what a callback receives
//! ([`CallbackArguments`]) and what it answers ([`CallbackOutcome`]).

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::{BoxStream, Stream, StreamExt};
use hub_protocol::{DecodeError, EncodeError, Protocol};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Encodes one uploaded item as a StreamItem of the given stream id.
pub type ItemEncoder = Box<dyn FnOnce(Protocol, &str) -> Result<Bytes, EncodeError> + Send>;

/// A client-to-server stream argument, its item type erased: each item
/// encodes itself once the connection knows its protocol and stream id.
pub struct Upload(pub BoxStream<'static, ItemEncoder>);

impl Upload {
    /// Erases the item type of any stream of serializable items.
    pub fn new<S>(stream: S) -> Self
    where
        S: Stream + Send + 'static,
        S::Item: Serialize + Send + 'static,
    {
        Upload(
            stream
                .map(|item| -> ItemEncoder {
                    Box::new(move |protocol: Protocol, stream_id: &str| {
                        protocol.encode_stream_item(stream_id, &item)
                    })
                })
                .boxed(),
        )
    }
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Upload")
    }
}

/// A connection to a hub that typed proxies call through.
///
/// `arguments` serializes as a sequence (a tuple); `uploads` are the
/// client-to-server streams bound, in order, to the method's stream
/// parameters.
pub trait HubCaller: Clone + Send + Sync + 'static {
    /// What a failed call reports (the hub's error text among others).
    type Error: Send + 'static;

    /// Invokes `target` and resolves to its decoded result.
    fn invoke<A, R>(
        &self,
        target: &'static str,
        arguments: A,
        uploads: Vec<Upload>,
    ) -> BoxFuture<'static, Result<R, Self::Error>>
    where
        A: Serialize + Send + 'static,
        R: DeserializeOwned + Send + 'static;

    /// Sends `target` without asking for a result (no invocation id); resolves
    /// once the message is on its way.
    fn send<A>(
        &self,
        target: &'static str,
        arguments: A,
        uploads: Vec<Upload>,
    ) -> BoxFuture<'static, Result<(), Self::Error>>
    where
        A: Serialize + Send + 'static;

    /// Starts a server-to-client stream; dropping the stream before its end
    /// cancels it on the server.
    fn stream<A, T>(
        &self,
        target: &'static str,
        arguments: A,
        uploads: Vec<Upload>,
    ) -> BoxStream<'static, Result<T, Self::Error>>
    where
        A: Serialize + Send + 'static,
        T: DeserializeOwned + Send + 'static;
}

/// One call of a hub method with a result, made by a typed proxy: `.await`
/// it to invoke the method and get its typed result, or [`Call::send`] it
/// when no result is wanted.
///
/// Its bounds (arguments `Serialize`, result `DeserializeOwned`) are checked
/// where it is awaited, so a hub whose types only go one way still compiles.
#[must_use = "a call does nothing until it is awaited or sent"]
pub struct Call<C, A, R, U = ()> {
    caller: C,
    target: &'static str,
    arguments: A,
    uploads: U,
    result: PhantomData<fn() -> R>,
}

impl<C, A, R, U> Call<C, A, R, U> {
    /// A call of `target` through `caller`.
    pub fn new(caller: C, target: &'static str, arguments: A, uploads: U) -> Self {
        Self {
            caller,
            target,
            arguments,
            uploads,
            result: PhantomData,
        }
    }

    /// The hub method's wire name.
    pub fn target(&self) -> &'static str {
        self.target
    }
}

impl<C, A, R, U> std::fmt::Debug for Call<C, A, R, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("target", &self.target)
            .finish()
    }
}

impl<C: HubCaller, A: Serialize + Send + 'static, R, U: IntoUploads> Call<C, A, R, U> {
    /// Sends the call without waiting for its result (a non-blocking
    /// Invocation: the server sends nothing back, not even an error).
    pub fn send(self) -> BoxFuture<'static, Result<(), C::Error>> {
        self.caller
            .send(self.target, self.arguments, self.uploads.into_uploads())
    }
}

impl<C, A, R, U> IntoFuture for Call<C, A, R, U>
where
    C: HubCaller,
    A: Serialize + Send + 'static,
    R: DeserializeOwned + Send + 'static,
    U: IntoUploads,
{
    type Output = Result<R, C::Error>;
    type IntoFuture = BoxFuture<'static, Result<R, C::Error>>;

    fn into_future(self) -> Self::IntoFuture {
        self.caller
            .invoke::<A, R>(self.target, self.arguments, self.uploads.into_uploads())
    }
}

/// A server-to-client stream of a typed proxy: the StreamInvocation is sent
/// when it is first polled (as the JS client subscribes), and dropping it
/// before its end cancels the stream on the server.
#[must_use = "streams do nothing unless polled"]
pub struct StreamCall<C: HubCaller, A, T, U = ()> {
    start: Option<(C, &'static str, A, U)>,
    stream: Option<BoxStream<'static, Result<T, C::Error>>>,
}

impl<C: HubCaller, A, T, U> StreamCall<C, A, T, U> {
    /// A stream of `target` through `caller`.
    pub fn new(caller: C, target: &'static str, arguments: A, uploads: U) -> Self {
        Self {
            start: Some((caller, target, arguments, uploads)),
            stream: None,
        }
    }
}

impl<C: HubCaller, A, T, U> std::fmt::Debug for StreamCall<C, A, T, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamCall")
            .field("started", &self.stream.is_some())
            .finish()
    }
}

impl<C: HubCaller, A, T, U> Unpin for StreamCall<C, A, T, U> {}

impl<C, A, T, U> Stream for StreamCall<C, A, T, U>
where
    C: HubCaller,
    A: Serialize + Send + 'static,
    T: DeserializeOwned + Send + 'static,
    U: IntoUploads,
{
    type Item = Result<T, C::Error>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if let Some((caller, target, arguments, uploads)) = self.start.take() {
            self.stream = Some(caller.stream(target, arguments, uploads.into_uploads()));
        }
        match self.stream.as_mut() {
            Some(stream) => stream.poll_next_unpin(cx),
            None => std::task::Poll::Ready(None),
        }
    }
}

/// The upload streams of a call: `()` for none, or a tuple of streams of
/// serializable items.
pub trait IntoUploads {
    /// The streams, their item types erased.
    fn into_uploads(self) -> Vec<Upload>;
}

impl IntoUploads for () {
    fn into_uploads(self) -> Vec<Upload> {
        Vec::new()
    }
}

impl IntoUploads for Vec<Upload> {
    fn into_uploads(self) -> Vec<Upload> {
        self
    }
}

macro_rules! tuple_into_uploads {
    ($($name:ident $index:tt),*) => {
        impl<$($name),*> IntoUploads for ($($name,)*)
        where
            $($name: Stream + Send + 'static, $name::Item: Serialize + Send + 'static,)*
        {
            fn into_uploads(self) -> Vec<Upload> {
                vec![$(Upload::new(self.$index)),*]
            }
        }
    };
}

tuple_into_uploads!(A 0);
tuple_into_uploads!(A 0, B 1);
tuple_into_uploads!(A 0, B 1, C 2);
tuple_into_uploads!(A 0, B 1, C 2, D 3);

/// `T`, with a type parameter `S` that only makes a bound on it depend on a
/// generic: a generated handler's `where Dep<Self, T>: ..` is checked where
/// the handler is registered, not where the trait is declared (whose types
/// may go one way only).
pub struct Dep<S: ?Sized, T>(pub T, PhantomData<fn(&S)>);

impl<S: ?Sized, T> Dep<S, T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Self(value, PhantomData)
    }
}

impl<S: ?Sized, T: std::fmt::Debug> std::fmt::Debug for Dep<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<S: ?Sized, T: Serialize> Serialize for Dep<S, T> {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        self.0.serialize(serializer)
    }
}

impl<S: ?Sized, T: FromArguments> FromArguments for Dep<S, T> {
    fn from_arguments(arguments: &CallbackArguments) -> Result<Self, CallbackError> {
        T::from_arguments(arguments).map(Dep::new)
    }
}

/// The arguments of an Invocation the server sent a client, still encoded.
#[derive(Debug, Clone)]
pub struct CallbackArguments {
    protocol: Protocol,
    values: Vec<Bytes>,
}

impl CallbackArguments {
    /// Arguments encoded in `protocol`, one value each.
    pub fn new(protocol: Protocol, values: Vec<Bytes>) -> Self {
        Self { protocol, values }
    }

    /// How many arguments the server sent.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the server sent no argument.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The protocol the arguments are encoded in.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Decodes argument `index`.
    pub fn decode<T: DeserializeOwned>(&self, index: usize) -> Result<T, CallbackError> {
        let value = self.values.get(index).ok_or(CallbackError::Arity {
            expected: index + 1,
            got: self.values.len(),
        })?;
        self.protocol
            .decode(value)
            .map_err(|error| CallbackError::Argument { index, error })
    }

    /// Decodes every argument as the tuple `T` (exactly as many as `T` has).
    pub fn decode_all<T: FromArguments>(&self) -> Result<T, CallbackError> {
        T::from_arguments(self)
    }
}

/// Why a callback could not run, or what it failed with.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// The server sent another number of arguments than the callback takes.
    #[error("expected {expected} argument(s), the server sent {got}")]
    Arity {
        /// How many the callback takes.
        expected: usize,
        /// How many arrived.
        got: usize,
    },
    /// An argument did not decode into the callback's parameter type.
    #[error("argument {index} did not decode: {error}")]
    Argument {
        /// Its position.
        index: usize,
        /// Why.
        error: DecodeError,
    },
    /// The callback failed; the text is what a client result answers.
    #[error("{0}")]
    Failed(String),
}

/// A tuple of argument types a callback takes.
pub trait FromArguments: Sized {
    /// Decodes exactly as many arguments as the tuple has.
    fn from_arguments(arguments: &CallbackArguments) -> Result<Self, CallbackError>;
}

macro_rules! tuple_from_arguments {
    ($count:expr; $($name:ident $index:tt),*) => {
        impl<$($name: DeserializeOwned),*> FromArguments for ($($name,)*) {
            fn from_arguments(arguments: &CallbackArguments) -> Result<Self, CallbackError> {
                if arguments.len() != $count {
                    return Err(CallbackError::Arity { expected: $count, got: arguments.len() });
                }
                Ok(($(arguments.decode::<$name>($index)?,)*))
            }
        }
    };
}

tuple_from_arguments!(0;);
tuple_from_arguments!(1; A 0);
tuple_from_arguments!(2; A 0, B 1);
tuple_from_arguments!(3; A 0, B 1, C 2);
tuple_from_arguments!(4; A 0, B 1, C 2, D 3);
tuple_from_arguments!(5; A 0, B 1, C 2, D 3, E 4);
tuple_from_arguments!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_arguments!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_arguments!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// Encodes a client result as the Completion of the server's invocation id.
pub type ResultEncoder = Box<dyn FnOnce(Protocol, &str) -> Result<Bytes, EncodeError> + Send>;

/// What a callback answers: `Ok(None)` for a callback without a result,
/// `Ok(Some(..))` for a client result, `Err` for a failure (sent as the
/// Completion's error when the server asked for a result).
pub type CallbackOutcome = Result<Option<ResultEncoder>, CallbackError>;

/// A registered callback.
pub type Callback =
    Arc<dyn Fn(CallbackArguments) -> BoxFuture<'static, CallbackOutcome> + Send + Sync>;

/// The value of a client result, encoded when the client answers.
pub fn result_encoder<T: Serialize + Send + 'static>(value: T) -> ResultEncoder {
    Box::new(move |protocol: Protocol, invocation_id: &str| {
        protocol.encode_completion_result(invocation_id, &value)
    })
}

/// Where callbacks are registered: a client connection.
pub trait CallbackRegistry {
    /// Registers `callback` for Invocations of `target` (matched ignoring
    /// ASCII case, as the official clients do).
    fn register_callback(&self, target: &str, callback: Callback);
}

/// A callback from a closure over decoded arguments.
pub fn callback<Args, F, Fut, Out>(function: F) -> Callback
where
    Args: FromArguments + Send + 'static,
    F: Fn(Args) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Out> + Send + 'static,
    Out: IntoCallbackOutcome + 'static,
{
    Arc::new(
        move |arguments: CallbackArguments| match Args::from_arguments(&arguments) {
            Ok(args) => {
                let future = function(args);
                Box::pin(async move { future.await.into_outcome() })
                    as Pin<Box<dyn Future<Output = CallbackOutcome> + Send>>
            }
            Err(error) => Box::pin(std::future::ready(Err(error))),
        },
    )
}

/// What a callback may return: `()` (no result), [`Answer`] (a client
/// result), or a `Result` of either (an `Err` becomes the Completion's error).
pub trait IntoCallbackOutcome: Send {
    /// The outcome the connection acts on.
    fn into_outcome(self) -> CallbackOutcome;
}

impl IntoCallbackOutcome for () {
    fn into_outcome(self) -> CallbackOutcome {
        Ok(None)
    }
}

/// A client result: the value a callback answers the server with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer<T>(pub T);

impl<T: Serialize + Send + 'static> IntoCallbackOutcome for Answer<T> {
    fn into_outcome(self) -> CallbackOutcome {
        Ok(Some(result_encoder(self.0)))
    }
}

impl<T: IntoCallbackOutcome, E: std::fmt::Display + Send> IntoCallbackOutcome for Result<T, E> {
    fn into_outcome(self) -> CallbackOutcome {
        match self {
            Ok(value) => value.into_outcome(),
            Err(error) => Err(CallbackError::Failed(error.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_decode_as_tuples_of_the_right_arity() {
        for protocol in Protocol::ALL {
            let values = vec![
                protocol.encode_value(&"ann").unwrap(),
                protocol.encode_value(&42).unwrap(),
            ];
            let arguments = CallbackArguments::new(protocol, values);
            let (user, count): (String, i32) = arguments.decode_all().unwrap();
            assert_eq!((user.as_str(), count), ("ann", 42));
            assert!(matches!(
                arguments.decode_all::<(String,)>(),
                Err(CallbackError::Arity {
                    expected: 1,
                    got: 2
                })
            ));
            assert!(matches!(
                arguments.decode_all::<(i32, i32)>(),
                Err(CallbackError::Argument { index: 0, .. })
            ));
        }
    }

    #[tokio::test]
    async fn callbacks_answer_values_errors_or_nothing() {
        let arguments = CallbackArguments::new(
            Protocol::Json,
            vec![Protocol::Json.encode_value(&"q").unwrap()],
        );
        let answer =
            callback(|(question,): (String,)| async move { Answer(format!("{question}!")) });
        let encoder = answer(arguments.clone()).await.unwrap().unwrap();
        let completion = encoder(Protocol::Json, "s1").unwrap();
        assert_eq!(
            &completion[..],
            b"{\"type\":3,\"invocationId\":\"s1\",\"result\":\"q!\"}\x1e"
        );
        let nothing = callback(|(_,): (String,)| async {});
        assert!(nothing(arguments.clone()).await.unwrap().is_none());
        let failing = callback(|(_,): (String,)| async { Err::<Answer<i32>, _>("no") });
        assert!(matches!(
            failing(arguments).await,
            Err(CallbackError::Failed(text)) if text == "no"
        ));
    }
}
