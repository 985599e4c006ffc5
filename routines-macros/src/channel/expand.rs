//! The code of a `channel!` declaration. Every generated handle is a newtype over the
//! generic handle (`Deref` to it), so it has all its methods, takes part in `select!` and
//! `Select` (deref coercion), and costs nothing over calling `bounded(N)` by hand.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Fields, Ident, Type};

use super::parse::{Decl, Kind};
use super::validate::{capacity, snake_case, Capacity};

pub(crate) fn expand(decl: &Decl) -> TokenStream {
    match &decl.kind {
        Kind::Plain { ty } => expand_plain(decl, ty),
        Kind::Enum { .. } => expand_enum(decl),
        Kind::Static { ty, span } => expand_static(decl, ty, *span),
    }
}

/// `CAPACITY` and the expression making a `(Sender, Receiver)` pair.
fn capacity_and_constructor(decl: &Decl, ty: &TokenStream) -> (TokenStream, TokenStream) {
    let channel = quote!(::routines::channel);
    match capacity(decl) {
        Capacity::Bounded(expr) => (quote!(::core::option::Option::Some(#expr)), {
            // The check is spanned on the capacity expression, where the error points.
            let check = quote_spanned! {expr.span()=>
                const {
                    ::core::assert!(
                        CAPACITY > 0,
                        "`channel!`: capacity must be at least 1 (write `capacity = rendezvous` for 0)"
                    )
                };
            };
            quote! {{
                const CAPACITY: usize = #expr;
                #check
                #channel::bounded::<#ty>(CAPACITY)
            }}
        }),
        Capacity::Unbounded => (
            quote!(::core::option::Option::None),
            quote!(#channel::unbounded::<#ty>()),
        ),
        Capacity::Rendezvous => (
            quote!(::core::option::Option::Some(0)),
            quote!(#channel::bounded::<#ty>(0)),
        ),
    }
}

/// The `XSender` / `XReceiver` newtypes and their trait impls.
fn handles(decl: &Decl, ty: &TokenStream, owner: &str) -> (Ident, Ident, TokenStream) {
    let vis = &decl.vis;
    let sender = format_ident!("{}Sender", decl.name);
    let receiver = format_ident!("{}Receiver", decl.name);
    let channel = quote!(::routines::channel);
    let sender_doc = format!(
        "The sending half of [`{owner}`]: a `routines::channel::Sender<{}>` (`Deref`) under its own name.",
        ty.to_string().replace(' ', "")
    );
    let receiver_doc = format!(
        "The receiving half of [`{owner}`]: a `routines::channel::Receiver<{}>` (`Deref`) under its own name.",
        ty.to_string().replace(' ', "")
    );
    let code = quote! {
        #[doc = #sender_doc]
        #[derive(Debug, Clone)]
        #vis struct #sender(#channel::Sender<#ty>);

        #[doc = #receiver_doc]
        #[derive(Debug, Clone)]
        #vis struct #receiver(#channel::Receiver<#ty>);

        impl ::core::ops::Deref for #sender {
            type Target = #channel::Sender<#ty>;
            #[inline]
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        impl ::core::ops::Deref for #receiver {
            type Target = #channel::Receiver<#ty>;
            #[inline]
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        impl ::core::convert::From<#sender> for #channel::Sender<#ty> {
            fn from(handle: #sender) -> Self {
                handle.0
            }
        }

        impl ::core::convert::From<#receiver> for #channel::Receiver<#ty> {
            fn from(handle: #receiver) -> Self {
                handle.0
            }
        }

        impl ::core::iter::IntoIterator for #receiver {
            type Item = #ty;
            type IntoIter = #channel::IntoIter<#ty>;
            fn into_iter(self) -> Self::IntoIter {
                self.0.into_iter()
            }
        }

        impl<'a> ::core::iter::IntoIterator for &'a #receiver {
            type Item = #ty;
            type IntoIter = #channel::Iter<'a, #ty>;
            fn into_iter(self) -> Self::IntoIter {
                self.0.iter()
            }
        }
    };
    (sender, receiver, code)
}

fn expand_plain(decl: &Decl, ty: &Type) -> TokenStream {
    let Decl {
        attrs, vis, name, ..
    } = decl;
    let ty = quote!(#ty);
    let (capacity, make) = capacity_and_constructor(decl, &ty);
    let (sender, receiver, handles) = handles(decl, &ty, &name.to_string());
    let fallback_doc = (!attrs.iter().any(|a| a.path().is_ident("doc"))).then(|| {
        let doc = format!(
            "A channel of `{}` declared with `channel!`.",
            ty.to_string().replace(' ', "")
        );
        quote!(#[doc = #doc])
    });
    quote! {
        #(#attrs)*
        #fallback_doc
        #[derive(Debug, Clone, Copy)]
        #vis struct #name;

        impl #name {
            /// The capacity of every channel of this type (`None`: unbounded; `Some(0)`:
            /// rendezvous), as [`Sender::capacity`](::routines::channel::Sender::capacity)
            /// reports it.
            #vis const CAPACITY: ::core::option::Option<usize> = #capacity;

            /// A new channel: its sending and receiving halves.
            #[allow(clippy::new_ret_no_self, reason = "a channel is its two halves")]
            #vis fn new() -> (#sender, #receiver) {
                let (s, r) = #make;
                (#sender(s), #receiver(r))
            }
        }

        #handles
    }
}

fn expand_enum(decl: &Decl) -> TokenStream {
    let Decl {
        attrs, vis, name, ..
    } = decl;
    let Kind::Enum { variants } = &decl.kind else {
        unreachable!("an enum declaration")
    };
    let ty = quote!(#name);
    let (capacity, make) = capacity_and_constructor(decl, &ty);
    let (sender, receiver, handles) = handles(decl, &ty, &name.to_string());
    let methods = variants.iter().map(|v| {
        let variant = &v.ident;
        let name_str = snake_case(&variant.to_string());
        // `Move` -> `r#move`: keywords become raw identifiers.
        let method = if syn::parse_str::<Ident>(&name_str).is_ok() {
            Ident::new(&name_str, variant.span())
        } else {
            Ident::new_raw(&name_str, variant.span())
        };
        let docs = v.attrs.iter().filter(|a| a.path().is_ident("doc"));
        let summary = format!("Sends [`{name}::{variant}`], waiting for room (as `send`).");
        let (params, value) = match &v.fields {
            Fields::Named(fields) => {
                let names: Vec<_> = fields.named.iter().map(|f| f.ident.clone()).collect();
                let types = fields.named.iter().map(|f| &f.ty);
                (quote!(#(#names: #types),*), quote!(#name::#variant { #(#names),* }))
            }
            Fields::Unnamed(fields) => {
                let names: Vec<_> = (0..fields.unnamed.len())
                    .map(|i| format_ident!("field{}", i, span = Span::mixed_site()))
                    .collect();
                let types = fields.unnamed.iter().map(|f| &f.ty);
                (quote!(#(#names: #types),*), quote!(#name::#variant(#(#names),*)))
            }
            Fields::Unit => (quote!(), quote!(#name::#variant)),
        };
        quote_spanned! {variant.span()=>
            #[doc = #summary]
            #[doc = ""]
            #(#docs)*
            ///
            /// # Errors
            /// The message, if every receiver is gone (or the channel was closed).
            #[allow(clippy::too_many_arguments, reason = "one parameter per field")]
            #vis fn #method(&self, #params) -> ::core::result::Result<(), ::routines::channel::SendError<#name>> {
                self.0.send(#value)
            }
        }
    });
    quote! {
        #(#attrs)*
        #vis enum #name {
            #variants
        }

        impl #name {
            /// The capacity of every channel of this type (`None`: unbounded; `Some(0)`:
            /// rendezvous), as [`Sender::capacity`](::routines::channel::Sender::capacity)
            /// reports it.
            #vis const CAPACITY: ::core::option::Option<usize> = #capacity;

            /// A new channel of these messages: its sending and receiving halves.
            #vis fn channel() -> (#sender, #receiver) {
                let (s, r) = #make;
                (#sender(s), #receiver(r))
            }
        }

        impl #sender {
            #(#methods)*
        }

        #handles
    }
}

fn expand_static(decl: &Decl, ty: &Type, span: Span) -> TokenStream {
    let Decl {
        attrs, vis, name, ..
    } = decl;
    let Capacity::Bounded(capacity) = capacity(decl) else {
        unreachable!("validated: a static channel has a numeric capacity")
    };
    let static_token = quote_spanned!(span=> static);
    quote! {
        #(#attrs)*
        #vis #static_token #name: ::routines::channel::StaticChannel<#ty, { #capacity }> =
            ::routines::channel::StaticChannel::new();
    }
}
