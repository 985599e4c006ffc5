//! Checks on a parsed `channel!`: every error is collected and reported on the offending
//! tokens (duplicates at the second occurrence).

use std::collections::HashMap;

use quote::ToTokens;
use syn::{Expr, Lit};

use super::parse::{Decl, Input, Kind};

/// The capacity of a declaration, as written.
pub(crate) enum Capacity<'a> {
    /// A `usize` const expression (`>= 1`).
    Bounded(&'a Expr),
    Unbounded,
    Rendezvous,
}

/// The single word of an expression like `unbounded`, if it is one.
fn word(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            p.path.get_ident().map(ToString::to_string)
        }
        _ => None,
    }
}

/// The capacity option of a (validated) declaration.
pub(crate) fn capacity(decl: &Decl) -> Capacity<'_> {
    let value = &decl
        .options
        .iter()
        .find(|o| o.name == "capacity")
        .expect("validated: a capacity")
        .value;
    match word(value).as_deref() {
        Some("unbounded") => Capacity::Unbounded,
        Some("rendezvous") => Capacity::Rendezvous,
        _ => Capacity::Bounded(value),
    }
}

/// Methods of `Sender` that a generated typed sender must not shadow.
const SENDER_METHODS: &[&str] = &[
    "send",
    "try_send",
    "send_timeout",
    "send_deadline",
    "len",
    "is_empty",
    "is_full",
    "capacity",
    "same_channel",
    "close",
    "is_disconnected",
    "clone",
    "into_inner",
];

/// `ClickTwice` -> `click_twice`
pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        let e = syn::Error::new_spanned(tokens, message);
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }
}

/// All errors of the invocation, combined.
pub(crate) fn validate(input: &Input) -> syn::Result<()> {
    let mut errors = Errors(None);
    if input.decls.is_empty() {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "`channel!` needs a declaration, e.g. `pub Jobs: Job, capacity = 256;`",
        ));
    }
    for decl in &input.decls {
        validate_decl(decl, &mut errors);
    }
    errors.0.map_or(Ok(()), Err)
}

fn validate_decl(decl: &Decl, errors: &mut Errors) {
    if !decl.generics.params.is_empty() || decl.generics.where_clause.is_some() {
        errors.push(
            &decl.generics,
            "`channel!` does not take generics: name a concrete message type",
        );
    }
    let mut seen = HashMap::new();
    for opt in &decl.options {
        let name = opt.name.to_string();
        if name != "capacity" {
            errors.push(
                &opt.name,
                format!("unknown option `{name}`: the only option is `capacity`"),
            );
            continue;
        }
        if seen.insert(name.clone(), ()).is_some() {
            errors.push(&opt.name, format!("duplicate option `{name}`"));
            continue;
        }
        if let Expr::Lit(lit) = &opt.value {
            if let Lit::Int(int) = &lit.lit {
                if int.base10_parse::<u128>().is_ok_and(|v| v == 0) {
                    errors.push(
                        &opt.value,
                        "capacity 0: write `capacity = rendezvous` for a channel where a send \
                         waits for a receiver",
                    );
                }
            }
        }
        let w = word(&opt.value);
        if let (Kind::Static { .. }, Some("unbounded")) = (&decl.kind, w.as_deref()) {
            errors.push(
                &opt.value,
                "a `static` channel cannot be `unbounded`: its storage is fixed at compile \
                 time; give a capacity",
            );
        }
        if let (Kind::Static { .. }, Some("rendezvous")) = (&decl.kind, w.as_deref()) {
            errors.push(
                &opt.value,
                "a `static` channel needs a capacity of at least 1 (`rendezvous` is not \
                 supported for `static`)",
            );
        }
    }
    if !seen.contains_key("capacity") {
        errors.push(
            &decl.name,
            format!(
                "missing `capacity` for `{}`: add `, capacity = N` (or `unbounded`, \
                 `rendezvous`) after the {}",
                decl.name,
                if matches!(decl.kind, Kind::Enum { .. }) {
                    "name"
                } else {
                    "message type"
                }
            ),
        );
    }
    if let Kind::Enum { variants } = &decl.kind {
        if variants.is_empty() {
            errors.push(&decl.name, "an `enum` channel needs at least one variant");
        }
        let mut names = HashMap::new();
        for v in variants {
            let name = v.ident.to_string();
            if names.insert(name.clone(), ()).is_some() {
                errors.push(&v.ident, format!("duplicate variant `{name}`"));
                continue;
            }
            let method = snake_case(&name);
            if ["self", "super", "crate"].contains(&method.as_str()) {
                errors.push(
                    &v.ident,
                    format!("variant `{name}` would generate a method named `{method}`, which Rust does not allow; rename the variant"),
                );
                continue;
            }
            if SENDER_METHODS.contains(&method.as_str()) {
                errors.push(
                    &v.ident,
                    format!(
                        "variant `{name}` would generate `{}Sender::{method}`, which would hide \
                         the generic `Sender::{method}`; rename the variant",
                        decl.name
                    ),
                );
            }
        }
    }
}
