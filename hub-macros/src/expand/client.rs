//! `#[hub_client]`: a trait of client calls, implemented for every client target.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemTrait, Path, TraitItem, Type};

use crate::attr::parse_trait_options;
use crate::errors::Errors;
use crate::model::{self, Method, Output, Role, result_ok_type};

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: ItemTrait = match syn::parse2(input) {
        Ok(item) => item,
        Err(error) => return error.into_compile_error(),
    };
    let mut errors = Errors::default();
    let options = parse_trait_options(args, false, &mut errors);
    if !item.supertraits.is_empty() {
        errors.spanned(&item.supertraits, "client traits cannot have supertraits");
    }
    let methods = model::methods(&mut item, Role::Client, &mut errors);
    for method in &methods {
        if let Output::Stream { ty, .. } = &method.output {
            errors.spanned(ty, "client methods cannot return streams");
        }
    }
    if let Err(error) = errors.finish() {
        return super::fallback(&item, error);
    }
    render(item, &methods, &options.krate, options.typescript)
}

/// The type a client result decodes into: `T` for `-> T` and `-> HubResult<T>`.
fn result_type(method: &Method) -> Option<Type> {
    match &method.output {
        Output::Unit | Output::Stream { .. } => None,
        Output::Value(ty) => Some(ty.clone()),
        Output::Result(ty) => result_ok_type(ty).or_else(|| Some(syn::parse_quote!(()))),
    }
}

fn render(mut item: ItemTrait, methods: &[Method], krate: &Path, typescript: bool) -> TokenStream {
    let trait_ident = item.ident.clone();
    super::rewrite_methods(&mut item, methods, |method| match result_type(method) {
        Some(result) => syn::parse_quote!(#krate::HubResult<#result>),
        None => syn::parse_quote!(#krate::HubResult<()>),
    });
    for (trait_item, method) in item.items.iter_mut().zip(methods) {
        let TraitItem::Fn(function) = trait_item else {
            continue;
        };
        let wire_name = &method.wire_name;
        let params = method.params.iter().map(|param| &param.ident);
        // Each argument type checked where it is written, for a precise error.
        let checks = method.params.iter().map(|param| {
            let ty = &param.ty;
            quote_spanned!(ty.span()=> #krate::__private::assert_client_argument::<#ty>();)
        });
        let arguments = if method.params.is_empty() {
            quote!([(); 0])
        } else {
            quote!((#(#params,)*))
        };
        let body = match result_type(method) {
            None => quote!(#krate::__private::send(self, #wire_name, #arguments)),
            Some(_) => {
                function
                    .sig
                    .generics
                    .make_where_clause()
                    .predicates
                    .push(syn::parse_quote!(Self: #krate::SingleClientProxy));
                quote!(#krate::__private::invoke(self, #wire_name, #arguments))
            }
        };
        function.default = Some(syn::parse_quote! {{
            #(#checks)*
            #body
        }});
        function.semi_token = None;
    }
    item.items.push(if typescript {
        super::typescript::client_item(
            &trait_ident.to_string(),
            &item.attrs,
            methods,
            krate,
            result_type,
        )
    } else {
        super::typescript::client_item_missing(krate)
    });
    item.supertraits
        .push(syn::parse_quote!(#krate::ClientProxy));
    item.colon_token.get_or_insert_with(Default::default);
    let handler = super::handler::render(&trait_ident, &item.vis, methods, krate);
    quote! {
        #item
        impl<__P: #krate::ClientProxy + ?::core::marker::Sized> #trait_ident for __P {}
        #handler
    }
}
