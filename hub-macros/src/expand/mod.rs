//! Code generation for both macros.

pub(crate) mod client;
mod handler;
mod proxy;
pub(crate) mod server;
mod typescript;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ItemTrait, TraitItem, Type};

use crate::model::Method;

/// The trait as the user wrote it (minus our attributes) beside the errors,
/// so that code using the trait keeps compiling and only the real mistakes show.
fn fallback(item: &ItemTrait, error: syn::Error) -> TokenStream {
    let error = error.into_compile_error();
    quote! {
        #item
        #error
    }
}

/// Replaces the trait's items with `methods`, each an `fn` returning a `Send` future.
fn rewrite_methods(item: &mut ItemTrait, methods: &[Method], output: impl Fn(&Method) -> Type) {
    item.items = methods
        .iter()
        .map(|method| {
            let mut function = method.item.clone();
            let future_output = output(method);
            function.sig.asyncness = None;
            function.sig.output = syn::parse_quote! {
                -> impl ::core::future::Future<Output = #future_output> + ::core::marker::Send
            };
            TraitItem::Fn(function)
        })
        .collect();
}
