#!/usr/bin/env bash
# Memory over a long run: durable referrals through the SQLite suite (release builds) in rounds of
# 30 s at 64 concurrent until TARGET cases are stored; one row per round with the cases so far, the
# rate, p99 and the peak resident size of the orchestrator and intake. Writes
# Benchmarks/long-run.md, which Benchmarks/run.sh includes in BENCHMARKS.md.
#   Benchmarks/long-run.sh [TARGET]      (default 100000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
target=${1:-100000}
swift build -c release >/dev/null
swift build -c release --package-path "$here" >/dev/null
sbin=$(swift build -c release --show-bin-path)
bbin=$(swift build -c release --package-path "$here" --show-bin-path)
work=$(mktemp -d "$root/.hsb-bench.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
for agency in orchestrator social-care youth-justice camhs mappa police education health ops; do
  echo "$agency $("$sbin/hsbctl" new-secret)"
done > "$work/credentials"
secret=$(awk '$1 == "education" {print $2}' "$work/credentials")
base=7350 i=0
for service in orchestrator intake youth-justice camhs mappa; do
  extra=()
  [ "$service" = intake ] && extra=(--local-authority Camden --profile camden)
  [ "$service" = youth-justice ] && extra=(--profile camden)
  [ "$service" = orchestrator ] && extra=(--agency-endpoint intake=127.0.0.1:7351 --agency-endpoint youth-justice=127.0.0.1:7352 --agency-endpoint camhs=127.0.0.1:7353 --agency-endpoint mappa=127.0.0.1:7354)
  "$sbin/$service" --port $((base + i)) --ops-port $((base + 100 + i)) --data-dir "$work/data" --credentials-file "$work/credentials" \
    --log-level warning "${extra[@]}" > "$work/$service.log" 2>&1 &
  pids+=($!)
  i=$((i + 1))
done
for _ in $(seq 1 120); do "$sbin/hsbctl" health --endpoint orchestrator=127.0.0.1:7350 >/dev/null 2>&1 && break; sleep 0.5; done
rows=() total=0 round=0
while [ "$total" -lt "$target" ]; do
  round=$((round + 1))
  line=$("$bbin/EndToEnd" referrals 127.0.0.1:7350 "$secret" 64 30 "${pids[0]}" "${pids[1]}")
  rate=${line%% *}
  total=$((total + rate * 30))
  # Fields of the row: | concurrency | rate | p50 | p99 | p99.9 | rss / rss |
  p99=$(echo "$line" | awk -F'|' '{gsub(/ /, "", $5); print $5}')
  rss=$(echo "$line" | awk -F'|' '{gsub(/^ +| +$/, "", $7); print $7}')
  rows+=("| $round | $(printf "%'d" "$total") | $rate | $p99 | $rss |")
  echo "round $round: $total cases, $rate/s, p99 $p99 ms, RSS $rss MiB" >&2
done
store=$(du -m "$work/data/orchestrator.sqlite3" | cut -f1)
{
  echo "Durable referrals at 64 concurrent on the SQLite suite, in rounds of 30 s, until $(printf "%'d" "$target") referrals were stored (each a case, and one for the child it harmed)"
  echo "(\`Benchmarks/long-run.sh $target\`, $(date -u +%F); the orchestrator's store ended at $store MiB):"
  echo
  echo "| round | referrals so far | referrals/s | p99 ms | peak RSS MiB: orchestrator / intake |"
  echo "|---:|---:|---:|---:|---|"
  printf '%s\n' "${rows[@]}"
} > "$here/long-run.md"
cat "$here/long-run.md"
