//! The model both macros generate from: a trait's methods, validated.

use quote::format_ident;
use syn::{FnArg, Ident, ItemTrait, Pat, ReceiverKind, ReturnType, TraitItem, TraitItemFn, Type};

use crate::attr::take_method_options;
use crate::errors::Errors;
use crate::naming::pascal_case;

/// Which macro is reading the trait.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// `#[hub]`: methods clients invoke.
    Server,
    /// `#[hub_client]`: methods the server invokes on clients.
    Client,
}

/// One method of the trait.
pub(crate) struct Method {
    /// The (cleaned) trait item, re-emitted with a new signature.
    pub(crate) item: TraitItemFn,
    /// The wire name.
    pub(crate) wire_name: String,
    /// Whether the first parameter is `&HubCtx`.
    pub(crate) takes_context: bool,
    /// Where a `CancellationToken` parameter sits among the parameters
    /// after `&self` and `&HubCtx` (it is bound to the invocation's
    /// cancellation, not to an argument).
    pub(crate) cancellation_at: Option<usize>,
    /// The wire arguments, in order.
    pub(crate) params: Vec<Param>,
    /// What the method returns.
    pub(crate) output: Output,
    /// Who may call it (server methods), as written on the method.
    pub(crate) authorize: Option<crate::attr::Authorize>,
}

/// A wire argument.
pub(crate) struct Param {
    /// Its name in generated code.
    pub(crate) ident: Ident,
    /// Its type.
    pub(crate) ty: Type,
    /// Whether it is an `UploadStream<T>` (bound to a stream id, not an argument).
    pub(crate) upload: bool,
}

/// A method's return type.
pub(crate) enum Output {
    /// No value (`()` or nothing).
    Unit,
    /// A plain value.
    Value(Type),
    /// `Result<T, E>` / `HubResult<T>`.
    Result(Type),
    /// `impl Stream<Item = T>`, possibly inside a `Result`.
    Stream {
        /// The declared return type.
        ty: Type,
        /// Whether items are `Result`s (an `Err` item ends the stream with an error).
        fallible_items: bool,
        /// Whether the stream is wrapped in a `Result`.
        in_result: bool,
    },
}

impl Output {
    /// The type the method's future resolves to.
    pub(crate) fn future_output(&self) -> Type {
        match self {
            Output::Unit => syn::parse_quote!(()),
            Output::Value(ty) | Output::Result(ty) | Output::Stream { ty, .. } => ty.clone(),
        }
    }
}

impl Method {
    /// Parameters bound to invocation arguments.
    pub(crate) fn arguments(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|param| !param.upload)
    }

    /// Parameters bound to upload streams.
    pub(crate) fn uploads(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|param| param.upload)
    }
}

/// Reads and validates every method of `item`, removing our attributes from it.
pub(crate) fn methods(item: &mut ItemTrait, role: Role, errors: &mut Errors) -> Vec<Method> {
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.spanned(&item.generics, "hub traits cannot be generic");
    }
    let mut methods: Vec<Method> = Vec::new();
    for trait_item in &mut item.items {
        let TraitItem::Fn(function) = trait_item else {
            errors.spanned(
                &*trait_item,
                "only `async fn` methods are allowed in this trait",
            );
            continue;
        };
        let Some(method) = method(function, role, errors) else {
            continue;
        };
        if let Some(clash) = methods
            .iter()
            .find(|other| other.wire_name.eq_ignore_ascii_case(&method.wire_name))
        {
            errors.spanned(
                &method.item.sig.ident,
                format!(
                    "duplicate wire name `{}`: SignalR matches method names ignoring case, and `{}` already has the wire name `{}`",
                    method.wire_name, clash.item.sig.ident, clash.wire_name
                ),
            );
        }
        methods.push(method);
    }
    methods
}

fn method(function: &mut TraitItemFn, role: Role, errors: &mut Errors) -> Option<Method> {
    let options = take_method_options(&mut function.attrs, errors);
    let mut item = function.clone();
    let sig = &item.sig;
    let before = errors.len();

    if let Some(body) = &item.default {
        errors.spanned(body, "methods of this trait cannot have a default body");
    }
    if sig.asyncness.is_none() {
        errors.spanned(sig.fn_token, "methods of this trait must be `async fn`");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.spanned(&sig.generics, "methods of this trait cannot be generic");
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(variadic, "variadic arguments are not supported");
    }
    if sig.constness.is_some() || sig.abi.is_some() || !matches!(sig.safety, syn::Safety::Default) {
        errors.spanned(&sig.ident, "methods of this trait must be plain `async fn`");
    }
    let reserved = match role {
        Role::Server => ["into_hub", "hub_builder", "on_connected", "on_disconnected"].as_slice(),
        Role::Client => ["send", "invoke", "register"].as_slice(),
    };
    if reserved.iter().any(|name| sig.ident == name) {
        errors.spanned(
            &sig.ident,
            format!(
                "`{}` is reserved by the generated code; rename the method",
                sig.ident
            ),
        );
    }

    match sig.receiver() {
        Some(receiver)
            if matches!(receiver.kind, ReceiverKind::Reference(_, _, None))
                && receiver.mutability.is_none() => {}
        Some(receiver) => errors.spanned(receiver, "the receiver must be `&self`"),
        None => errors.push(syn::Error::new(
            sig.paren_token.span.join(),
            "methods of this trait take `&self` as their first parameter",
        )),
    }

    let mut takes_context = false;
    let mut cancellation_at = None;
    let mut params = Vec::new();
    for (position, input) in sig.inputs.iter().enumerate() {
        let FnArg::Typed(typed) = input else { continue };
        if is_cancellation_token(&typed.ty) {
            match (role, cancellation_at) {
                (Role::Client, _) => errors.spanned(
                    &typed.ty,
                    "client methods do not take a `CancellationToken`; the server cannot cancel a client's handler",
                ),
                (Role::Server, Some(_)) => errors.spanned(
                    &typed.ty,
                    "a hub method takes at most one `CancellationToken`",
                ),
                (Role::Server, None) => cancellation_at = Some(params.len()),
            }
            continue;
        }
        if let Some(generics) = context_type(&typed.ty) {
            match (role, position, generics) {
                (Role::Client, ..) => errors.spanned(
                    &typed.ty,
                    "client methods do not take a `&HubCtx`; they are called on a client target",
                ),
                (Role::Server, _, Some(generics)) => errors.spanned(
                    generics,
                    "`HubCtx` takes no type parameters: write `ctx: &HubCtx`",
                ),
                (Role::Server, 1, None) => takes_context = true,
                (Role::Server, _, None) => errors.spanned(
                    &typed.ty,
                    "the `&HubCtx` parameter must come right after `&self`",
                ),
            }
            continue;
        }
        let ident = match &*typed.pat {
            Pat::Ident(pat) if pat.subpat.is_none() => pat.ident.clone(),
            _ => format_ident!("__arg{}", params.len()),
        };
        let upload = last_segment_is(&typed.ty, &["UploadStream"]);
        if upload && role == Role::Client {
            errors.spanned(&typed.ty, "client methods cannot take upload streams");
        }
        params.push(Param {
            ident,
            ty: (*typed.ty).clone(),
            upload,
        });
    }

    if errors.len() > before {
        return None;
    }

    let output = match &sig.output {
        ReturnType::Default => Output::Unit,
        ReturnType::Type(_, ty) => classify_output(ty),
    };
    let wire_name = options
        .name
        .map(|(name, _)| name)
        .unwrap_or_else(|| pascal_case(&sig.ident.to_string()));

    // Parameters get the names generated code uses.
    let mut index = 0;
    for input in item.sig.inputs.iter_mut() {
        let FnArg::Typed(typed) = input else { continue };
        if context_type(&typed.ty).is_some() {
            continue;
        }
        if is_cancellation_token(&typed.ty) {
            *typed.pat = syn::parse_quote!(__cancellation);
            continue;
        }
        let ident = params[index].ident.clone();
        *typed.pat = syn::parse_quote!(#ident);
        index += 1;
    }
    item.attrs = function.attrs.clone();
    if role == Role::Client && options.authorize.is_some() {
        errors.spanned(
            &item.sig.ident,
            "`authorize` applies to hub methods, not client methods",
        );
        return None;
    }
    Some(Method {
        item,
        wire_name,
        takes_context,
        cancellation_at,
        params,
        output,
        authorize: options.authorize,
    })
}

/// `Some(None)` for `&HubCtx`; `Some(Some(generics))` for `&HubCtx<..>`; `None` otherwise.
fn context_type(ty: &Type) -> Option<Option<&syn::PathArguments>> {
    let Type::Reference(reference) = ty else {
        return None;
    };
    let Type::Path(path) = &*reference.elem else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "HubCtx" {
        return None;
    }
    Some(match &last.arguments {
        syn::PathArguments::None => None,
        arguments => Some(arguments),
    })
}

/// `CancellationToken` (by the last segment of its path: `hub_core::CancellationToken`,
/// `tokio_util::sync::CancellationToken`, ...).
fn is_cancellation_token(ty: &Type) -> bool {
    last_segment_is(ty, &["CancellationToken"])
}

fn classify_output(ty: &Type) -> Output {
    if let Some(item) = stream_item(ty) {
        return Output::Stream {
            ty: ty.clone(),
            fallible_items: is_result(&item),
            in_result: false,
        };
    }
    if let Some(item) = result_ok_type(ty).as_ref().and_then(stream_item) {
        return Output::Stream {
            ty: ty.clone(),
            fallible_items: is_result(&item),
            in_result: true,
        };
    }
    match ty {
        Type::Tuple(tuple) if tuple.elems.is_empty() => Output::Unit,
        _ if is_result(ty) => Output::Result(ty.clone()),
        _ => Output::Value(ty.clone()),
    }
}

/// Whether the type's path ends in one of `names` (`Result`, `UploadStream`, ...).
pub(crate) fn last_segment_is(ty: &Type, names: &[&str]) -> bool {
    let Type::Path(path) = ty else {
        return false;
    };
    path.path
        .segments
        .last()
        .is_some_and(|last| names.iter().any(|name| last.ident == name))
}

/// `Result<T, E>` and `HubResult<T>` (matched by name: type aliases named
/// otherwise are treated as plain values).
pub(crate) fn is_result(ty: &Type) -> bool {
    last_segment_is(ty, &["Result", "HubResult"])
}

/// The type arguments of a path type's last segment, in order (`T`, `E` of
/// `Result<T, E>`); none for other types.
pub(crate) fn type_arguments(ty: &Type) -> impl Iterator<Item = &Type> {
    let arguments = match ty {
        Type::Path(path) => match path.path.segments.last().map(|last| &last.arguments) {
            Some(syn::PathArguments::AngleBracketed(arguments)) => Some(arguments),
            _ => None,
        },
        _ => None,
    };
    arguments
        .into_iter()
        .flat_map(|arguments| arguments.args.iter())
        .filter_map(|argument| match argument {
            syn::GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
}

/// `T` of `Result<T, E>` / `HubResult<T>`.
pub(crate) fn result_ok_type(ty: &Type) -> Option<Type> {
    if !is_result(ty) {
        return None;
    }
    type_arguments(ty).next().cloned()
}

/// `T` of `impl Stream<Item = T>`.
pub(crate) fn stream_item(ty: &Type) -> Option<Type> {
    let Type::ImplTrait(bounds) = ty else {
        return None;
    };
    bounds.bounds.iter().find_map(|bound| {
        let syn::TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let last = bound.path.segments.last()?;
        if last.ident != "Stream" {
            return None;
        }
        let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else {
            return None;
        };
        arguments.args.iter().find_map(|argument| match argument {
            syn::GenericArgument::AssocType(assoc) if assoc.ident == "Item" => {
                Some(assoc.ty.clone())
            }
            _ => None,
        })
    })
}
