//! The code of a `select!`: the handles are evaluated once, in order; every operation
//! becomes a `RecvOp` / `SendOp` on the stack (no allocation); `run` picks one; the chosen
//! arm takes the received result (or evaluates the message and completes the send), every
//! operation is dropped (releasing the others' borrows), and the body runs.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use super::parse::{ArmKind, Select};

pub(crate) fn expand(select: &Select, biased: &TokenStream) -> TokenStream {
    let private = quote!(::routines::channel::__private);
    let site = Span::mixed_site();
    let mut setup = Vec::new();
    let mut ops = Vec::new();
    let mut arms = Vec::new();
    let mut default = None;
    for arm in &select.arms {
        let body = &arm.body;
        match &arm.kind {
            ArmKind::Recv { receiver, pat } => {
                let i = ops.len();
                let handle = format_ident!("__routines_handle{}", i, span = site);
                let op = format_ident!("__routines_op{}", i, span = site);
                setup.push((
                    quote!(&#receiver),
                    quote_spanned! {site=>
                        let #handle: &::routines::channel::Receiver<_> = #handle;
                        let mut #op = #private::RecvOp::new(#handle);
                    },
                    handle.clone(),
                ));
                ops.push(op.clone());
                arms.push((
                    i,
                    quote_spanned! {site=> let __routines_result = #op.take(); },
                    pat,
                    body,
                ));
            }
            ArmKind::Send {
                sender,
                message,
                pat,
            } => {
                let i = ops.len();
                let handle = format_ident!("__routines_handle{}", i, span = site);
                let op = format_ident!("__routines_op{}", i, span = site);
                setup.push((
                    quote!(&#sender),
                    quote_spanned! {site=>
                        let #handle: &::routines::channel::Sender<_> = #handle;
                        let mut #op = #private::SendOp::new(#handle);
                    },
                    handle.clone(),
                ));
                ops.push(op.clone());
                arms.push((
                    i,
                    quote_spanned! {site=> let __routines_result = #op.complete(#message); },
                    pat,
                    body,
                ));
            }
            ArmKind::Default { timeout } => default = Some((timeout, body)),
        }
    }
    let timeout = match default {
        None => quote!(#private::Timeout::At(::core::option::Option::None)),
        Some((None, _)) => quote!(#private::Timeout::Now),
        Some((Some(t), _)) => quote!(#private::timeout_after(#t)),
    };
    let default_body = match default {
        Some((_, body)) => quote!(#body),
        None => quote!(::core::unreachable!(
            "a `select!` without `default` never times out"
        )),
    };
    let match_arms = arms.iter().map(|(i, take, pat, body)| {
        quote_spanned! {site=>
            ::core::option::Option::Some(#i) => {
                #take
                #( #private::release(#ops); )*
                let #pat = __routines_result;
                #body
            }
        }
    });
    let bindings = setup.iter().map(|(_, bind, _)| bind);
    let count = ops.len();
    let inner = quote_spanned! {site=>
        {
            #( #bindings )*
            let mut __routines_ops: [&mut dyn #private::Operation<'_>; #count] =
                [ #( #private::op(&mut #ops) ),* ];
            let __routines_index = #private::run(
                &mut __routines_ops,
                __routines_timeout,
                #biased,
                #private::Mode::Select,
            );
            match __routines_index {
                #( #match_arms )*
                ::core::option::Option::None => {
                    #( #private::release(#ops); )*
                    #default_body
                }
                _ => ::core::unreachable!(),
            }
        }
    };
    // Each handle expression is the scrutinee of a `match`, so temporaries in it live until
    // the selection is over (as in crossbeam-channel's macro).
    let nested = setup.iter().rev().fold(inner, |inner, (expr, _, handle)| {
        quote_spanned! {site=> match #expr { #handle => #inner } }
    });
    quote_spanned! {site=>
        {
            let __routines_timeout = #timeout;
            #nested
        }
    }
}
