//! The options of `#[hub(...)]`, `#[hub_client(...)]` and of `#[hub(...)]` on methods.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::{Attribute, LitStr, Path};

use crate::errors::Errors;

/// `authorize` (any authenticated user) or `authorize = "role"`.
#[derive(Clone)]
pub(crate) enum Authorize {
    Authenticated,
    Role(LitStr),
}

/// Parses `authorize` or `authorize = "role"` after its name.
fn authorize(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<Authorize> {
    if meta.input.peek(syn::Token![=]) {
        let role: LitStr = meta.value()?.parse()?;
        if role.value().is_empty() {
            return Err(syn::Error::new(role.span(), "the role must not be empty"));
        }
        Ok(Authorize::Role(role))
    } else {
        Ok(Authorize::Authenticated)
    }
}

/// Options on the trait.
pub(crate) struct TraitOptions {
    /// `client = ChatClient` (servers only).
    pub(crate) client: Option<Path>,
    /// `authorize`: the default of every method (servers only).
    pub(crate) authorize: Option<Authorize>,
    /// `crate = "path"`: where `hub_core` lives.
    pub(crate) krate: Path,
    /// `typescript`: also describe the trait for TypeScript generation.
    pub(crate) typescript: bool,
}

/// Parses the macro's own arguments. `allow_client` is false for `#[hub_client]`.
pub(crate) fn parse_trait_options(
    args: TokenStream,
    allow_client: bool,
    errors: &mut Errors,
) -> TraitOptions {
    let mut options = TraitOptions {
        client: None,
        authorize: None,
        krate: syn::parse_quote!(::hub_core),
        typescript: false,
    };
    let accepted = if allow_client {
        "`client = Trait`, `authorize`, `authorize = \"role\"`, `typescript` or `crate = \"path\"`"
    } else {
        "`typescript` or `crate = \"path\"`"
    };
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("client") && allow_client {
            options.client = Some(meta.value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("authorize") && allow_client {
            options.authorize = Some(authorize(&meta)?);
            Ok(())
        } else if meta.path.is_ident("typescript") {
            options.typescript = true;
            Ok(())
        } else if meta.path.is_ident("crate") {
            let path: LitStr = meta.value()?.parse()?;
            options.krate = path.parse()?;
            Ok(())
        } else {
            Err(meta.error(format!("unknown option; expected {accepted}")))
        }
    });
    if let Err(error) = parser.parse2(args) {
        errors.push(error);
    }
    options
}

/// Options on a method.
#[derive(Default)]
pub(crate) struct MethodOptions {
    /// `name = "Wire"`: the wire name, and where it was written.
    pub(crate) name: Option<(String, Span)>,
    /// `authorize` / `authorize = "role"`.
    pub(crate) authorize: Option<Authorize>,
}

/// Takes our `#[hub(...)]` attributes off a method, parsing them.
pub(crate) fn take_method_options(
    attrs: &mut Vec<Attribute>,
    errors: &mut Errors,
) -> MethodOptions {
    let mut options = MethodOptions::default();
    attrs.retain(|attr| {
        if !attr.path().is_ident("hub") {
            return true;
        }
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                let name: LitStr = meta.value()?.parse()?;
                if name.value().is_empty() {
                    return Err(syn::Error::new(
                        name.span(),
                        "the wire name must not be empty",
                    ));
                }
                if options.name.is_some() {
                    return Err(meta.error("duplicate `name` option"));
                }
                options.name = Some((name.value(), name.span()));
                Ok(())
            } else if meta.path.is_ident("authorize") {
                options.authorize = Some(authorize(&meta)?);
                Ok(())
            } else {
                Err(meta.error(
                    "unknown method option; expected `name = \"WireName\"`, `authorize` or `authorize = \"role\"`",
                ))
            }
        });
        if let Err(error) = result {
            errors.push(error);
        }
        false
    });
    options
}
