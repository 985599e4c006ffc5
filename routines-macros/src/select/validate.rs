//! Checks that need the whole invocation: at most one `default` arm.

use super::parse::{ArmKind, Select};

/// All errors, combined.
pub(crate) fn validate(select: &Select) -> syn::Result<()> {
    let mut errors: Option<syn::Error> = None;
    let mut seen_default = false;
    for arm in &select.arms {
        if let ArmKind::Default { .. } = arm.kind {
            if seen_default {
                let e = syn::Error::new(
                    arm.span,
                    "duplicate `default` arm: a `select!` has at most one",
                );
                match &mut errors {
                    Some(all) => all.combine(e),
                    None => errors = Some(e),
                }
            }
            seen_default = true;
        }
    }
    if select.arms.is_empty() {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "`select!` needs at least one `recv`, `send` or `default` arm",
        ));
    }
    errors.map_or(Ok(()), Err)
}
