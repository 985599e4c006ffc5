//! The syntax of `channel!`: one or more declarations.
//!
//! ```text
//! channel! {
//!     /// docs
//!     pub Jobs: Job, capacity = 256;
//!     pub enum Event, capacity = 64 { Click { x: i32, y: i32 }, Key(char), Quit }
//!     pub static LOG: String, capacity = 1024;
//! }
//! ```
//! Options follow the name (and type) as `, name = value`; the value of `capacity` is a
//! `usize` const expression or one of the words `unbounded` / `rendezvous`.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, Attribute, Expr, Generics, Ident, Token, Type, Variant, Visibility};

/// One invocation.
pub(crate) struct Input {
    pub(crate) decls: Vec<Decl>,
}

/// One declared channel.
pub(crate) struct Decl {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) name: Ident,
    /// Present only to be rejected (validate.rs).
    pub(crate) generics: Generics,
    pub(crate) kind: Kind,
    pub(crate) options: Vec<Opt>,
}

pub(crate) enum Kind {
    /// `Name: Type`
    Plain { ty: Type },
    /// `enum Name { variants }`
    Enum {
        variants: Punctuated<Variant, Token![,]>,
    },
    /// `static NAME: Type`
    Static { ty: Type, span: Span },
}

/// `, name = value`
pub(crate) struct Opt {
    pub(crate) name: Ident,
    pub(crate) value: Expr,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut decls = Vec::new();
        while !input.is_empty() {
            decls.push(input.parse()?);
        }
        Ok(Self { decls })
    }
}

impl Parse for Decl {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        if input.peek(Token![enum]) {
            input.parse::<Token![enum]>()?;
            let name: Ident = input.parse()?;
            let generics: Generics = input.parse()?;
            let options = options(input)?;
            let content;
            braced!(content in input);
            let variants = Punctuated::parse_terminated(&content)?;
            // An optional `;` after the braces.
            if input.peek(Token![;]) {
                input.parse::<Token![;]>()?;
            }
            return Ok(Self {
                attrs,
                vis,
                name,
                generics,
                kind: Kind::Enum { variants },
                options,
            });
        }
        let static_span = if input.peek(Token![static]) {
            Some(input.parse::<Token![static]>()?.span)
        } else {
            None
        };
        let name: Ident = input.parse()?;
        let generics: Generics = input.parse()?;
        input.parse::<Token![:]>()?;
        let ty: Type = input.parse()?;
        let options = options(input)?;
        // `;` ends a declaration; the last one may omit it.
        if !input.is_empty() {
            input.parse::<Token![;]>()?;
        }
        let kind = match static_span {
            Some(span) => Kind::Static { ty, span },
            None => Kind::Plain { ty },
        };
        Ok(Self {
            attrs,
            vis,
            name,
            generics,
            kind,
            options,
        })
    }
}

/// `(, name = value)*`, up to the `;` or the `{` of an enum.
fn options(input: ParseStream<'_>) -> syn::Result<Vec<Opt>> {
    let mut options = Vec::new();
    while input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
        let name: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let value = Expr::parse_without_eager_brace(input)?;
        options.push(Opt { name, value });
    }
    Ok(options)
}
