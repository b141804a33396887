# 4. One-off owner rewrite of an existing dump file.
# dump.sql is a plain pg_dump whose objects belong to 3f9a2c71, with grants to
# rdsadmin. Preview the changes, then write synapse.sql (renamed into place only
# when complete), in which synapse owns every object and rdsadmin is gone.
set -euo pipefail
pgpipe-roles --owner synapse --drop rdsadmin --dry-run --report dump.sql
pgpipe-roles --owner synapse --drop rdsadmin --only-roles synapse \
  -o synapse.sql dump.sql
