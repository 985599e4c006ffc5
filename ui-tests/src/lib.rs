//! Holds the trybuild cases under `tests/`; the library itself is empty.
