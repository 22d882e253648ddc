#!/usr/bin/env bash
# Starts the whole suite on loopback: the four agency services and the orchestrator, each with
# its SQLite store under .hsb-local/data, over mutual TLS with a local partnership CA and agency
# certificates made on first run (.hsb-local/pki). HSB_LOCAL_PLAINTEXT=1 runs it without TLS, on
# generated shared secrets instead (.hsb-local/credentials).
# Then starts the practitioners' workspace on http://127.0.0.1:7300/ with local accounts made on
# first run (their passwords are printed each time; .hsb-local/workspace/passwords).
# Waits until every service is ready, says where everything is, and stops them all on Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
scripts/install-deps.sh
swift build
bin=$(swift build --show-bin-path)

state=${HSB_LOCAL_DIR:-$root/.hsb-local}
# Stores, logs and secrets hold children's records: readable by this user alone.
umask 077
mkdir -p "$state/data" "$state/logs"
chmod 700 "$state" "$state/data" "$state/logs"
pki="$state/pki"
if [ ! -f "$pki/ca.pem" ]; then
  "$bin/hsbctl" pki init --dir "$pki" --name "Local" >/dev/null
  for agency in orchestrator social-care youth-justice camhs mappa police education health ops; do
    "$bin/hsbctl" pki issue "$agency" --dir "$pki" >/dev/null
  done
fi
# Each service presents its own agency's certificate; intake is run by children's social care.
agency_of() {
  case "$1" in
    intake) echo social-care ;;
    *) echo "$1" ;;
  esac
}
tls_for() {
  echo --tls-certificate "$pki/$1.pem" --tls-key "$pki/$1-key.pem" --tls-ca "$pki/ca.pem"
}
creds="$state/credentials"
if [ -n "${HSB_LOCAL_PLAINTEXT:-}" ] && [ ! -f "$creds" ]; then
  {
    echo "# Local caller secrets, generated $(date -u +%FT%TZ). Never commit this file."
    for agency in orchestrator social-care youth-justice camhs mappa police education health ops; do
      echo "$agency $("$bin/hsbctl" new-secret)"
    done
  } > "$creds"
fi

pids=()
stop() {
  trap - INT TERM
  echo
  echo "stopping the suite..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped."
  exit 0
}
trap stop INT TERM

for service in intake youth-justice camhs mappa orchestrator; do
  extra=()
  [ "$service" = intake ] && extra=(--local-authority "${HSB_LOCAL_AUTHORITY:-Camden}" --profile "${HSB_PROFILE:-camden}")
  [ "$service" = youth-justice ] && extra=(--profile "${HSB_PROFILE:-camden}")
  if [ -n "${HSB_LOCAL_PLAINTEXT:-}" ]; then
    transport=(--credentials-file "$creds")
  else
    read -r -a transport <<< "$(tls_for "$(agency_of "$service")")"
  fi
  "$bin/$service" --data-dir "$state/data" "${transport[@]}" --log-format json "${extra[@]}" \
    > "$state/logs/$service.log" 2>&1 &
  pids+=($!)
done

# hsbctl health asks as ops, over TLS unless the suite runs plaintext.
health=("$bin/hsbctl" health)
[ -z "${HSB_LOCAL_PLAINTEXT:-}" ] && read -r -a ops_tls <<< "$(tls_for ops)" && health+=("${ops_tls[@]}")

echo "waiting for every service to report ready..."
for _ in $(seq 1 120); do
  if "${health[@]}" >/dev/null 2>&1; then
    ready=1; break
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a service exited during start-up; see $state/logs" >&2; stop; }
  done
  sleep 0.5
done
if [ -z "${ready:-}" ]; then echo "the suite did not become ready in 60 s; see $state/logs" >&2; stop; fi

"${health[@]}"

# The workspace: local accounts of each agency, made once; it calls the orchestrator with each
# agency's own certificate (the local PKI holds them all; a real deployment holds one agency's).
workspace_note="Workspace:    not started (it needs the suite's mutual TLS; unset HSB_LOCAL_PLAINTEXT)"
if [ -z "${HSB_LOCAL_PLAINTEXT:-}" ]; then
  ws="$state/workspace"
  mkdir -p "$ws"
  chmod 700 "$ws"
  if [ ! -f "$ws/accounts" ]; then
    : > "$ws/passwords"
    for account in mash.screener:social-care:practitioner social.worker:social-care:practitioner yj.officer:youth-justice:practitioner \
      police.officer:police:practitioner camhs.clinician:camhs:practitioner ops.engineer:ops:ops; do
      IFS=: read -r user agency role <<< "$account"
      "$bin/workspace" add-account --accounts "$ws/accounts" --username "$user" --agency "$agency" --role "$role" --generate-password >> "$ws/passwords"
    done
  fi
  "$bin/workspace" serve --listen "${HSB_WORKSPACE_LISTEN:-127.0.0.1:7300}" --credentials-dir "$pki" --accounts "$ws/accounts" \
    --log-format json > "$state/logs/workspace.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 60); do
    grep -q '"workspace listening"' "$state/logs/workspace.log" 2>/dev/null && break
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "the workspace exited during start-up; see $state/logs/workspace.log" >&2; stop; }
    sleep 0.5
  done
  workspace_note="Workspace:    http://${HSB_WORKSPACE_LISTEN:-127.0.0.1:7300}/ — local accounts (username (agency, role): password):
$(sed 's/^/  /' "$ws/passwords")"
fi
if [ -n "${HSB_LOCAL_PLAINTEXT:-}" ]; then
  transport_note="Credentials:  $creds (plaintext, local only)"
else
  transport_note="Mutual TLS:   CA and agency certificates in $pki (local only). To act as an agency (here social care):
  export HSB_TLS_CERTIFICATE=$pki/social-care.pem HSB_TLS_KEY=$pki/social-care-key.pem HSB_TLS_CA=$pki/ca.pem
  export HSB_ACT_CERTIFICATE=$pki/social-care-act.pem HSB_ACT_KEY=$pki/social-care-act-key.pem"
fi
cat <<MSG

The suite is running on loopback.
  service        RPC port   ops port (GET /healthz /readyz /metrics)
  orchestrator   7100       7200
  intake         7101       7201
  youth-justice  7102       7202
  camhs          7103       7203
  mappa          7104       7204
$workspace_note
Stores:       $state/data
Logs:         $state/logs (JSON lines)
$transport_note
Check health: ${health[*]}
Press Ctrl-C to stop every service gracefully.
MSG
wait
