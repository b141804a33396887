# 3. PostgreSQL major upgrade through pg_dumpall into a new container.
# Run with the new version's client programs. OLD is the old server, for
# example OLD=postgresql://postgres@old-db; the PG* variables point at the new
# one, whose entrypoint already created the superuser postgres (and perhaps
# other roles). Roles are created only if missing, postgres's own CREATE and
# ALTER ROLE are skipped, and each database is restored in its own transaction.
set -euo pipefail
# First, does the new server have what the rewritten dump needs? (A second
# pg_dumpall: with --per-database, databases commit one by one, so a check
# in the restore pipe would come too late for the first ones.)
pg_dumpall -d "$OLD" \
  | pgpipe-filter --roles-if-not-exists --skip-role postgres \
  | pgpipe-inspect --target dbname=postgres
pg_dumpall -d "$OLD" \
  | pgpipe-filter --roles-if-not-exists --skip-role postgres \
  | pgpipe-guard --per-database \
  | psql -X -q -d postgres
