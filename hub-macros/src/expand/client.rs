//! `#[hub_client]`: a trait of client calls, implemented for every client target.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ItemTrait, Path, TraitItem};

use crate::attr::parse_trait_options;
use crate::errors::Errors;
use crate::model::{self, Method, Output, Role};

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
        if !matches!(method.output, Output::Unit) {
            errors.spanned(
                &method.item.sig.output,
                "client methods cannot return a value yet (client results are not supported)",
            );
        }
    }
    if let Err(error) = errors.finish() {
        return super::fallback(&item, error);
    }
    render(item, &methods, &options.krate)
}

fn render(mut item: ItemTrait, methods: &[Method], krate: &Path) -> TokenStream {
    let trait_ident = item.ident.clone();
    super::rewrite_methods(
        &mut item,
        methods,
        |_| syn::parse_quote!(#krate::HubResult<()>),
    );
    for (trait_item, method) in item.items.iter_mut().zip(methods) {
        let TraitItem::Fn(function) = trait_item else {
            continue;
        };
        let wire_name = &method.wire_name;
        let params = method.params.iter().map(|param| &param.ident);
        let arguments = if method.params.is_empty() {
            quote!([(); 0])
        } else {
            quote!((#(#params,)*))
        };
        function.default = Some(syn::parse_quote! {{
            #krate::__private::send(self, #wire_name, #arguments)
        }});
        function.semi_token = None;
    }
    item.supertraits
        .push(syn::parse_quote!(#krate::ClientProxy));
    item.colon_token.get_or_insert_with(Default::default);
    quote! {
        #item
        impl<__P: #krate::ClientProxy + ?::core::marker::Sized> #trait_ident for __P {}
    }
}
