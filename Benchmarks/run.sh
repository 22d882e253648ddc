#!/usr/bin/env bash
# Runs every benchmark (release builds) and writes BENCHMARKS.md. Never part of the test run.
#   Benchmarks/run.sh [seconds-per-round] [rounds]
# Parts: RPC (bare NIO echo, the suite's runtime, grpc-swift-2), codec (wire module, swift-protobuf,
# bare protobuf-c), end to end (durable referrals through the real services on SQLite and on
# PostgreSQL beside the disk's fsync rate), memory, and the wire soak.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
# The PostgreSQL suite needs a server: the whole run happens beside a throwaway one, on the same disk.
if [ -z "${HSB_BENCH_WITH_POSTGRES:-}" ]; then
  scripts/install-deps.sh >/dev/null
  export HSB_BENCH_WITH_POSTGRES=1
  exec scripts/with-postgres.sh "$here/run.sh" "$@"
fi
seconds=${1:-3}
rounds=${2:-3}
e2e_seconds=${E2E_SECONDS:-8}
started=$(date +%s)
# CPU time the hypervisor gave to other guests while this ran (the "steal" column of /proc/stat):
# on a shared virtual machine it is what makes one run differ from the next.
cpu_times() { awk '/^cpu / {print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $9}' /proc/stat; }
read -r cpu_total_before cpu_steal_before < <(cpu_times)

echo "building the suite and the benchmark package (release)..." >&2
swift build -c release >/dev/null
swift build -c release --package-path "$here" >/dev/null
sbin=$(swift build -c release --show-bin-path)
bbin=$(swift build -c release --package-path "$here" --show-bin-path)

echo "RPC..." >&2
rpc=$("$bbin/RPCBench" "$seconds" "$rounds")
echo "codec..." >&2
codec=$("$bbin/CodecBench" 2 "$((rounds + 2))")

# ---- end to end -------------------------------------------------------------------------------
work=$(mktemp -d "$root/.hsb-bench.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
echo "store drivers..." >&2
storebench=$("$bbin/StoreBench" 3 "$rounds" "$work")
echo "PostgreSQL link..." >&2
pglink=$("$bbin/PGLinkBench" 3 "$rounds")
creds="$work/credentials"
for agency in orchestrator social-care youth-justice camhs mappa police education health ops; do
  echo "$agency $("$sbin/hsbctl" new-secret)"
done > "$creds"
education_secret=$(awk '$1 == "education" {print $2}' "$creds")

# start_suite NAME BASEPORT [DATABASE-URL-PREFIX [DATABASE-URL-PARAMETERS]]: the five services on BASEPORT..BASEPORT+4.
start_suite() {
  local name=$1 base=$2 urlprefix=${3:-} urlparameters=${4:-} i=0 endpoints=() service
  mkdir -p "$work/$name"
  for service in intake youth-justice camhs mappa; do
    i=$((i + 1)); endpoints+=("$service=127.0.0.1:$((base + i))")
  done
  i=0
  for service in orchestrator intake youth-justice camhs mappa; do
    local port=$((base + i)) extra=()
    [ "$service" = intake ] && extra=(--local-authority Camden --profile camden)
    [ "$service" = youth-justice ] && extra=(--profile camden)
    [ "$service" = orchestrator ] && extra=(--agency-endpoint "${endpoints[0]}" --agency-endpoint "${endpoints[1]}" --agency-endpoint "${endpoints[2]}" --agency-endpoint "${endpoints[3]}")
    [ -n "$urlprefix" ] && extra+=(--database-url "$urlprefix${service//-/_}$urlparameters")
    "$sbin/$service" --port "$port" --ops-port $((port + 100)) --data-dir "$work/$name" --credentials-file "$creds" \
      --log-level warning "${extra[@]}" > "$work/$name-$service.log" 2>&1 &
    pids+=($!)
    eval "${name}_pid_${service//-/_}=$!"
    i=$((i + 1))
  done
  local health=()
  i=0
  for service in orchestrator intake youth-justice camhs mappa; do health+=(--endpoint "$service=127.0.0.1:$((base + i))"); i=$((i + 1)); done
  for _ in $(seq 1 120); do
    "$sbin/hsbctl" health "${health[@]}" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "the $name suite did not become ready; see $work/$name-*.log" >&2
  exit 1
}

suite_pids() { local name=$1 s; for s in orchestrator intake camhs; do eval "echo -n \"\${${name}_pid_${s}} \""; done; }
idle_rss() {
  local name=$1 s out=()
  for s in orchestrator intake youth_justice camhs mappa; do
    pid=$(eval "echo \${${name}_pid_${s}}")
    out+=("$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$pid/status")")
  done
  echo "${out[*]}" | sed 's/ / \/ /g'
}

echo "end to end: starting the SQLite and PostgreSQL suites..." >&2
start_suite sqlite 7300
for service in orchestrator intake youth_justice camhs mappa; do
  psql "$HSB_TEST_POSTGRES_URL" -q -c "CREATE DATABASE hsb_$service" >/dev/null
done
# The services reach PostgreSQL over TLS, checking its certificate, as a deployment would.
pgtls="?sslmode=verify-ca&sslrootcert=$HSB_TEST_POSTGRES_CA"
start_suite postgresql 7600 "${HSB_TEST_POSTGRES_URL%/*}/hsb_" "$pgtls"
# A second orchestrator on the PostgreSQL suite's store: two replicas serving the same partnership.
"$sbin/orchestrator" --port 7605 --ops-port 7705 --data-dir "$work/postgresql-replica" --credentials-file "$creds" --log-level warning \
  --database-url "${HSB_TEST_POSTGRES_URL%/*}/hsb_orchestrator$pgtls" \
  --agency-endpoint intake=127.0.0.1:7601 --agency-endpoint youth-justice=127.0.0.1:7602 \
  --agency-endpoint camhs=127.0.0.1:7603 --agency-endpoint mappa=127.0.0.1:7604 > "$work/postgresql-replica.log" 2>&1 &
pids+=($!)
replica_pid=$!
for _ in $(seq 1 120); do
  "$sbin/hsbctl" health --endpoint orchestrator=127.0.0.1:7605 >/dev/null 2>&1 && break
  sleep 0.5
done
idle_sqlite=$(idle_rss sqlite)
idle_pg=$(idle_rss postgresql)
fsync_rate=$("$bbin/EndToEnd" fsync "$work/sqlite" 3)
# CPU seconds each SQLite-suite service spends over the whole end-to-end part, per referral.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_before_orchestrator=$(cpu_ticks "$sqlite_pid_orchestrator")
cpu_before_intake=$(cpu_ticks "$sqlite_pid_intake")
: > "$work/e2e.txt"
for concurrency in 1 16 64; do
  echo "end to end: $concurrency concurrent referrals..." >&2
  for round in $(seq 1 "$rounds"); do
    for store in sqlite postgresql replicas; do
      case $store in
        sqlite) targets=127.0.0.1:7300 pidset=$(suite_pids sqlite) ;;
        postgresql) targets=127.0.0.1:7600 pidset=$(suite_pids postgresql) ;;
        replicas) targets=127.0.0.1:7600,127.0.0.1:7605 pidset="$postgresql_pid_orchestrator $replica_pid $postgresql_pid_intake" ;;
      esac
      # shellcheck disable=SC2086
      row=$("$bbin/EndToEnd" referrals "$targets" "$education_secret" "$concurrency" "$e2e_seconds" $pidset)
      echo "$store $concurrency $round $row" >> "$work/e2e.txt"
    done
  done
done
fsync_after=$("$bbin/EndToEnd" fsync "$work/sqlite" 3)
hz=$(getconf CLK_TCK)
sqlite_referrals=$(grep "^sqlite " "$work/e2e.txt" | awk -v s="$e2e_seconds" '{n += $4 * s} END {print n}')
cpu_per_referral() { awk -v a="$1" -v b="$2" -v hz="$hz" -v n="$sqlite_referrals" 'BEGIN {printf "%.2f", (b - a) / hz * 1000 / n}'; }
cpu_orchestrator=$(cpu_per_referral "$cpu_before_orchestrator" "$(cpu_ticks "$sqlite_pid_orchestrator")")
cpu_intake=$(cpu_per_referral "$cpu_before_intake" "$(cpu_ticks "$sqlite_pid_intake")")
group_commit() {
  local out="" port
  for port in "$@"; do
    out+=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^hsb_[a-z_]*_store_(commits|writes)_total / {printf "%s %s; ", $1, $2}')
  done
  echo "${out%; }"
}
commits_sqlite=$(group_commit 7400 7401)
commits_pg=$(group_commit 7700 7701)

# The median round per (store, concurrency), by referrals/s (the row's first field).
e2e_table() {
  local store=$1 concurrency
  for concurrency in 1 16 64; do
    grep "^$store $concurrency " "$work/e2e.txt" | sort -k4 -g | awk -v n="$rounds" 'NR == int((n + 1) / 2)' | sed 's/^[^|]*|/|/'
  done
}
best_rate() { grep "^$1 " "$work/e2e.txt" | awk '{if ($4 + 0 > m) m = $4 + 0} END {print m}'; }
sqlite_best=$(best_rate sqlite)
pg_best=$(best_rate postgresql)
fsync_plain=${fsync_rate//,/}
# The SQLite driver's share of a referral's CPU: its extra CPU per write, times the writes per
# referral the SQLite suite's group commit counted, over the orchestrator's and intake's CPU per referral.
writes_sqlite=$(echo "$commits_sqlite" | grep -o 'writes_total [0-9.]*' | awk '{s += $2} END {print s}')
driver_share() {
  local extra
  extra=$(echo "$storebench" | awk -v k="$1" '$1 == k {print $2}')
  awk -v x="$extra" -v w="$writes_sqlite" -v n="$sqlite_referrals" -v o="$cpu_orchestrator" -v i="$cpu_intake" \
    'BEGIN {printf "%.1f%% (%.1f µs a write, %.1f writes a referral)", 100 * x * (w / n) / ((o + i) * 1000), x, w / n}'
}
storebench_table=$(echo "$storebench" | grep '^|')
grdb_share=$(driver_share extra-cpu-us-per-write)
values_share=$(driver_share values-extra-cpu-us-per-write)

echo "wire soak..." >&2
soak=$("$bbin/WireSoak" 1000000)
valgrind_summary="valgrind not installed"
if command -v valgrind >/dev/null; then
  copy=$(mktemp)
  cp "$bbin/WireSoak" "$copy" && chmod 755 "$copy" && strip --strip-debug "$copy"
  valgrind_summary=$(valgrind --leak-check=full "$copy" 2000 2>&1 >/dev/null | grep -E "definitely lost|indirectly lost|possibly lost|ERROR SUMMARY" | sed 's/^==[0-9]*== *//')
  rm -f "$copy"
fi
elapsed=$(( $(date +%s) - started ))
read -r cpu_total_after cpu_steal_after < <(cpu_times)
steal=$(awk -v t=$((cpu_total_after - cpu_total_before)) -v s=$((cpu_steal_after - cpu_steal_before)) 'BEGIN {printf "%.0f%%", (t > 0 ? 100 * s / t : 0)}')

# Section 6 is measured by Benchmarks/workspace.sh, on its own: kept as it stands.
workspace_section=$(awk '/^## 6\. The practitioners/ {p = 1} /^## Against the targets/ {p = 0} p' BENCHMARKS.md 2>/dev/null || true)
cat > BENCHMARKS.md <<MD
# Benchmarks

Measured by \`Benchmarks/run.sh $seconds $rounds\` on $(date -u +%F) in $((elapsed / 60)) min $((elapsed % 60)) s (builds
already done): $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GiB,
$(swift --version 2>&1 | head -1), release builds. Every client and server shares the same cores on
loopback. The hypervisor gave **$steal** of this machine's CPU time to other guests during the run
(steal time from \`/proc/stat\`; above a few per cent, absolute figures fall and vary, and only the
ratios between contenders that alternated in the same run mean much). The benchmarks are a package of their own (\`Benchmarks/Package.swift\`): grpc-swift-2,
swift-protobuf and HdrHistogram never enter the suite's build.

## 1. RPC: bare NIO echo, the suite's runtime (raw and typed), grpc-swift-2

Unary calls, 200-byte payload. *Bare NIO echo*: a length-prefixed echo with no envelope, the limit
of this machine. *Suite runtime*: \`RPCClient\` to \`RPCServer\` with protobuf-c envelopes, HMAC-SHA256
signing and verification, the replay cache, the method registry, deadlines and metrics.
*grpc-swift-2*: 2.4.3 over grpc-swift-nio-transport's HTTP/2 (plaintext), swift-protobuf messages
carrying the same 200 bytes. *Suite runtime, typed*: the same runtime through the typed layer every
service method now uses (a method descriptor, the request decoded to a message, the proven caller as
a value, the reply encoded; the message carries the same 200 bytes as a string). *Decoded by hand*:
what the typed layer replaced, a raw handler and a raw call that decode and encode the same message
themselves; typed against it is the cost of the typed layer itself. Then the same three over
mutual TLS 1.3 with certificates from a throwaway partnership CA: *bare NIO echo over mTLS* (the
limit with TLS), *suite runtime over mTLS* (as deployed: the caller's agency from its verified
certificate, no per-request HMAC and no replay cache), *grpc-swift-2 over mTLS*. The eight
alternate (A B C D E F G H A B ...) in one run; each cell is the median of $rounds rounds of $seconds s; latencies from
HdrHistogram. Command: \`RPCBench $seconds $rounds\`.

$rpc

### Where the time goes

Found with \`perf record -g\` on \`RPCBench 2 1 runtime\` (the runtime alone; \`echo\` and \`grpc\` run
the others alone) and on \`CodecBench\`, and fixed in order (1 x 32 from the runs of the day; the
last column is the whole process's CPU time per request, client and server, from \`getrusage\`,
steadier than a rate on this shared machine: the bare echo's is 15-20 µs):

| change | 1 x 32 requests/s after | CPU µs per request |
|---|---:|---:|
| first working runtime | 2,749 | |
| replay cache made O(1) per request (it re-filtered every entry once it held 100,000) | 25,048 | |
| handlers on the connection's event loop (a \`TaskExecutor\` over the loop); the client keeps its connection; idempotency keys from a counter | 42,493 | |
| replies finished in one loop turn share one flush | about the same | |
| HMAC keyed once per secret (EVP_MAC context duplicated per message: 1.28 µs instead of 2.44 µs) | 45,463 | |
| protobuf-c decodes into a budgeted arena that starts on the stack (no malloc/free per field, no \`free_unpacked\` walk); request logger metadata built only when something is logged | 48,185 | 29-32 |
| handlers start at once on the connection's loop (\`Task.immediate\`: one that never suspends is answered inside the read, with no task switch); each method's metrics series resolved at registration (one uncontended lock per request, no string hashing); HMAC-SHA256 from SHA-256 states precomputed after the padded key, the message's state on the caller's stack (OpenSSL was 11% of the profile, then 4%); no write promise per client call | 59,316 | 25.5 |
| envelopes packed straight into the frame's \`ByteBuffer\` from an encode arena that starts on the stack (no intermediate array, no malloc for a typical envelope); a client call waits on a continuation resumed from the loop instead of a promise and its future | 71,697 | 20.9 |

The codec changes took a referral's encode + decode from 3.1x the bare protobuf-c time to about
2.0-2.2x (on a quiet machine: 8.0 µs beside 2.6 µs before, 5.6 µs beside 2.5 µs after the decode
arena). What remains is spread thin: Swift values (each string and array its own allocation,
retained, released and UTF-8 checked), two HMACs, the replay cache, a task per request, where the
bare echo copies bytes. At 1 x 32 every request of the one connection is served on the one event
loop that owns it, so the server's per-request work (verify, decode, handler, encode, about 8 µs)
is serial there while the other core runs the client; with 8 connections the work spreads over
both loops, which is why 8 x 32 meets the 0.8x target and 1 x 32 does not. Next steps, if the
single-connection rate matters: keep envelope payloads as \`ByteBuffer\` views instead of copied
arrays, and decode the reply's request id on the loop but the rest of the reply on the caller.

## 2. Codec: a referral through the wire module, swift-protobuf and bare protobuf-c

One realistic referral (the child and a person harmed, four behaviours, three harm indicators, a
referrer, incident text) decoded from its bytes and encoded again. *Suite wire module*: protobuf-c
unpack, then validation into Swift values (required fields, enums, UTF-8), and back. *swift-protobuf*:
1.39.0 code generated from the same \`.proto\` files (\`Benchmarks/generate-swift-protobuf.sh\`, committed).
*protobuf-c from C*: unpack + pack in a C loop with no Swift, the limit. Command: \`CodecBench 2 $((rounds + 2))\`.

$codec

## 3. End to end: durable referrals through the real services

\`EndToEnd referrals\` submits referrals to the orchestrator as \`hsbctl submit\` does (one connection per
16 callers), each a new child. A reply comes only after the orchestrator committed the case and its
outbox step, intake screened and committed the referral, and the orchestrator committed the
screening's outcome: three durable commits in two services (SQLite: WAL, \`synchronous=FULL\`;
PostgreSQL: \`fsync=on\`, \`synchronous_commit=on\`, one server on the same disk, reached over TLS
with its certificate checked (\`sslmode=verify-ca\`; runs before 2026-11-30 were without TLS)). Writes go through each
service's group commit (\`GroupCommitter\`): writes that queue while a commit is being flushed share the
next one, and none is answered before its commit is durable. Statements are compiled once per
connection (SQLite) or prepared once per connection (PostgreSQL: this doubled the PostgreSQL rates);
reads that write nothing use a reader connection of their own (SQLite: a WAL snapshot; PostgreSQL:
a repeatable-read, read-only transaction). The suites run as release processes
(\`.build/release/{orchestrator,intake,...}\`), each run $e2e_seconds s, median of $rounds rounds, SQLite and
PostgreSQL alternating.

The disk, one writer appending 4 KiB and calling fsync after each write, in the stores' folder:
**$fsync_rate fsyncs/s** (before the runs), $fsync_after (after).

On SQLite:

| concurrent referrals | referrals/s | p50 ms | p99 ms | p99.9 ms | peak RSS MiB: orchestrator / intake / camhs |
|---:|---:|---:|---:|---:|---|
$(e2e_table sqlite)

On PostgreSQL:

| concurrent referrals | referrals/s | p50 ms | p99 ms | p99.9 ms | peak RSS MiB: orchestrator / intake / camhs |
|---:|---:|---:|---:|---:|---|
$(e2e_table postgresql)

Two orchestrator replicas on the PostgreSQL suite's store (a second orchestrator process beside the
first, the callers' connections shared between them, each step claimed before it is sent; the
agency services as above):

| concurrent referrals | referrals/s | p50 ms | p99 ms | p99.9 ms | peak RSS MiB: orchestrator 1 / orchestrator 2 / intake |
|---:|---:|---:|---:|---:|---|
$(e2e_table replicas)

Best durable referrals/s against the single-writer fsync rate (target at least 4x): SQLite
$(awk -v a="$sqlite_best" -v b="$fsync_plain" 'BEGIN {printf "%.2fx", a / b}'), PostgreSQL $(awk -v a="$pg_best" -v b="$fsync_plain" 'BEGIN {printf "%.2fx", a / b}').
Each referral is three commits. Group commit counters at the end (orchestrator and intake; writes
per commit is how many writes shared one flush): SQLite suite \`$commits_sqlite\`; PostgreSQL suite
\`$commits_pg\`.

CPU per referral on the SQLite suite, over all its runs: orchestrator $cpu_orchestrator ms, intake
$cpu_intake ms (the orchestrator took 1.75 ms before its cases and outbox steps were stored as
protobuf instead of Foundation JSON, which spent about 250 µs decoding and encoding a case of twenty
entries). A longer run at 64 concurrent (six rounds of 8 s, about 25,000 cases) found two faults
that grew with the store, both fixed: the overdue gauges scanned every open deadline every 5 s on
the writer connection, holding every write up for the scan (referrals/s fell from 1,100 to 490 and
p99 rose from 90 to 830 ms over the six rounds, the orchestrator from 75 to 180 MiB); they now read
only the overdue rows (today the \`case_deadlines\` table's index over open deadlines by due time),
on the reader connection (flat CPU per referral and memory across the rounds). And SQLite's default 2 MiB page cache sent every
page past it to a read system call; each connection now keeps up to 32 MiB, which shows in the
resident sizes below. With $(nproc) cores shared by the client, both suites and PostgreSQL, CPU, not the
disk, sets the rate here: this disk takes $fsync_rate fsyncs/s, far more than the commits the
services ask of it. The 4x target presumes a disk slower than the services; group commit is what
meets it there (many writes per flush, none answered early), and the counters above show it
working at this load.

Since the stores moved to typed tables (this run), the orchestrator's CPU per referral is nearly
twice what it was (about 1.3 ms in the runs before): each case write now also keeps the case's
rows in \`case_deadlines\` and appends its new disclosures to the hash-chained ledger (a SHA-256 and
a statement each, and since 2026-11-30 one move of the ledger's head a write instead of two a disclosure), and the first cut read every case document through a hex string, a
quarter of the orchestrator's CPU under load (found with \`perf\`; fixed: blobs are read as bytes), and
each case write read back its deadline rows and the ledger's count (fixed: it writes what changed
since the case was read).
PostgreSQL suffers most, and two replicas do not add throughput on one store: the group commit
sends every statement over one synchronous libpq connection, a network round trip each, and every
write takes the access log's chain head (one row), so replicas serialise there. postgres-nio was
tried under the store's synchronous transactions (2026-11-30: each statement handed to its event
loop and waited for on the thread pool): 47 and 41 referrals/s at 16 concurrent and 40 and 48 at 64,
against libpq's 134 and 147, and 150 and 197, minutes apart on the same machine, the orchestrator
spending half its CPU in the kernel switching threads (two more wake-ups per statement). The
link on its own (PGLinkBench, below) says the same, and more: even from code on the connection's
event loop (an asynchronous store) postgres-nio did not beat libpq on one connection (in the three
runs of 2026-11-30, 83 to 180 transactions/s against libpq's 178 to 279) and spent 1.6 to 5 times
libpq's client CPU a statement. The store stays on libpq; an asynchronous store on postgres-nio
would have to win by overlapping transactions over a pool, which one writer per process (the
access log's chain head) does not allow today. Since 2026-11-30 each
transaction writes the access log's head once, not twice a row, and a batch of one write runs
without a savepoint; StoreBench below shows the store's CPU a write after it.

### The link to PostgreSQL

\`PGLinkBench\` sends the store writer's kind of transaction (BEGIN, ten single-row UPDATEs, a
SELECT, COMMIT; parameters bound) one at a time over one connection, alternating: libpq from the
calling thread (the store today), postgres-nio with each statement waited for from the calling
thread (what the store's synchronous transactions would need), and postgres-nio from code that
runs on the connection's own event loop (what an asynchronous store would do):

$pglink

### The SQLite driver

The store's SQLite side runs on GRDB's \`DatabasePool\` (its connections, statement cache, busy
handling, WAL readers; the pool's default \`synchronous=NORMAL\` is put back to \`FULL\`, tested).
\`StoreBench\` writes as a service writes (through the group commit: idempotency check, typed-table
insert, read back, versioned update, hash-chained access-log line, stored reply; WAL,
\`synchronous=FULL\`, this disk), alternating the suite's store with the SQLite C API it used before
and with GRDB's own value API (\`StatementArguments\` and \`Row\`):

$storebench_table

Against the whole referral (the orchestrator's and intake's CPU per referral above), the suite's
GRDB store costs $grdb_share more than the C API, and GRDB's value API would cost $values_share:
that is why the suite binds parameters and reads columns with SQLite's own calls on GRDB's
statement handles, which GRDB provides for this.

## 4. Memory

Resident size of each service, idle after start-up (MiB, orchestrator / intake / youth-justice /
camhs / mappa): SQLite $idle_sqlite; PostgreSQL $idle_pg. Under load: the peak columns above.

Over a long run (from the last \`Benchmarks/long-run.sh\`, which takes longer than this script; its
table is kept in \`Benchmarks/long-run.md\`):

$(cat "$here/long-run.md" 2>/dev/null || echo "not run yet: \`Benchmarks/long-run.sh 100000\`")

## 5. Wire soak

\`WireSoak 1000000\`: each iteration encodes and decodes a request envelope (200-byte payload) and a
decision, then takes four error paths (malformed bytes, an allocation budget refused part way
through an unpack, invalid UTF-8, a NUL in a string on encode). Resident memory (KiB) by iteration:

\`\`\`
$soak
\`\`\`

valgrind memcheck on 2,000 iterations of the same binary (debug info stripped from a copy: valgrind
3.19 cannot read DWARF 5). The "possibly lost" blocks are the Swift runtime's metadata caches, the
same two on every run; nothing is definitely or indirectly lost:

\`\`\`
$valgrind_summary
\`\`\`

$workspace_section

## Against the targets (issue 6)

- **RPC, at least 0.80x the bare echo's requests/s and p99 at most 1.25x its p99**: met in quiet runs
  at 8 x 32 and 1 x 1 and, in the quietest, at 1 x 32 too (the summary lines under the RPC table give
  this run's ratios; across the full runs of 2026-11-22 after the changes above: 1 x 1 0.72-0.81x,
  1 x 32 0.26-0.86x, 8 x 32 0.62-0.91x, the low ends in runs with 30-40% steal time). 1 x 32 is the
  weak and unsteady one: one connection's requests are served on the one event loop that owns it,
  so the server's per-request work (verify, decode, handler, encode, about 8 µs) is serial there,
  and how the client's and the server's ends of that connection fall on the two loops changes from
  run to run. The runtime does per request what the echo does not: four protobuf-c conversions into
  and out of Swift values, two HMACs, a replay-cache check, metrics.
- **The typed layer costs nothing measurable (issue 13)**: the summary lines give typed against
  decoded-by-hand (the layer itself; target 1.00x) and typed against the raw echo (which passes the
  payload's bytes through untouched, so the typed call also pays two protobuf-c decodes and two
  encodes of the message, as every service method did before the typed layer too).
- **Ahead of grpc-swift-2**: by about an order of magnitude in every configuration (the summary
  lines give the factor).
- **Codec, at least 1.5x faster than swift-protobuf**: met. **Within 1.5x of bare protobuf-c**: not
  met (about 2.0-2.2x). The suite hands out Swift values, each string and array its own allocation with
  its UTF-8 checked, and destroyed again (about a fifth of the suite's time in the profile), where the C loop only
  unpacks and packs; closing the rest needs views that read fields lazily from the protobuf-c struct
  instead of Swift values, a different API for every service.
- **End to end, at least 4x the single-writer fsync rate**: not met on this machine, where the
  services are CPU-bound long before the disk is (section 3); group commit is in place and shares
  each flush among several writes.
- This machine is a shared virtual machine: absolute figures move between runs (the 1 x 1 echo has
  measured from about 5,700 to 20,000 requests/s on the same day). Read the ratios between
  contenders that alternated in the same run.
MD
echo "wrote BENCHMARKS.md" >&2
