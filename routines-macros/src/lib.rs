//! Procedural macros for `routines`. The `channel!` and `genserver!` macros arrive with the
//! channel and actor issues; until then this crate only reserves its place in the workspace.
