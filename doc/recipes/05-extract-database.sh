# 5. Extract one database from a pg_dumpall file.
# cluster.sql is a nightly pg_dumpall of the whole cluster; only the database
# synapse is restored (created by its own CREATE DATABASE), without the roles
# and other cluster-wide objects, which the target server already has.
set -euo pipefail
pgpipe-filter --database synapse --no-globals cluster.sql \
  | pgpipe-guard --per-database \
  | psql -X -q -d postgres
