//! age encryption.
