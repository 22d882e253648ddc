#!/usr/bin/env bash
# Backup and restore, as docs/OPERATIONS.md tells an agency's IT team to do them, on both stores:
# the whole suite runs over mutual TLS on loopback, takes the example referrals and a strategy
# meeting, and is backed up while it runs (SQLite: sqlite3 .backup; PostgreSQL: pg_dump
# --format=custom). A referral taken after the backup must not come back. The backups are restored
# into new stores (a new folder; new databases through pg_restore), the suite is started on them
# alone, and every case must read exactly as it did at the backup, the overdue and due lists too,
# and every restored store's access log chain must verify (hsbctl audit verify).
#   scripts/with-postgres.sh scripts/backup-restore.sh     (PostgreSQL from HSB_TEST_POSTGRES_URL;
#                                                           SQLite alone without it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=$(swift build --show-bin-path)
scratch=$(mktemp -d)
pids=()
stop_suite() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap 'stop_suite; rm -rf "$scratch"' EXIT
fail() {
  echo "scripts/backup-restore.sh: $*" >&2
  for log in "$scratch"/*.log; do [ -f "$log" ] && { echo "--- $log" >&2; tail -5 "$log" >&2; }; done
  exit 1
}
umask 077
pki=$scratch/pki
"$bin/hsbctl" pki init --dir "$pki" --name Backup >/dev/null
for agency in orchestrator social-care youth-justice camhs mappa ops; do "$bin/hsbctl" pki issue "$agency" --dir "$pki" >/dev/null; done
services=(intake youth-justice camhs mappa orchestrator)
declare -A port=([orchestrator]=17300 [intake]=17301 [youth-justice]=17302 [camhs]=17303 [mappa]=17304)
declare -A agency=([orchestrator]=orchestrator [intake]=social-care [youth-justice]=youth-justice [camhs]=camhs [mappa]=mappa)

# start_suite STORE WHERE: SQLite in the folder WHERE, or PostgreSQL databases named WHERE_<service>.
start_suite() {
  local store=$1 where=$2
  for service in "${services[@]}"; do
    local extra=() ops=$((port[$service] + 100))
    [ "$service" = intake ] && extra=(--local-authority Camden --profile camden)
    [ "$service" = youth-justice ] && extra=(--profile camden)
    [ "$service" = orchestrator ] && extra=(--agency-endpoint "intake=localhost:17301" --agency-endpoint "youth-justice=localhost:17302"
      --agency-endpoint "camhs=localhost:17303" --agency-endpoint "mappa=localhost:17304")
    if [ "$store" = sqlite ]; then
      extra+=(--data-dir "$where")
    else
      extra+=(--data-dir "$scratch/unused" --database-url "$(database_url "${where}_${service//-/_}")")
    fi
    "$bin/$service" --host 127.0.0.1 --port "${port[$service]}" --ops-port "$ops" --log-format json --log-level warning \
      --tls-certificate "$pki/${agency[$service]}.pem" --tls-key "$pki/${agency[$service]}-key.pem" --tls-ca "$pki/ca.pem" "${extra[@]}" \
      >> "$scratch/$service.log" 2>&1 &
    pids+=($!)
  done
  local health=("$bin/hsbctl" health --tls-certificate "$pki/ops.pem" --tls-key "$pki/ops-key.pem" --tls-ca "$pki/ca.pem")
  for service in "${services[@]}"; do health+=(--endpoint "$service=localhost:${port[$service]}"); done
  for _ in $(seq 1 120); do "${health[@]}" >/dev/null 2>&1 && return 0; sleep 0.5; done
  "${health[@]}" || true
  fail "the suite did not become ready on $store ($where)"
}
database_url() { # name -> the URL of that database on the test server
  echo "${HSB_TEST_POSTGRES_URL%/*}/$1"
}
pg_tool() { # the PostgreSQL client tool of the server's version
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  "$dir/$1" "${@:2}"
}
# The MASH's client, over TLS with social care's certificate and act key.
mash=(env HSB_TLS_CERTIFICATE="$pki/social-care.pem" HSB_TLS_KEY="$pki/social-care-key.pem" HSB_TLS_CA="$pki/ca.pem"
  HSB_ACT_CERTIFICATE="$pki/social-care-act.pem" HSB_ACT_KEY="$pki/social-care-act-key.pem" HSB_ORCHESTRATOR=localhost:17300
  "$bin/hsbctl")
# snapshot FOLDER: every case as the MASH reads it (ProtoJSON), and the overdue and due lists.
snapshot() {
  mkdir -p "$1"
  while read -r case_id; do
    "${mash[@]}" case "$case_id" --agency social-care --user "Backup check" --purpose "backup check" --json > "$1/$case_id.json" ||
      fail "case $case_id could not be read"
  done < "$scratch/case-ids"
  "${mash[@]}" deadlines --agency social-care --within 60 --purpose "backup check" > "$1/deadlines.txt"
}

stores=(sqlite)
if [ -n "${HSB_TEST_POSTGRES_URL:-}" ]; then stores+=(postgres); else echo "backup-restore: no HSB_TEST_POSTGRES_URL: SQLite only"; fi
for store in "${stores[@]}"; do
  : > "$scratch/case-ids"
  if [ "$store" = postgres ]; then
    for service in "${services[@]}"; do
      pg_tool createdb --maintenance-db="$HSB_TEST_POSTGRES_URL" "live_${service//-/_}"
      pg_tool createdb --maintenance-db="$HSB_TEST_POSTGRES_URL" "restored_${service//-/_}"
    done
    live=live restored=restored
  else
    live=$scratch/live restored=$scratch/restored
    mkdir -p "$live" "$restored"
  fi
  start_suite "$store" "$live"
  for file in examples/referrals/*.json; do
    "${mash[@]}" submit "$file" --agency social-care --user "Backup check" --purpose "backup check" --json > "$scratch/reply.json" ||
      fail "$file was refused"
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["case_id"])' "$scratch/reply.json" >> "$scratch/case-ids"
  done
  sort -u -o "$scratch/case-ids" "$scratch/case-ids"
  first_case=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["case_id"])' <(
    "${mash[@]}" submit examples/referrals/school-changing-rooms.json --agency social-care --user "Backup check" --purpose "backup check" --json))
  "${mash[@]}" event "$first_case" examples/events/strategy-meeting.json --agency social-care --user "Backup check" --purpose "backup check" > /dev/null ||
    fail "the strategy meeting was refused"
  cases=$(wc -l < "$scratch/case-ids")

  # Every step landed (the poller sends those the screenings led to), so the cases hold still.
  ops=(env HSB_TLS_CERTIFICATE="$pki/ops.pem" HSB_TLS_KEY="$pki/ops-key.pem" HSB_TLS_CA="$pki/ca.pem" HSB_ORCHESTRATOR=localhost:17300 "$bin/hsbctl")
  for _ in $(seq 1 60); do
    owed=$("${ops[@]}" outbox list --agency ops --purpose "backup check" --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin).get("entries", [])))')
    [ "$owed" = 0 ] && break
    sleep 0.5
  done
  [ "$owed" = 0 ] || fail "$owed steps still owed before the backup"
  # The backup, taken while the suite runs.
  snapshot "$scratch/$store-before"
  mkdir -p "$scratch/$store-backup"
  for service in "${services[@]}"; do
    if [ "$store" = sqlite ]; then
      sqlite3 "$live/$service.sqlite3" ".backup '$scratch/$store-backup/$service.sqlite3'"
    else
      pg_tool pg_dump --format=custom --file="$scratch/$store-backup/$service.dump" "$(database_url "live_${service//-/_}")"
    fi
  done
  # Taken after the backup: it must not come back.
  sed 's/"ex-child-f"/"after-backup-child"/' examples/referrals/urgent-telephone.json > "$scratch/after.json"
  grep -q after-backup-child "$scratch/after.json" || fail "the referral after the backup names no new child"
  late_case=$("${mash[@]}" submit "$scratch/after.json" --agency social-care --user "Backup check" --purpose "backup check" --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["case_id"])')
  stop_suite

  # The restore, into new stores, and the suite started on them alone.
  for service in "${services[@]}"; do
    if [ "$store" = sqlite ]; then
      cp "$scratch/$store-backup/$service.sqlite3" "$restored/$service.sqlite3"
      chmod 600 "$restored/$service.sqlite3"
    else
      pg_tool pg_restore --no-owner --exit-on-error --dbname="$(database_url "restored_${service//-/_}")" "$scratch/$store-backup/$service.dump"
    fi
    where=(--data-dir "$restored")
    [ "$store" = postgres ] && where=(--database-url "$(database_url "restored_${service//-/_}")")
    "$bin/hsbctl" audit verify --service "$service" "${where[@]}" > "$scratch/verify.txt" 2>&1 ||
      fail "$service's restored access log does not verify: $(cat "$scratch/verify.txt")"
  done
  start_suite "$store" "$restored"
  snapshot "$scratch/$store-after"
  diff -r "$scratch/$store-before" "$scratch/$store-after" > "$scratch/diff.txt" ||
    fail "a case or the deadlines read differently after the restore on $store: $(head -40 "$scratch/diff.txt")"
  if "${mash[@]}" case "$late_case" --agency social-care --user "Backup check" --purpose "backup check" > "$scratch/late.txt" 2>&1; then
    fail "the case opened after the backup came back with it on $store"
  fi
  grep -qi "not found\|no case" "$scratch/late.txt" || fail "reading the case opened after the backup failed otherwise: $(cat "$scratch/late.txt")"
  stop_suite
  echo "backup-restore: $store: $cases cases and the deadlines read the same from a backup taken while the suite ran, restored into new stores; every access log verifies; the case opened after the backup is not there"
done
