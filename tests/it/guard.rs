//! `pgpipe-guard` under fault injection, against real PostgreSQL 15 and 18:
//! for every pipeline shape (plain, gzip, zstd, age, zstd+age, sealed, a
//! producer killed mid-stream) the stream is cut or corrupted at offsets
//! covering every boundary class plus pseudo-random ones, replayed through
//! decoders | pgpipe-guard | psql (no ON_ERROR_STOP of ours), and the target
//! database must stay empty. The uncut stream of each shape must restore
//! fully. Also: the guard adds only its own lines, and `--per-database`
//! keeps completed databases of a pg_dumpall replay and rolls back the cut one.

use crate::support;
use std::sync::LazyLock;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::{RESTRICT_KEY, Server, Version, bin, exit_code, fixture, run};

static GUARD: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-guard"));
static ZIP: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-zip"));
static AGE: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-age"));
static SUM: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-sum"));

/// Cases per shape and version.
const CASES: usize = 100;

/// The tables whose digests must survive every uncut restore.
const TABLES: &[&str] = &["app.t1", "\"Weird Schema\".\"My Table\""];

/// Counts user objects in a database: relations, functions and types
/// outside the system schemas, schemas other than `public`, and extensions
/// other than plpgsql. Zero means nothing of the dump was committed.
const USER_OBJECTS: &str = "SELECT \
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%') \
  + (SELECT count(*) FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema') \
    AND nspname NOT LIKE 'pg\\_%') \
  + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')) \
  + (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql')";

/// A fixed-seed xorshift generator: the same cases in every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Plain,
    Gzip,
    Zstd,
    Age,
    ZstdAge,
    Seal,
    Killed,
}

const SHAPES: &[Shape] = &[
    Shape::Plain,
    Shape::Gzip,
    Shape::Zstd,
    Shape::Age,
    Shape::ZstdAge,
    Shape::Seal,
    Shape::Killed,
];

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Plain => "plain",
            Shape::Gzip => "pgpipe-zip gzip",
            Shape::Zstd => "pgpipe-zip zstd",
            Shape::Age => "pgpipe-age",
            Shape::ZstdAge => "zip(zstd) + age",
            Shape::Seal => "pgpipe-sum --seal",
            Shape::Killed => "producer killed",
        }
    }

    /// Plain SQL cannot show a flipped byte: only cuts for those shapes.
    fn corruptible(self) -> bool {
        !matches!(self, Shape::Plain | Shape::Killed)
    }
}

/// One version's material: the fixture dump, an age identity, and the
/// sender-side bytes of each shape.
struct Ctx {
    version: Version,
    identity: PathBuf,
    recipient: String,
}

fn q(p: impl AsRef<Path>) -> String {
    format!("'{}'", p.as_ref().display())
}

impl Ctx {
    fn new(version: Version) -> Ctx {
        let fx = fixture(version);
        let dir = fx.server.new_dir("guard-age");
        let identity = dir.join("key.txt");
        let out = run(
            Command::new(*AGE).arg("--keygen").arg("-o").arg(&identity),
            None,
        );
        assert_eq!(
            exit_code(&out),
            0,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let recipient = String::from_utf8(out.stdout).unwrap().trim().to_string();
        Ctx {
            version,
            identity,
            recipient,
        }
    }

    /// The sender side: the encoders a shape runs over the plain dump.
    fn encoders(&self, shape: Shape) -> String {
        let age = format!("{} -r '{}'", q(*AGE), self.recipient);
        match shape {
            Shape::Plain | Shape::Killed => "cat".into(),
            Shape::Gzip => format!("{} -F gzip", q(*ZIP)),
            Shape::Zstd => format!("{} -F zstd", q(*ZIP)),
            Shape::Age => age,
            Shape::ZstdAge => format!("{} -F zstd | {age}", q(*ZIP)),
            Shape::Seal => format!("{} --seal 2>/dev/null", q(*SUM)),
        }
    }

    /// The receiver side before the guard (ends with `|`, or is empty).
    fn decoders(&self, shape: Shape) -> String {
        let age = format!("{} -d -i {} | ", q(*AGE), q(&self.identity));
        let zip = format!("{} -d | ", q(*ZIP));
        match shape {
            Shape::Plain | Shape::Killed | Shape::Seal => String::new(),
            Shape::Gzip | Shape::Zstd => zip,
            Shape::Age => age,
            Shape::ZstdAge => format!("{age}{zip}"),
        }
    }

    fn guard_args(&self, shape: Shape) -> &'static str {
        if shape == Shape::Seal {
            " --require-seal"
        } else {
            ""
        }
    }

    fn encode(&self, shape: Shape, plain: &[u8]) -> Vec<u8> {
        let out = run(
            Command::new("bash")
                .arg("-o")
                .arg("pipefail")
                .arg("-c")
                .arg(self.encoders(shape)),
            Some(plain),
        );
        assert_eq!(
            exit_code(&out),
            0,
            "{shape:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// The receiver pipeline into `db`; reports every stage's status on
    /// stderr's last line.
    fn receiver(&self, shape: Shape, db: &str) -> Command {
        let script = format!(
            "{}{}{} | {} -X -d '{db}'; s=(\"${{PIPESTATUS[@]}}\"); echo \"STATUS ${{s[*]}}\" >&2",
            self.decoders(shape),
            q(*GUARD),
            self.guard_args(shape),
            q(bin(self.version, "psql")),
        );
        let mut cmd = Command::new("bash");
        cmd.arg("-c").arg(script);
        fixture(self.version).server.with_env(&mut cmd);
        cmd
    }
}

/// What one receiver run gave.
struct Outcome {
    /// With pipefail: the rightmost non-zero stage status.
    pipeline: i32,
    psql: i32,
    stderr: String,
}

fn outcome(out: std::process::Output) -> Outcome {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(exit_code(&out), 0, "bash failed: {stderr}");
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("STATUS "))
        .unwrap_or_else(|| panic!("no STATUS line: {stderr}"));
    let codes: Vec<i32> = line[7..].split(' ').map(|s| s.parse().unwrap()).collect();
    Outcome {
        pipeline: codes.iter().rev().copied().find(|&c| c != 0).unwrap_or(0),
        psql: *codes.last().unwrap(),
        stderr,
    }
}

fn receive(ctx: &Ctx, shape: Shape, db: &str, stream: &[u8]) -> Outcome {
    outcome(run(&mut ctx.receiver(shape, db), Some(stream)))
}

/// The killed-producer shape: a real pg_dump of db1 writes into a pipe we
/// hold; after `cut` bytes have gone on to the receiver pg_dump is killed
/// with SIGKILL and the receiver's input closed.
fn receive_killed(ctx: &Ctx, db: &str, cut: usize) -> Outcome {
    let server = &fixture(ctx.version).server;
    let mut dump = server.command("pg_dump");
    dump.arg(format!("--restrict-key={RESTRICT_KEY}"))
        .arg("-d")
        .arg("db1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut producer = dump.spawn().expect("pg_dump");
    let mut receiver = ctx.receiver(Shape::Killed, db);
    receiver
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = receiver.spawn().expect("receiver");
    let mut sink = child.stdin.take().unwrap();
    let mut source = producer.stdout.take().unwrap();
    let mut sent = 0;
    let mut buf = vec![0u8; 8192];
    while sent < cut {
        let want = buf.len().min(cut - sent);
        let n = source.read(&mut buf[..want]).expect("read pg_dump");
        if n == 0 {
            break;
        }
        if sink.write_all(&buf[..n]).is_err() {
            break;
        }
        sent += n;
    }
    producer.kill().expect("kill pg_dump");
    let _ = producer.wait();
    drop(source);
    drop(sink);
    outcome(child.wait_with_output().expect("receiver"))
}

/// The offset just past the last byte of the last line, `\unrestrict KEY`
/// (before its newline): a cut at or beyond it leaves the whole dump and the
/// whole key, only without the final line ends, and committing it is right.
fn content_end(plain: &[u8]) -> usize {
    let mut end = plain.len();
    while end > 0 && plain[end - 1] == b'\n' {
        end -= 1;
    }
    end
}

fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// Cut offsets in the plain dump, by boundary class (each strictly inside
/// the content, so every one removes something).
fn plain_boundaries(plain: &[u8]) -> Vec<usize> {
    let end = content_end(plain);
    let mut v: Vec<usize> = vec![0, 1, 2, 10, 40, 100];
    // header: the \restrict line
    for p in find_all(plain, b"\\restrict ").into_iter().take(1) {
        v.extend([p.saturating_sub(1), p, p + 1, p + 11, p + 14]);
    }
    // statements: at the start, inside, at the `;`, just after it
    for pat in [
        &b"\nCREATE "[..],
        b"\nALTER ",
        b"\nGRANT ",
        b"\nCOMMENT ",
        b"\nSET ",
        b"\nSELECT ",
    ] {
        for p in find_all(plain, pat).into_iter().step_by(4).take(6) {
            v.extend([p + 1, p + 4]);
            if let Some(semi) = plain[p..].windows(2).position(|w| w == b";\n") {
                v.extend([p + semi, p + semi + 1]);
            }
        }
    }
    // function bodies
    for p in find_all(plain, b"RAISE NOTICE").into_iter().take(3) {
        v.extend([p, p + 6, p + 14]);
    }
    // COPY: its line, its rows, the terminator
    for p in find_all(plain, b"\nCOPY ") {
        v.extend([p + 1, p + 6]);
        let Some(nl) = plain[p + 1..].iter().position(|&b| b == b'\n') else {
            continue;
        };
        let data = p + 1 + nl + 1;
        v.extend([data - 2, data - 1, data, data + 1]);
        let Some(term) = find_all(&plain[data - 1..], b"\n\\.\n").first().copied() else {
            continue;
        };
        let term = data - 1 + term;
        // rows: a few row starts and middles
        let rows: Vec<usize> = find_all(&plain[data..term.max(data)], b"\n")
            .into_iter()
            .map(|i| data + i + 1)
            .collect();
        for &r in rows.iter().step_by(rows.len().max(3) / 3).take(3) {
            v.extend([r, r + 1, r + 3]);
        }
        v.extend([term, term + 1, term + 2, term + 3]);
    }
    // footer and the final \unrestrict
    if let Some(&f) = find_all(plain, b"-- PostgreSQL database dump complete").last() {
        v.extend([f - 4, f, f + 3, f + 20, f + 36]);
    }
    if let Some(&u) = find_all(plain, b"\\unrestrict ").last() {
        v.extend([
            u - 2,
            u - 1,
            u,
            u + 1,
            u + 11,
            u + 12,
            u + 14,
            end - 2,
            end - 1,
        ]);
    }
    v.retain(|&o| o < end);
    v.sort();
    v.dedup();
    v
}

/// Offsets in an encoded stream: the plain boundaries mapped in proportion,
/// and the codec's own boundaries (headers, trailers, members, frames, age
/// header and chunks).
fn codec_boundaries(shape: Shape, plain: &[u8], stream: &[u8]) -> Vec<usize> {
    let n = stream.len();
    let mut v: Vec<usize> = (0..24).collect();
    v.extend((1..=24).map(|k| n - k));
    for p in plain_boundaries(plain).into_iter().step_by(3) {
        v.push(p * n / plain.len());
    }
    match shape {
        Shape::Gzip => {
            for m in find_all(stream, &[0x1f, 0x8b, 0x08]) {
                v.extend([
                    m.saturating_sub(8),
                    m.saturating_sub(1),
                    m,
                    m + 1,
                    m + 3,
                    m + 10,
                ]);
            }
        }
        Shape::Zstd => {
            for m in find_all(stream, &[0x28, 0xb5, 0x2f, 0xfd]) {
                v.extend([
                    m.saturating_sub(4),
                    m.saturating_sub(1),
                    m,
                    m + 2,
                    m + 4,
                    m + 6,
                ]);
            }
        }
        Shape::Age | Shape::ZstdAge => {
            if let Some(&h) = find_all(stream, b"\n--- ").first() {
                let hdr = h + 1 + stream[h + 1..].iter().position(|&b| b == b'\n').unwrap() + 1;
                v.extend([h, h + 1, h + 5, hdr - 1, hdr, hdr + 1, hdr + 16, hdr + 17]);
                let mut c = hdr + 16; // the nonce
                while c < n {
                    v.extend([c - 1, c, c + 1, c + 16]);
                    c += 65536 + 16;
                }
            }
        }
        Shape::Seal => {
            if let Some(&s) = find_all(stream, b"-- pgpipe-seal").last() {
                v.extend([s - 1, s, s + 3, s + 16, s + 40, n - 2]);
            }
        }
        _ => {}
    }
    v.retain(|&o| o < n);
    v.sort();
    v.dedup();
    v
}

/// The cases of one shape and version: (offset, Some(xor) for a flipped
/// byte or None for a cut). Boundaries first (a deterministic sample if
/// there are more), then pseudo-random offsets.
fn cases(shape: Shape, plain: &[u8], stream: &[u8], seed: u64) -> Vec<(usize, Option<u8>)> {
    let mut rng = Rng(seed);
    let limit = if shape == Shape::Plain || shape == Shape::Killed {
        content_end(plain)
    } else {
        stream.len()
    };
    let mut bounds = if shape == Shape::Plain || shape == Shape::Killed || shape == Shape::Seal {
        let mut b = plain_boundaries(plain);
        if shape == Shape::Seal {
            b.extend(codec_boundaries(shape, plain, stream));
            b.sort();
            b.dedup();
        }
        b
    } else {
        codec_boundaries(shape, plain, stream)
    };
    bounds.retain(|&o| o < limit);
    let keep = CASES * 7 / 10;
    while bounds.len() > keep {
        // drop from the middle, keep the head and the tail classes
        let i = 8 + rng.below(bounds.len() - 16);
        bounds.remove(i);
    }
    let mut offsets = bounds;
    while offsets.len() < CASES {
        offsets.push(rng.below(limit));
    }
    offsets
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            let flip = shape.corruptible() && i % 2 == 1;
            (o, flip.then(|| 1u8 << rng.below(8)))
        })
        .collect()
}

fn user_objects(server: &Server, db: &str) -> u64 {
    server.psql(db, USER_OBJECTS).parse().unwrap()
}

fn digests(server: &Server, db: &str) -> Vec<String> {
    TABLES.iter().map(|t| server.table_digest(db, t)).collect()
}

#[derive(Default, Clone)]
struct Row {
    tried: usize,
    committed: usize,
    /// Flips the codec cannot see (no integrity check covers the byte) and
    /// that decode to exactly the original dump: a full restore is right.
    harmless: usize,
    failures: Vec<String>,
}

/// All cases of all shapes on one version.
fn run_version(version: Version) -> Vec<Row> {
    let fx = fixture(version);
    let server = &fx.server;
    let ctx = Ctx::new(version);
    let plain = fx.dump("plain");
    let source = digests(server, "db1");
    let mut rows = Vec::new();
    let mut target = server.create_db("guard_cut");
    for (si, &shape) in SHAPES.iter().enumerate() {
        let mut row = Row::default();
        let stream = ctx.encode(shape, plain);

        // The uncut stream restores fully.
        let db = server.create_db("guard_full");
        let full = if shape == Shape::Killed {
            receive_killed(&ctx, &db, usize::MAX)
        } else {
            receive(&ctx, shape, &db, &stream)
        };
        assert_eq!(
            (full.pipeline, full.psql),
            (0, 0),
            "{version:?} {shape:?}: uncut stream did not restore: {}",
            full.stderr
        );
        assert_eq!(
            digests(server, &db),
            source,
            "{version:?} {shape:?}: digests"
        );

        let seed = 0x9e37_79b9_7f4a_7c15 ^ ((si as u64 + 1) << 32) ^ version.major() as u64;
        for (offset, flip) in cases(shape, plain, &stream, seed) {
            row.tried += 1;
            let out = match (shape, flip) {
                (Shape::Killed, _) => receive_killed(&ctx, &target, offset),
                (_, None) => receive(&ctx, shape, &target, &stream[..offset]),
                (_, Some(x)) => {
                    let mut bad = stream.clone();
                    bad[offset] ^= x;
                    receive(&ctx, shape, &target, &bad)
                }
            };
            let objects = user_objects(server, &target);
            let what = match flip {
                None => format!("cut at {offset}"),
                Some(x) => format!("byte {offset} ^ {x:#04x}"),
            };
            if out.pipeline != 0 && out.psql != 0 && objects == 0 {
                continue;
            }
            if let Some(x) = flip
                && out.pipeline == 0
                && out.psql == 0
            {
                // Did the decoders see the flip at all?
                let mut bad = stream.clone();
                bad[offset] ^= x;
                let dec = run(
                    Command::new("bash")
                        .arg("-o")
                        .arg("pipefail")
                        .arg("-c")
                        .arg(format!("{}cat", ctx.decoders(shape))),
                    Some(&bad),
                );
                if exit_code(&dec) == 0 && dec.stdout == plain {
                    row.harmless += 1;
                    target = server.create_db("guard_cut");
                    continue;
                }
            }
            if objects != 0 {
                row.committed += 1;
            }
            row.failures.push(format!(
                "{version:?} {} {what}: pipeline {} psql {} objects {objects}\n{}",
                shape.name(),
                out.pipeline,
                out.psql,
                out.stderr
                    .lines()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .join(" / ")
            ));
            if objects != 0 {
                target = server.create_db("guard_cut");
            }
        }
        rows.push(row);
    }
    rows
}

#[test]
fn fault_injection_commits_nothing() {
    let per_version: Vec<Vec<Row>> = std::thread::scope(|s| {
        let handles: Vec<_> = Version::ALL
            .iter()
            .map(|&v| s.spawn(move || run_version(v)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut table = format!(
        "{:<20} {:>6} {:>10} {:>9} {:>9}\n",
        "shape", "cases", "committed", "harmless", "failures"
    );
    let mut ok = true;
    let mut failures = Vec::new();
    for (i, &shape) in SHAPES.iter().enumerate() {
        let mut total = Row::default();
        for rows in &per_version {
            total.tried += rows[i].tried;
            total.committed += rows[i].committed;
            total.harmless += rows[i].harmless;
            total.failures.extend(rows[i].failures.iter().cloned());
        }
        table.push_str(&format!(
            "{:<20} {:>6} {:>10} {:>9} {:>9}\n",
            shape.name(),
            total.tried,
            total.committed,
            total.harmless,
            total.failures.len()
        ));
        ok &= total.committed == 0 && total.failures.is_empty() && total.tried >= 200;
        failures.extend(total.failures);
    }
    eprintln!("{table}");
    assert!(
        ok,
        "{table}\n{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn guard_adds_only_its_own_lines() {
    for version in Version::ALL {
        let plain = fixture(version).dump("plain");
        let out = run(&mut Command::new(*GUARD), Some(plain));
        assert_eq!(
            exit_code(&out),
            0,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let head = b"\\set ON_ERROR_STOP on\nBEGIN;\n";
        let tail = b"COMMIT;\n";
        assert!(out.stdout.starts_with(head), "{version:?}");
        assert!(out.stdout.ends_with(tail), "{version:?}");
        let body = &out.stdout[head.len()..out.stdout.len() - tail.len()];
        // The dump's own transaction control (pg_dump wraps large objects
        // in BEGIN/COMMIT) cannot run inside the guard's transaction: the
        // guard turns those lines into comments that say so. Undo exactly
        // that, then the bytes must be the input's.
        let marker = b"-- pgpipe-guard: left out \"";
        let mut replaced = Vec::new();
        let body: Vec<u8> = body
            .split_inclusive(|&b| b == b'\n')
            .flat_map(|line| {
                if let Some(rest) = line.strip_prefix(&marker[..]) {
                    let end = rest.iter().position(|&b| b == b'"').unwrap();
                    let stmt = rest[..end].to_vec();
                    replaced.push(String::from_utf8(stmt.clone()).unwrap());
                    [stmt, b"\n".to_vec()].concat()
                } else {
                    line.to_vec()
                }
            })
            .collect();
        let body = &body[..];
        assert!(
            replaced.iter().all(|s| s == "BEGIN;" || s == "COMMIT;"),
            "{version:?}: the guard left out {replaced:?}"
        );
        if body != plain {
            let at = body.iter().zip(plain).take_while(|(a, b)| a == b).count();
            panic!(
                "{version:?}: the guard changed the dump at byte {at} (lengths {} vs {}):\n\
                 out: {:?}\nin:  {:?}",
                body.len(),
                plain.len(),
                String::from_utf8_lossy(&body[at.saturating_sub(80)..(at + 80).min(body.len())]),
                String::from_utf8_lossy(&plain[at.saturating_sub(80)..(at + 80).min(plain.len())]),
            );
        }
    }
}

/// The fixture's pg_dumpall dump, ready for a fresh cluster: without the
/// `CREATE ROLE postgres;` that would fail there, and with a tablespace
/// directory of that cluster.
fn dumpall_for(version: Version, fresh: &Server) -> Vec<u8> {
    let fx = fixture(version);
    let dump = String::from_utf8(fx.dump("dumpall").to_vec()).unwrap();
    assert_eq!(dump.matches("\nCREATE ROLE postgres;\n").count(), 1);
    let dump = dump.replacen("\nCREATE ROLE postgres;\n", "\n", 1);
    let old = format!("LOCATION '{}';", fx.tablespace_dir.display());
    let new = format!("LOCATION '{}';", fresh.new_dir("ts").display());
    assert_eq!(dump.matches(&old).count(), 1);
    dump.replace(&old, &new).into_bytes()
}

fn guard_into(server: &Server, args: &[&str], input: &[u8]) -> (i32, i32, String) {
    let script = format!(
        "{} {} | {} -X -d postgres; s=(\"${{PIPESTATUS[@]}}\"); echo \"STATUS ${{s[*]}}\" >&2",
        q(*GUARD),
        args.join(" "),
        q(bin(server.version(), "psql"))
    );
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(script);
    server.with_env(&mut cmd);
    let o = outcome(run(&mut cmd, Some(input)));
    (o.pipeline, o.psql, o.stderr)
}

#[test]
fn per_database_keeps_completed_databases_and_rolls_back_the_cut_one() {
    for version in Version::ALL {
        let fx = fixture(version);

        // Whole: everything restores.
        let fresh = Server::start(version);
        let dump = dumpall_for(version, &fresh);
        assert!(
            guard_into(&fresh, &[], &dump).0 != 0,
            "{version:?}: a pg_dumpall dump must be refused without --per-database"
        );
        let (pipeline, psql, stderr) = guard_into(&fresh, &["--per-database"], &dump);
        assert_eq!((pipeline, psql), (0, 0), "{version:?}: {stderr}");
        assert_eq!(fresh.roles(), fx.server.roles(), "{version:?}");
        assert_eq!(digests(&fresh, "db1"), digests(&fx.server, "db1"));
        drop(fresh);

        // Cut inside db1's COPY of app.t1: roles, tablespace and the sections
        // before stay; db1 exists (CREATE DATABASE runs between
        // transactions) but holds nothing.
        let fresh = Server::start(version);
        let dump = dumpall_for(version, &fresh);
        let connect = find_all(&dump, b"\n\\connect db1").last().copied().unwrap();
        let copy = connect + find_all(&dump[connect..], b"\nCOPY app.t1 ")[0];
        let cut = copy + 40;
        let (pipeline, psql, stderr) = guard_into(&fresh, &["--per-database"], &dump[..cut]);
        assert!(pipeline != 0 && psql != 0, "{version:?}: {stderr}");
        assert_eq!(fresh.roles(), fx.server.roles(), "{version:?}");
        assert_eq!(
            fresh.psql(
                "postgres",
                "SELECT count(*) FROM pg_tablespace WHERE spcname = 'ts1'"
            ),
            "1"
        );
        assert_eq!(
            fresh.psql(
                "postgres",
                "SELECT count(*) FROM pg_database WHERE datname = 'db1'"
            ),
            "1"
        );
        assert_eq!(user_objects(&fresh, "db1"), 0, "{version:?}: {stderr}");
    }
}
