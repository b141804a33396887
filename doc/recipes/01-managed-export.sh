# 1. Managed hosting export to a self-hosted Synapse.
# Run on the new server. OLD is the managed database, for example
# OLD=postgresql://3f9a2c71@old.example.com/synapse; there everything is owned
# by the opaque role 3f9a2c71 and granted to rdsadmin. Here the empty database
# synapse is owned by the role synapse, and neither of the other roles exists
# (none is created, and no REASSIGN OWNED is needed afterwards).
set -euo pipefail
pg_dump -Fd -j 4 -f synapse.dir -d "$OLD"
pgpipe-sql synapse.dir | pgpipe-inspect    # which roles, tables, rows?
# Does the new database have what the rewritten dump needs (roles, no
# clashing tables, extensions, privileges, collation C for Synapse)?
pgpipe-sql synapse.dir \
  | pgpipe-roles --map 3f9a2c71=synapse --drop rdsadmin \
  | pgpipe-inspect --target dbname=synapse --require-collation C
pgpipe-sql synapse.dir \
  | pgpipe-roles --map 3f9a2c71=synapse --drop rdsadmin --only-roles synapse \
  | pgpipe-guard \
  | psql -X -q -d synapse
rm -r synapse.dir
