#!/usr/bin/env bash
# Codec benchmarks: pgpipe-zip, pgpipe-age and pgpipe-sum side by side with
# the tools people use now, in one run on one dump, with the issue's goals.
#
#   bench/codecs.sh DUMPFILE            run every comparison on DUMPFILE
#   bench/codecs.sh --generate MIB      write a SQL-like dump of about MIB MiB
#                                       (COPY rows of JSON) to standard output
#
# Needs zstd, pigz, gzip, age, age-keygen, sha256sum, b3sum and GNU time
# (/usr/bin/time). Binaries come from $PGPIPE_BIN (default target/x86_64-unknown-linux-gnu/release).
# Each pgpipe command and its reference run alternately, PGPIPE_BENCH_RUNS
# times each (default 5); the best time of each counts.
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
bin=${PGPIPE_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/x86_64-unknown-linux-gnu/release}
for t in pgpipe-zip pgpipe-age pgpipe-sum; do
  [ -x "$bin/$t" ] || { echo "bench/codecs.sh: $bin/$t is missing; run cargo build --release" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgpipe-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
size=$(stat -c %s "$dump")
cores=$(nproc)

# pair IN_A OUT_A CMD_A... -- IN_B OUT_B CMD_B...: run A (pgpipe) and B (the
# reference) alternately, PGPIPE_BENCH_RUNS times each (default 5), so drift
# in the machine's speed falls on both alike. Sets A_SECS and B_SECS to the
# best wall times and RSS_MIB to A's largest peak RSS.
pair() {
  local a=() b=() i rss=0 secs rss_kb
  while [ "$1" != -- ]; do a+=("$1"); shift; done
  shift
  b=("$@")
  A_SECS="" B_SECS=""
  for i in $(seq 1 "${PGPIPE_BENCH_RUNS:-5}"); do
    /usr/bin/time -f "%e %M" -o "$tmp/time" "${a[@]:2}" <"${a[0]}" >"${a[1]}"
    read -r secs rss_kb <"$tmp/time"
    if [ -z "$A_SECS" ] || awk -v x="$secs" -v y="$A_SECS" 'BEGIN { exit !(x < y) }'; then A_SECS=$secs; fi
    if [ "$rss_kb" -gt "$rss" ]; then rss=$rss_kb; fi
    /usr/bin/time -f "%e %M" -o "$tmp/time" "${b[@]:2}" <"${b[0]}" >"${b[1]}"
    read -r secs rss_kb <"$tmp/time"
    if [ -z "$B_SECS" ] || awk -v x="$secs" -v y="$B_SECS" 'BEGIN { exit !(x < y) }'; then B_SECS=$secs; fi
  done
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

pair "$dump" "$tmp/p.zst" "$bin/pgpipe-zip" -l 3 -- "$dump" "$tmp/z.zst" zstd -3 -T0 -c
p=$(rate "$A_SECS"); z=$(rate "$B_SECS"); ours
ps=$(stat -c %s "$tmp/p.zst"); zs=$(stat -c %s "$tmp/z.zst")
echo "zstd -3 compress: pgpipe $p MB/s, zstd -3 -T0 $z MB/s, ratio $(ratio "$p" "$z") (goal >= 0.95); size $ps vs $zs bytes, $(ratio "$ps" "$zs") (goal 0.99-1.01); $r"

pair "$tmp/p.zst" /dev/null "$bin/pgpipe-zip" -d -- "$tmp/z.zst" /dev/null zstd -d -c
p=$(rate "$A_SECS"); z=$(rate "$B_SECS"); ours
echo "zstd decompress: pgpipe $p MB/s, zstd -d $z MB/s, ratio $(ratio "$p" "$z") (goal >= 0.95); $r"

pair "$dump" "$tmp/p.gz" "$bin/pgpipe-zip" -F gzip -l 6 -T "$cores" -- "$dump" "$tmp/z.gz" pigz -6 -p "$cores" -c
p=$(rate "$A_SECS"); z=$(rate "$B_SECS"); ours
ps=$(stat -c %s "$tmp/p.gz"); zs=$(stat -c %s "$tmp/z.gz")
echo "gzip -6 compress: pgpipe $p MB/s, pigz -6 -p $cores $z MB/s, ratio $(ratio "$p" "$z") (goal >= 1.5); size $ps vs $zs bytes, $(ratio "$ps" "$zs") (goal <= 1.01); $r"

pair "$tmp/p.gz" /dev/null "$bin/pgpipe-zip" -d -- "$tmp/z.gz" /dev/null gzip -d -c
p=$(rate "$A_SECS"); z=$(rate "$B_SECS"); ours
echo "gzip decompress: pgpipe $p MB/s, gzip -d $z MB/s, ratio $(ratio "$p" "$z") (goal >= 2); $r"

age-keygen -o "$tmp/key" 2>/dev/null
pub=$(age-keygen -y "$tmp/key")
pair "$dump" "$tmp/p.age" "$bin/pgpipe-age" -r "$pub" -- "$dump" "$tmp/z.age" age -r "$pub"
p=$(rate "$A_SECS"); z=$(rate "$B_SECS"); ours
echo "age encrypt: pgpipe $p MB/s, age $z MB/s, ratio $(ratio "$p" "$z") (goal >= 0.9); $r"
pair "$tmp/p.age" /dev/null "$bin/pgpipe-age" -d -i "$tmp/key" -- "$tmp/z.age" /dev/null age -d -i "$tmp/key"
p=$(rate "$A_SECS"); z=$(rate "$B_SECS"); ours
echo "age decrypt: pgpipe $p MB/s, age -d $z MB/s, ratio $(ratio "$p" "$z") (goal >= 0.9); $r"
rm -f "$tmp"/*.age "$tmp"/*.gz "$tmp"/*.zst

pair "$dump" /dev/null "$bin/pgpipe-sum" -o "$tmp/sum" -- "$dump" /dev/null sha256sum
p=$(rate "$A_SECS"); z=$(rate "$B_SECS"); ours
echo "sha256: pgpipe $p MB/s, sha256sum $z MB/s, ratio $(ratio "$p" "$z") (goal >= 3); $r"
pair "$dump" /dev/null "$bin/pgpipe-sum" -a blake3 -o "$tmp/sum" -- "$dump" /dev/null b3sum --num-threads 1
p=$(rate "$A_SECS"); z=$(rate "$B_SECS"); ours
echo "blake3: pgpipe $p MB/s, b3sum --num-threads 1 $z MB/s, ratio $(ratio "$p" "$z") (goal >= 0.9); $r"
echo "peak RSS of every pgpipe stage: $peak MiB (goal < 64)"
