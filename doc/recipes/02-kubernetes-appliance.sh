# 2. Self-hosted to an appliance database inside a Kubernetes pod.
# Run on the self-hosted server (the PG* variables point at it). The appliance
# runs in pod appliance-0 on the cluster reached through k8s.example.com; its
# installer already created the database synapse and its schema, which the dump
# replaces: pgpipe-filter --clean drops what the dump creates (IF EXISTS ...
# CASCADE) before creating it, instead of a hand-written drop-everything block.
# The stream is compressed and encrypted to restore.pub; the matching identity
# restore.key is in the pod's working directory (a mounted Secret). Inside the
# pod sh has no pipefail: pgpipe-guard makes psql commit nothing unless the
# decrypted, decompressed dump arrived complete; pgpipe inspect --target checks
# the appliance's database before the first statement reaches psql and
# withholds the dump's end if it lacks anything. Nothing is installed in the
# pod: pgpipe is one static binary, copied into its working directory first.
set -euo pipefail
scp "$(command -v pgpipe)" k8s.example.com:pgpipe
ssh k8s.example.com 'kubectl cp pgpipe appliance-0:pgpipe && rm pgpipe'
pg_dump -d synapse \
  | pgpipe-filter --clean \
  | pgpipe-zip \
  | pgpipe-age -R restore.pub \
  | ssh k8s.example.com 'kubectl exec -i appliance-0 -- sh -c "
      ./pgpipe age -d -i restore.key | ./pgpipe zip -d |
        ./pgpipe inspect --passthrough --target dbname=synapse |
        ./pgpipe guard | psql -X -q -d synapse"'
