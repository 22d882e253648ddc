#!/usr/bin/env bash
# The multi-host test (issue 16): each agency service, the orchestrator and a practitioner's client
# on a host of its own, as a partnership deploys them. The hosts are network namespaces on one
# machine, joined by veth links to a bridge in a namespace of its own (the "switch"), with addresses
# outside loopback (10.77.0.0/24) and the host names of the environment files in each host's
# /etc/hosts (ip netns exec mounts /etc/netns/<host>/hosts). Each service is started from its
# deploy/systemd environment file alone, with only the paths moved to a scratch folder: TLS on,
# ports 7100-7104 and 7200-7204 as shipped, the orchestrator finding each agency by host name.
#
# Then, under a stream of referrals from the client host:
#   1. intake's link is cut (its veth on the switch set down) and restored: the referrals are still
#      taken, their screening steps wait, then land; every referral has one case, intake holds one
#      referral record for each (nothing lost, nothing doubled) and no step is left owed or dead;
#   2. a host with a certificate from another CA, one speaking plaintext and one with TLS but no certificate are refused at the
#      handshake by intake and by the orchestrator (tls_handshakes_refused_total{reason});
#   3. a capture of all traffic on the switch (tcpdump) holds the services' traffic and no child's
#      name, date of birth or subject id.
#
# Needs root (network namespaces) and iproute2, tcpdump, sqlite3 and openssl (scripts/install-deps.sh).
# Without root it says so and exits 0, as deploy/kubernetes/check.sh does without kubectl.
#   deploy/systemd/multihost.sh [REFERRALS]     (default 30)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
count=${1:-30}
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v tcpdump >/dev/null; then
  echo "deploy/systemd/multihost.sh: skipped: needs root, ip (iproute2) and tcpdump for network namespaces and the capture"
  exit 0
fi
bin=$(swift build --show-bin-path)
scratch=$(mktemp -d)
chmod 755 "$scratch"
hosts=(orchestrator intake youth-justice camhs mappa client rogue)
switch=hsbmh-switch
pids=()
capture_pid=

fail() {
  echo "deploy/systemd/multihost.sh: $*" >&2
  for service in orchestrator intake youth-justice camhs mappa; do
    [ -f "$scratch/$service.log" ] && { echo "--- $service (last lines)" >&2; tail -8 "$scratch/$service.log" >&2; }
  done
  exit 1
}
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "$capture_pid" ] && { kill -TERM "$capture_pid" 2>/dev/null || true; wait "$capture_pid" 2>/dev/null || true; }
  # ip netns exec runs each service as its child: stop every process left on each host.
  for host in "${hosts[@]}"; do
    mapfile -t left < <(ip netns pids "hsbmh-$host" 2>/dev/null)
    [ "${#left[@]}" -gt 0 ] && { kill -TERM "${left[@]}" 2>/dev/null || true; }
  done
  for _ in $(seq 1 50); do
    alive=0
    for host in "${hosts[@]}"; do [ -n "$(ip netns pids "hsbmh-$host" 2>/dev/null)" ] && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for host in "${hosts[@]}"; do
    mapfile -t left < <(ip netns pids "hsbmh-$host" 2>/dev/null)
    [ "${#left[@]}" -gt 0 ] && { kill -KILL "${left[@]}" 2>/dev/null || true; }
    ip netns del "hsbmh-$host" 2>/dev/null || true
    rm -rf "/etc/netns/hsbmh-$host"
  done
  ip netns del "$switch" 2>/dev/null || true
  [ -n "${HSB_MULTIHOST_KEEP:-}" ] && { echo "kept: $scratch"; return; }
  rm -rf "$scratch"
}
trap cleanup EXIT
# Leftovers of a run that was killed.
for host in "${hosts[@]}"; do ip netns del "hsbmh-$host" 2>/dev/null || true; done
ip netns del "$switch" 2>/dev/null || true

# --- The network: a switch, and a host per service on it.
ip netns add "$switch"
ip -n "$switch" link add br0 type bridge
ip -n "$switch" link set br0 up
ip -n "$switch" link set lo up
address() { # host -> its address
  local i=10
  for h in "${hosts[@]}"; do
    [ "$h" = "$1" ] && { echo "10.77.0.$i"; return; }
    i=$((i + 1))
  done
}
port_of() { # the switch's port of a host
  echo "p-$1" | cut -c1-15
}
hosts_file=$scratch/hosts
{
  echo "127.0.0.1 localhost"
  for h in orchestrator intake youth-justice camhs mappa; do echo "$(address "$h") $h.hsb.example.gov.uk"; done
} > "$hosts_file"
for host in "${hosts[@]}"; do
  ns=hsbmh-$host
  ip netns add "$ns"
  ip -n "$switch" link add "$(port_of "$host")" type veth peer name eth0 netns "$ns"
  ip -n "$switch" link set "$(port_of "$host")" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$(address "$host")/24" dev eth0
  ip -n "$ns" link set eth0 up
  mkdir -p "/etc/netns/$ns"
  cp "$hosts_file" "/etc/netns/$ns/hosts"
done
run_on() { # host command...: run a command on a host (its network, its /etc/hosts)
  local host=$1
  shift
  ip netns exec "hsbmh-$host" "$@"
}
[ "$(run_on client getent hosts intake.hsb.example.gov.uk | cut -d" " -f1)" = "$(address intake)" ] || fail "the client host does not find intake by its host name"

# Everything that crosses the switch, from before the first service starts.
ip netns exec "$switch" tcpdump -Z root -i br0 -U -s 0 -w "$scratch/switch.pcap" --immediate-mode 2>"$scratch/tcpdump.log" &
capture_pid=$!

# --- The partnership's certificates, and a stranger's.
umask 077
mkdir -p "$scratch/etc/tls" "$scratch/lib" "$scratch/stranger" "$scratch/referrals"
"$bin/hsbctl" pki init --dir "$scratch/etc/tls" --name Partnership >/dev/null
for agency in orchestrator social-care youth-justice camhs mappa; do
  service=$agency
  [ "$agency" = social-care ] && service=intake
  "$bin/hsbctl" pki issue "$agency" --dir "$scratch/etc/tls" --dns "$service.hsb.example.gov.uk" --ip "$(address "$service")" >/dev/null
done
"$bin/hsbctl" pki issue ops --dir "$scratch/etc/tls" >/dev/null
"$bin/hsbctl" pki init --dir "$scratch/stranger" --name Stranger >/dev/null
"$bin/hsbctl" pki issue social-care --dir "$scratch/stranger" >/dev/null
head -c 48 /dev/urandom | base64 > "$scratch/etc/ops-token"
token=$(cat "$scratch/etc/ops-token")

# --- Each service on its host, from its environment file alone.
services=(intake youth-justice camhs mappa orchestrator)
for service in "${services[@]}"; do
  sed -e "s#/etc/hsb#$scratch/etc#g" -e "s#/var/lib/hsb#$scratch/lib#g" "deploy/systemd/$service.env" > "$scratch/etc/$service.env"
  mkdir -p "$scratch/lib/$service"
  mapfile -t settings < <(grep -v '^#' "$scratch/etc/$service.env" | grep .)
  # Two failures after a step was sent, not five, before it is given up: a cut that kept sending
  # steps into a connection it had left hanging would dead-letter them within the test's cut.
  [ "$service" = orchestrator ] && settings+=(HSB_DEAD_AFTER=2)
  run_on "$service" env -i PATH=/usr/bin:/bin "${settings[@]}" "$bin/$service" --log-format json > "$scratch/$service.log" 2>&1 &
  pids+=($!)
done

tls=(--tls-certificate "$scratch/etc/tls/ops.pem" --tls-key "$scratch/etc/tls/ops-key.pem" --tls-ca "$scratch/etc/tls/ca.pem")
health=("$bin/hsbctl" health "${tls[@]}" --endpoint orchestrator=orchestrator.hsb.example.gov.uk:7100)
declare -A rpc_port=([intake]=7101 [youth-justice]=7102 [camhs]=7103 [mappa]=7104)
for service in intake youth-justice camhs mappa; do health+=(--endpoint "$service=$service.hsb.example.gov.uk:${rpc_port[$service]}"); done
for _ in $(seq 1 120); do
  if run_on client "${health[@]}" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.5
done
[ -n "${ready:-}" ] || { run_on client "${health[@]}" || true; fail "the services did not all become SERVING over TLS on their hosts"; }
echo "multihost: five services on five hosts, SERVING over mutual TLS, started from their environment files"

# --- A stream of referrals from the client host, with intake's link cut and restored in the middle.
# The MASH's client: social care's certificate and act key.
mash=(env HSB_TLS_CERTIFICATE="$scratch/etc/tls/social-care.pem" HSB_TLS_KEY="$scratch/etc/tls/social-care-key.pem" HSB_TLS_CA="$scratch/etc/tls/ca.pem"
  HSB_ACT_CERTIFICATE="$scratch/etc/tls/social-care-act.pem" HSB_ACT_KEY="$scratch/etc/tls/social-care-act-key.pem"
  HSB_ORCHESTRATOR=orchestrator.hsb.example.gov.uk:7100)
given_names=(Marigold Peregrine Clementine Bartholomew Wilhelmina Octavian Persephone Leopold)
cut_at=$((count / 3)) restore_at=$((2 * count / 3))
for k in $(seq 1 "$count"); do
  given=${given_names[$((k % ${#given_names[@]}))]}
  cat > "$scratch/referrals/$k.json" <<EOF
{
  "child": {"subject_id": "mh-child-$k", "given_name": "$given", "family_name": "Featherstonehaugh", "date_of_birth": "2011-04-2$((k % 8))", "postcode": "NW5 1AA"},
  "persons_harmed": [{"subject_id": "mh-harmed-$k", "given_name": "Ottoline", "family_name": "Quennell", "date_of_birth": "2013-02-14"}],
  "behaviours": ["brook/13-17/red/8"],
  "harm_indicators": ["coercion-intimidation-or-force"],
  "incident_date": "2026-11-10",
  "referrer": "Designated safeguarding lead, Thistlewood Academy",
  "incident_details": "Multihost referral $k: the younger pupil was pressured into sexual activity.",
  "parents_told": "yes",
  "sexual_activity": true,
  "significant_harm_suspected": true
}
EOF
done
started=$(date +%s)
during_cut=() linked=()
for k in $(seq 1 "$count"); do
  if [ "$k" -eq "$cut_at" ]; then
    ip -n "$switch" link set "$(port_of intake)" down
    echo "multihost: intake's link cut before referral $k"
    cut_time=$(date +%s)
  fi
  if [ "$k" -eq "$restore_at" ]; then
    # Long enough for the orchestrator to have failed to reach intake and backed off several times.
    while [ $(($(date +%s) - cut_time)) -lt 12 ]; do sleep 1; done
    ip -n "$switch" link set "$(port_of intake)" up
    echo "multihost: intake's link restored before referral $k"
  fi
  sent=$(date +%s%N)
  run_on client "${mash[@]}" "$bin/hsbctl" submit "$scratch/referrals/$k.json" --agency social-care --user "Multihost MASH" --purpose "multihost test" --json \
    > "$scratch/referrals/$k.reply" 2> "$scratch/referrals/$k.err" || fail "referral $k was refused: $(cat "$scratch/referrals/$k.err")"
  took=$((($(date +%s%N) - sent) / 1000000))
  if [ "$k" -eq "$cut_at" ]; then
    # What the MASH sees of a referral whose screening cannot reach intake yet.
    case_id=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["case_id"])' "$scratch/referrals/$k.reply")
    run_on client "${mash[@]}" "$bin/hsbctl" case "$case_id" --agency social-care --user "Multihost MASH" --purpose "multihost test" > "$scratch/cut-case.txt"
    grep -q "awaiting screening" "$scratch/cut-case.txt" && grep -Eq "^  to intake: (being sent|waiting)" "$scratch/cut-case.txt" ||
      fail "the case of a referral taken while intake was cut off does not say its screening is on its way: $(cat "$scratch/cut-case.txt")"
    echo "multihost: the MASH sees: $(grep -E "^  to intake: (being sent|waiting)" "$scratch/cut-case.txt" | sed 's/^ *//')"
  fi
  if [ "$k" -ge "$cut_at" ] && [ "$k" -lt "$restore_at" ]; then during_cut+=("$took"); else linked+=("$took"); fi
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
echo "multihost: $count referrals taken in $(($(date +%s) - started)) s; median reply $(median "${linked[@]}") ms with intake linked, $(median "${during_cut[@]}") ms with it cut"

# Every step delivered: nothing owed, nothing given up.
orchestrator_db=$scratch/lib/orchestrator/orchestrator.sqlite3
intake_db=$scratch/lib/intake/intake.sqlite3
query() { sqlite3 -readonly "$1" "PRAGMA busy_timeout = 5000; $2" | tail -1; }
for _ in $(seq 1 180); do
  owed=$(query "$orchestrator_db" "SELECT count(*) FROM outbox WHERE status IN ('pending', 'dead')")
  [ "$owed" = 0 ] && break
  sleep 0.5
done
[ "$owed" = 0 ] || fail "$owed steps still owed or dead 90 s after intake's link came back: $(query "$orchestrator_db" "SELECT group_concat(agency || ' ' || method || ' ' || status || ' ' || last_error, '; ') FROM outbox WHERE status IN ('pending', 'dead')")"
cases=$(query "$orchestrator_db" "SELECT count(DISTINCT child_subject_id) FROM cases WHERE child_subject_id LIKE 'mh-child-%'")
case_rows=$(query "$orchestrator_db" "SELECT count(*) FROM cases WHERE child_subject_id LIKE 'mh-child-%'")
screened=$(query "$intake_db" "SELECT count(*) FROM referrals WHERE subject_id LIKE 'mh-child-%'")
distinct=$(query "$intake_db" "SELECT count(DISTINCT subject_id) FROM referrals WHERE subject_id LIKE 'mh-child-%'")
delivered=$(query "$orchestrator_db" "SELECT count(*) FROM outbox WHERE agency = 'intake' AND status = 'delivered'")
retried=$(query "$orchestrator_db" "SELECT count(*) FROM outbox WHERE agency = 'intake' AND attempts > 1")
[ "$cases" = "$count" ] && [ "$case_rows" = "$count" ] || fail "$count referrals made $case_rows cases for $cases children"
[ "$screened" = "$count" ] && [ "$distinct" = "$count" ] || fail "intake holds $screened referral records for $distinct children, of $count referrals"
[ "$retried" -gt 0 ] || fail "no step to intake needed a second attempt: the cut did not test delivery"
echo "multihost: $count cases, $screened referral records at intake (one each), $delivered steps delivered to intake ($retried after a retry), none owed or dead"

# --- Hosts the partnership's CA did not certify are refused at the handshake.
refused_count() { # service ops-port: tls_handshakes_refused_total summed over reasons
  run_on client curl -s -H "Authorization: Bearer $token" "http://$1.hsb.example.gov.uk:$2/metrics" |
    awk '/^hsb_[a-z_]*tls_handshakes_refused_total/ {sum += $2} END {print sum + 0}'
}
for target in intake:7101:7201 orchestrator:7100:7200; do
  IFS=: read -r service port ops <<< "$target"
  address=$service.hsb.example.gov.uk:$port
  before=$(refused_count "$service" "$ops")
  # A certificate from another CA, naming social care.
  if run_on rogue env -i "$bin/hsbctl" health --endpoint "$service=$address" \
    --tls-certificate "$scratch/stranger/social-care.pem" --tls-key "$scratch/stranger/social-care-key.pem" --tls-ca "$scratch/etc/tls/ca.pem" \
    > "$scratch/rogue.out" 2>&1; then
    fail "$service answered a host whose certificate is from another CA: $(cat "$scratch/rogue.out")"
  fi
  # No TLS at all.
  if run_on rogue env -i "$bin/hsbctl" health --endpoint "$service=$address" > "$scratch/rogue.out" 2>&1; then
    fail "$service answered a host speaking plaintext: $(cat "$scratch/rogue.out")"
  fi
  # TLS with no certificate.
  run_on rogue openssl s_client -connect "$(address "$service"):$port" -CAfile "$scratch/etc/tls/ca.pem" -quiet < /dev/null > "$scratch/rogue.out" 2>&1 || true
  after=$(refused_count "$service" "$ops")
  [ "$after" -ge $((before + 3)) ] || fail "$service counted $((after - before)) refused handshakes for the three strangers (before $before, after $after)"
  echo "multihost: $service refused, at the handshake, a certificate from another CA, plaintext and TLS without a certificate ($((after - before)) refusals counted)"
done

# --- What crossed the switch: the services' traffic, and nothing a child could be named by.
kill -INT "$capture_pid" 2>/dev/null || true
wait "$capture_pid" 2>/dev/null || true
capture_pid=
packets=$(tcpdump -r "$scratch/switch.pcap" -nn 'tcp port 7100 or tcp port 7101' 2>/dev/null | wc -l)
[ "$packets" -gt 100 ] || fail "the capture holds $packets packets to or from the orchestrator and intake: it did not see the traffic"
for needle in Featherstonehaugh Marigold Ottoline Quennell Thistlewood mh-child- mh-harmed- 2013-02-14 "NW5 1AA" "pressured into sexual"; do
  if grep -a -q -- "$needle" "$scratch/switch.pcap"; then fail "the capture between hosts contains \"$needle\""; fi
done
# The check can fail: the same names are in the referral files the client sent.
grep -q Featherstonehaugh "$scratch/referrals/1.json" || fail "the needle is not in what was sent"
echo "multihost: $packets packets captured between the hosts; no child's name, subject id, date of birth, postcode or account in them"
echo "deploy/systemd/multihost.sh: passed"
