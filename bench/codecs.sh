#!/usr/bin/env bash
# Codec benchmarks: pgpipe-zip, pgpipe-age and pgpipe-sum side by side with
# the tools people use now, in one run on one dump, with the issue's goals.
#
#   bench/codecs.sh DUMPFILE            run every comparison on DUMPFILE
#   bench/codecs.sh --generate MIB      write a SQL-like dump of about MIB MiB
#                                       (COPY rows of JSON) to standard output
#
# Needs zstd, pigz, gzip, age, age-keygen, sha256sum, b3sum and GNU time
# (/usr/bin/time). Binaries come from $PGPIPE_BIN (default target/release).
# Each command runs PGPIPE_BENCH_RUNS times (default 3); the best time counts.
# Throughput is plaintext bytes per second (MB = 10^6 bytes); peak RSS is
# GNU time's maximum resident set size.
set -euo pipefail

if [ "${1:-}" = --generate ]; then
  exec python3 - "${2:-1024}" <<'PY'
import json, random, sys
limit = int(sys.argv[1]) << 20
rng = random.Random(42)
words = ["alpha", "beta", "gamma", "delta", "room", "event", "state", "m.text", "synapse", "user"]
out = sys.stdout.buffer
out.write(b"--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n\n")
written, table = 0, 0
while written < limit:
    table += 1
    head = f"COPY public.events_{table} (id, room_id, ts, doc) FROM stdin;\n".encode()
    rows = []
    for i in range(200000):
        doc = {"type": rng.choice(words),
               "sender": f"@u{rng.randint(1, 50000)}:example.org",
               "content": {"body": " ".join(rng.choice(words) for _ in range(rng.randint(2, 12))),
                           "n": rng.random()},
               "origin_server_ts": 1700000000000 + i * 37}
        rows.append(f"{i}\t!r{rng.randint(1, 900)}:example.org\t{1700000000 + i}\t{json.dumps(doc)}\n")
    chunk = "".join(rows).encode() + b"\\.\n\n"
    out.write(head + chunk)
    written += len(head) + len(chunk)
out.write(b"--\n-- PostgreSQL database dump complete\n--\n\n")
PY
fi

if [ $# -ne 1 ] || [ ! -f "$1" ]; then
  echo "usage: bench/codecs.sh DUMPFILE | --generate MIB" >&2
  exit 2
fi
dump=$1
bin=${PGPIPE_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release}
for t in pgpipe-zip pgpipe-age pgpipe-sum; do
  [ -x "$bin/$t" ] || { echo "bench/codecs.sh: $bin/$t is missing; run cargo build --release" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgpipe-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
size=$(stat -c %s "$dump")
cores=$(nproc)

# m IN OUT CMD...: run CMD <IN >OUT PGPIPE_BENCH_RUNS times (default 3);
# sets SECS to the best wall time and RSS_MIB to the largest peak RSS.
m() {
  local in=$1 out=$2 secs rss_kb best="" rss=0
  shift 2
  for _ in $(seq 1 "${PGPIPE_BENCH_RUNS:-3}"); do
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" <"$in" >"$out"
    read -r secs rss_kb <"$tmp/time"
    if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$secs; fi
    if [ "$rss_kb" -gt "$rss" ]; then rss=$rss_kb; fi
  done
  SECS=$best
  RSS_MIB=$((rss / 1024))
}
# rate SECS: plaintext MB/s.
rate() { awk -v b="$size" -v s="$1" 'BEGIN { if (s < 0.01) s = 0.01; printf "%.0f", b / 1e6 / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
peak=0
# ours: note a pgpipe stage's RSS (no subshell, so the overall peak is kept).
ours() { r="pgpipe peak RSS $RSS_MIB MiB"; if [ "$RSS_MIB" -gt "$peak" ]; then peak=$RSS_MIB; fi; }

cat "$dump" >/dev/null # warm the page cache
echo "dump: $dump, $size bytes, $cores cores"

m "$dump" "$tmp/p.zst" "$bin/pgpipe-zip" -l 3; p=$(rate "$SECS"); ours
m "$dump" "$tmp/z.zst" zstd -3 -T0 -c; z=$(rate "$SECS")
ps=$(stat -c %s "$tmp/p.zst"); zs=$(stat -c %s "$tmp/z.zst")
echo "zstd -3 compress: pgpipe $p MB/s, zstd -3 -T0 $z MB/s, ratio $(ratio "$p" "$z") (goal >= 0.95); size $ps vs $zs bytes, $(ratio "$ps" "$zs") (goal 0.99-1.01); $r"

m "$tmp/p.zst" /dev/null "$bin/pgpipe-zip" -d; p=$(rate "$SECS"); ours
m "$tmp/z.zst" /dev/null zstd -d -c; z=$(rate "$SECS")
echo "zstd decompress: pgpipe $p MB/s, zstd -d $z MB/s, ratio $(ratio "$p" "$z") (goal >= 0.95); $r"

m "$dump" "$tmp/p.gz" "$bin/pgpipe-zip" -F gzip -l 6 -T "$cores"; p=$(rate "$SECS"); ours
m "$dump" "$tmp/z.gz" pigz -6 -p "$cores" -c; z=$(rate "$SECS")
ps=$(stat -c %s "$tmp/p.gz"); zs=$(stat -c %s "$tmp/z.gz")
echo "gzip -6 compress: pgpipe $p MB/s, pigz -6 -p $cores $z MB/s, ratio $(ratio "$p" "$z") (goal >= 1.5); size $ps vs $zs bytes, $(ratio "$ps" "$zs") (goal <= 1.01); $r"

m "$tmp/p.gz" /dev/null "$bin/pgpipe-zip" -d; p=$(rate "$SECS"); ours
m "$tmp/z.gz" /dev/null gzip -d -c; z=$(rate "$SECS")
echo "gzip decompress: pgpipe $p MB/s, gzip -d $z MB/s, ratio $(ratio "$p" "$z") (goal >= 2); $r"

age-keygen -o "$tmp/key" 2>/dev/null
pub=$(age-keygen -y "$tmp/key")
m "$dump" "$tmp/p.age" "$bin/pgpipe-age" -r "$pub"; p=$(rate "$SECS"); ours
m "$dump" "$tmp/z.age" age -r "$pub"; z=$(rate "$SECS")
echo "age encrypt: pgpipe $p MB/s, age $z MB/s, ratio $(ratio "$p" "$z") (goal >= 0.9); $r"
m "$tmp/p.age" /dev/null "$bin/pgpipe-age" -d -i "$tmp/key"; p=$(rate "$SECS"); ours
m "$tmp/z.age" /dev/null age -d -i "$tmp/key"; z=$(rate "$SECS")
echo "age decrypt: pgpipe $p MB/s, age -d $z MB/s, ratio $(ratio "$p" "$z") (goal >= 0.9); $r"
rm -f "$tmp"/*.age "$tmp"/*.gz "$tmp"/*.zst

m "$dump" /dev/null "$bin/pgpipe-sum" -o "$tmp/sum"; p=$(rate "$SECS"); ours
m "$dump" /dev/null sha256sum; z=$(rate "$SECS")
echo "sha256: pgpipe $p MB/s, sha256sum $z MB/s, ratio $(ratio "$p" "$z") (goal >= 3); $r"
m "$dump" /dev/null "$bin/pgpipe-sum" -a blake3 -o "$tmp/sum"; p=$(rate "$SECS"); ours
m "$dump" /dev/null b3sum --num-threads 1; z=$(rate "$SECS")
echo "blake3: pgpipe $p MB/s, b3sum --num-threads 1 $z MB/s, ratio $(ratio "$p" "$z") (goal >= 0.9); $r"
echo "peak RSS of every pgpipe stage: $peak MiB (goal < 64)"
