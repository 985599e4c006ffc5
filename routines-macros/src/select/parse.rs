//! The syntax of `select!` (crossbeam-channel's):
//!
//! ```text
//! select! {
//!     recv(receiver) -> pattern => body,
//!     send(sender, message) -> pattern => body,
//!     default => body,               // or `default() => body`
//!     default(timeout) => body,
//! }
//! ```
//! A body is an expression; a comma after it is required unless it is a block (or the last
//! arm). Trailing commas inside the parentheses are accepted.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{parenthesized, Expr, Pat, Token};

mod kw {
    syn::custom_keyword!(recv);
    syn::custom_keyword!(send);
    syn::custom_keyword!(default);
}

/// One invocation.
pub(crate) struct Select {
    pub(crate) arms: Vec<Arm>,
}

/// One arm.
pub(crate) struct Arm {
    pub(crate) kind: ArmKind,
    pub(crate) body: Expr,
    /// The arm's keyword, for errors.
    pub(crate) span: Span,
}

pub(crate) enum ArmKind {
    Recv {
        receiver: Expr,
        pat: Pat,
    },
    Send {
        sender: Expr,
        message: Expr,
        pat: Pat,
    },
    /// `default` (`None`) or `default(timeout)`.
    Default {
        timeout: Option<Expr>,
    },
}

impl Parse for Select {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut arms = Vec::new();
        while !input.is_empty() {
            arms.push(input.parse()?);
        }
        Ok(Self { arms })
    }
}

/// The expressions inside `(...)`, with an optional trailing comma.
fn args(input: ParseStream<'_>) -> syn::Result<Vec<Expr>> {
    let content;
    parenthesized!(content in input);
    let args = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
    Ok(args.into_iter().collect())
}

/// `-> pattern`
fn result_pattern(input: ParseStream<'_>) -> syn::Result<Pat> {
    input.parse::<Token![->]>()?;
    Pat::parse_single(input)
}

impl Parse for Arm {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let lookahead = input.lookahead1();
        let span = input.span();
        let kind = if lookahead.peek(kw::recv) {
            input.parse::<kw::recv>()?;
            let args_span = input.span();
            let mut a = args(input)?;
            if a.len() != 1 {
                return Err(syn::Error::new(
                    args_span,
                    "`recv` takes one argument: `recv(receiver) -> result => body`",
                ));
            }
            let receiver = a.remove(0);
            ArmKind::Recv {
                receiver,
                pat: result_pattern(input)?,
            }
        } else if lookahead.peek(kw::send) {
            input.parse::<kw::send>()?;
            let args_span = input.span();
            let mut a = args(input)?;
            if a.len() != 2 {
                return Err(syn::Error::new(
                    args_span,
                    "`send` takes two arguments: `send(sender, message) -> result => body`",
                ));
            }
            let message = a.remove(1);
            let sender = a.remove(0);
            ArmKind::Send {
                sender,
                message,
                pat: result_pattern(input)?,
            }
        } else if lookahead.peek(kw::default) {
            input.parse::<kw::default>()?;
            let timeout = if input.peek(syn::token::Paren) {
                let args_span = input.span();
                let mut a = args(input)?;
                if a.len() > 1 {
                    return Err(syn::Error::new(
                        args_span,
                        "`default` takes at most one argument: `default(timeout) => body`",
                    ));
                }
                a.pop()
            } else {
                None
            };
            ArmKind::Default { timeout }
        } else {
            return Err(lookahead.error());
        };
        input.parse::<Token![=>]>()?;
        let body = Expr::parse_with_earlier_boundary_rule(input)?;
        let block_like = matches!(
            body,
            Expr::Block(_)
                | Expr::If(_)
                | Expr::Match(_)
                | Expr::Loop(_)
                | Expr::While(_)
                | Expr::ForLoop(_)
                | Expr::Unsafe(_)
                | Expr::TryBlock(_)
        );
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        } else if !block_like && !input.is_empty() {
            return Err(input.error("expected `,` after the arm's body"));
        }
        Ok(Self { kind, body, span })
    }
}
