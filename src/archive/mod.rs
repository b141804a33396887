//! pg_dump archives (custom, directory, tar) read as streams.
