//! Procedural macros for `routines`, re-exported by it: `select!` / `select_biased!` (over
//! `routines::channel`). `channel!` and `genserver!` arrive with their issues.
//!
//! Layout per macro: `parse.rs` (syntax into a model that keeps spans), `validate.rs`
//! (collects every error), `expand.rs` (the generated code).

use proc_macro::TokenStream;

mod select;

/// Waits on several channel operations and runs the arm of the one that completes; see
/// `routines::select!`.
#[proc_macro]
pub fn select(input: TokenStream) -> TokenStream {
    select::entry_with_bias(input.into(), quote::quote!(false)).into()
}

/// `select!` that prefers the arms in the order they are written; see
/// `routines::select_biased!`.
#[proc_macro]
pub fn select_biased(input: TokenStream) -> TokenStream {
    select::entry_with_bias(input.into(), quote::quote!(true)).into()
}

/// `select!` whose bias is the constant `_IS_BIASED` in scope at the call site: the hidden
/// macro crossbeam-channel's own `select!` expands to, which some code (crossbeam's test
/// suite among it) calls by name. Not public API.
#[doc(hidden)]
#[proc_macro]
pub fn crossbeam_channel_internal(input: TokenStream) -> TokenStream {
    select::entry_with_bias(input.into(), quote::quote!(_IS_BIASED)).into()
}
