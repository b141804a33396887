//! pgpipe-sql: a pg_dump archive (custom, directory or tar) as the plain SQL
//! that `pg_restore -f -` prints, without pg_restore.
//!
//! The tool is [`pgpipe::tool::sql`].

fn main() {
    pgpipe::tool::sql::main()
}
