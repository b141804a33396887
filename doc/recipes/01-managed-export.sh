# 1. Managed hosting export to a self-hosted Synapse.
# Run on the new server, where the export the managed host offers was
# downloaded: a zip file holding the pg_dump directory archive
# UNIQUEID-live-example.org-synapse-database.dir/. It is read where it lies:
# nothing is unzipped, so the disk needs no second or third copy. In the
# export everything is owned by the opaque role 3f9a2c71 and granted to
# rdsadmin. Here the empty database synapse is owned by the role synapse,
# and neither of the other roles exists (none is created, and no REASSIGN
# OWNED is needed afterwards).
set -euo pipefail
export_zip=example.org-synapse-database.zip
pgpipe-sql "$export_zip" | pgpipe-inspect    # which roles, tables, rows?
# Does the new database have what the rewritten dump needs (roles, no
# clashing tables, extensions, privileges, collation C for Synapse)?
pgpipe-sql "$export_zip" \
  | pgpipe-roles --map 3f9a2c71=synapse --drop rdsadmin \
  | pgpipe-inspect --target dbname=synapse --require-collation C
pgpipe-sql "$export_zip" \
  | pgpipe-roles --map 3f9a2c71=synapse --drop rdsadmin --only-roles synapse \
  | pgpipe-guard \
  | psql -X -q -d synapse
