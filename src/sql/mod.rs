//! What a statement means, decided by PostgreSQL's own parser (`pg_query`).
