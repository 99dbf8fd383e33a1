//! The model both macros generate from: a trait's methods, validated.

use proc_macro2::Span;
use quote::format_ident;
use syn::spanned::Spanned;
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
    /// The wire arguments, in order.
    pub(crate) params: Vec<Param>,
    /// What the method returns.
    pub(crate) output: Output,
}

/// A wire argument.
pub(crate) struct Param {
    /// Its name in generated code.
    pub(crate) ident: Ident,
    /// Its type.
    pub(crate) ty: Type,
}

/// A method's return type.
pub(crate) enum Output {
    /// No value (`()` or nothing).
    Unit,
    /// A plain value.
    Value(Type),
    /// `Result<T, E>` / `HubResult<T>`.
    Result(Type),
}

impl Output {
    /// The type the method's future resolves to.
    pub(crate) fn future_output(&self) -> Type {
        match self {
            Output::Unit => syn::parse_quote!(()),
            Output::Value(ty) | Output::Result(ty) => ty.clone(),
        }
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
        Role::Server => ["into_hub"].as_slice(),
        Role::Client => ["send"].as_slice(),
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
    let mut params = Vec::new();
    for (position, input) in sig.inputs.iter().enumerate() {
        let FnArg::Typed(typed) = input else { continue };
        if let Some(generics_span) = context_type(&typed.ty) {
            match (role, position, generics_span) {
                (Role::Client, ..) => errors.spanned(
                    &typed.ty,
                    "client methods do not take a `&HubCtx`; they are called on a client target",
                ),
                (Role::Server, _, Some(span)) => errors.push(syn::Error::new(
                    span,
                    "`HubCtx` takes no type parameters: write `ctx: &HubCtx`",
                )),
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
        params.push(Param {
            ident,
            ty: (*typed.ty).clone(),
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
        let ident = params[index].ident.clone();
        *typed.pat = syn::parse_quote!(#ident);
        index += 1;
    }
    item.attrs = function.attrs.clone();
    Some(Method {
        item,
        wire_name,
        takes_context,
        params,
        output,
    })
}

/// `Some(None)` for `&HubCtx`; `Some(Some(span))` for `&HubCtx<..>`; `None` otherwise.
fn context_type(ty: &Type) -> Option<Option<Span>> {
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
        arguments => Some(arguments.span()),
    })
}

fn classify_output(ty: &Type) -> Output {
    match ty {
        Type::Tuple(tuple) if tuple.elems.is_empty() => Output::Unit,
        Type::Path(path)
            if path
                .path
                .segments
                .last()
                .is_some_and(|last| last.ident == "Result" || last.ident == "HubResult") =>
        {
            Output::Result(ty.clone())
        }
        _ => Output::Value(ty.clone()),
    }
}
