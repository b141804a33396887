//! Byte codecs that never look at SQL: compression, encryption, digests.
