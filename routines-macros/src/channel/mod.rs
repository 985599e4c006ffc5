//! `channel!`: named channel types from short declarations (grammar in spec/macros.md).

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

/// Parses, validates and expands one invocation; errors become `compile_error!`s.
pub(crate) fn entry(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<parse::Input>(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    if let Err(e) = validate::validate(&input) {
        return e.to_compile_error();
    }
    input.decls.iter().map(expand::expand).collect()
}
