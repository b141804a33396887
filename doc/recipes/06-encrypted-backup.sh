# 6. Compressed, encrypted, checksummed backup to a file, and its restore.
# The key pair is made once; backup.key belongs offline, only backup.pub is
# needed to make backups. The .sha256 file also checks with `sha256sum -c`.
set -euo pipefail
[ -e backup.key ] || pgpipe-age --keygen -o backup.key > backup.pub
pg_dump -d synapse \
  | pgpipe-zip \
  | pgpipe-age -R backup.pub \
  | pgpipe-sum --name synapse.sql.zst.age -o synapse.sql.zst.age.sha256 \
  > synapse.sql.zst.age

# Restore into a new database: nothing is committed unless the file matches
# its checksum, decrypts, decompresses and ends like a complete dump.
createdb synapse_restored
pgpipe-sum -c synapse.sql.zst.age.sha256 synapse.sql.zst.age \
  | pgpipe-age -d -i backup.key \
  | pgpipe-zip -d \
  | pgpipe-guard \
  | psql -X -q -d synapse_restored
