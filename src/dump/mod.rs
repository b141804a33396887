//! Reading a plain-format dump stream, byte-exact.
