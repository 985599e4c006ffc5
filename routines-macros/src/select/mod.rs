//! `select!` / `select_biased!`: crossbeam-channel's macro syntax over `routines::channel`.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

/// Parses, validates and expands one invocation; errors become `compile_error!`s. `biased`
/// is a `bool` expression.
pub(crate) fn entry_with_bias(input: TokenStream, biased: TokenStream) -> TokenStream {
    let select = match syn::parse2::<parse::Select>(input) {
        Ok(select) => select,
        Err(e) => return e.to_compile_error(),
    };
    if let Err(e) = validate::validate(&select) {
        return e.to_compile_error();
    }
    expand::expand(&select, &biased)
}
