#!/usr/bin/env bash
# The workspace under load (issue 17; run on demand, never in the tests). The five services and
# the workspace, release builds over mutual TLS as deployed, on loopback (ports 7900-7904,
# 8000-8004, workspace 7950). One case is given 200+ chronology entries (referrals of one child);
# then wrk, 50 connections on 2 threads, three ways: as 50 practitioners each waiting 1 s, or
# 250 ms, after a page before the next (wrk's delay()), and saturated (no wait: latency is then
# mostly queueing, 50 / requests per second). Three pages alternate in each round:
#   /healthz        the anchor: the same HTTP server and middleware, no session, no orchestrator call;
#   /tray           the work tray of a signed-in practitioner (a ListDeadlines call);
#   /cases/<id>     the case page with its 200+ chronology entries (a GetCase call, then Mustache).
# Usage: Benchmarks/workspace.sh [SECONDS-PER-ROUND] [ROUNDS]; prints a Markdown table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-10}
rounds=${2:-3}
command -v wrk >/dev/null || { apt-get install -y -q wrk >/dev/null 2>&1 || { echo "workspace.sh needs wrk (Debian: apt-get install wrk)" >&2; exit 1; }; }
echo "building (release)..." >&2
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d "$root/.hsb-bench-ws.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
pki="$work/pki"
"$bin/hsbctl" pki init --dir "$pki" --name Bench >/dev/null
for agency in orchestrator social-care youth-justice camhs mappa ops; do "$bin/hsbctl" pki issue "$agency" --dir "$pki" >/dev/null; done
tls() { echo --tls-certificate "$pki/$1.pem" --tls-key "$pki/$1-key.pem" --tls-ca "$pki/ca.pem"; }
i=0
for service in orchestrator intake youth-justice camhs mappa; do
  agency=$service
  [ "$service" = intake ] && agency=social-care
  extra=()
  [ "$service" = intake ] && extra=(--local-authority Camden --profile camden)
  [ "$service" = youth-justice ] && extra=(--profile camden)
  [ "$service" = orchestrator ] && extra=(--agency-endpoint intake=127.0.0.1:7901 --agency-endpoint youth-justice=127.0.0.1:7902
    --agency-endpoint camhs=127.0.0.1:7903 --agency-endpoint mappa=127.0.0.1:7904)
  read -r -a transport <<< "$(tls "$agency")"
  "$bin/$service" --port $((7900 + i)) --ops-port $((8000 + i)) --data-dir "$work" "${transport[@]}" --log-level warning "${extra[@]}" \
    > "$work/$service.log" 2>&1 &
  pids+=($!)
  i=$((i + 1))
done
read -r -a ops <<< "$(tls ops)"
endpoints=(--endpoint orchestrator=127.0.0.1:7900 --endpoint intake=127.0.0.1:7901 --endpoint youth-justice=127.0.0.1:7902
  --endpoint camhs=127.0.0.1:7903 --endpoint mappa=127.0.0.1:7904)
for _ in $(seq 1 120); do "$bin/hsbctl" health "${ops[@]}" "${endpoints[@]}" >/dev/null 2>&1 && break; sleep 0.5; done
"$bin/hsbctl" health "${ops[@]}" "${endpoints[@]}" >/dev/null

password="bench-password-$(date +%s)"
echo "$password" | "$bin/workspace" add-account --accounts "$work/accounts" --username bench.screener --agency social-care >/dev/null
"$bin/workspace" serve --listen 127.0.0.1:7950 --orchestrator 127.0.0.1:7900 --credentials-dir "$pki" --accounts "$work/accounts" \
  --idle-minutes 480 > "$work/workspace.log" 2>&1 &
pids+=($!)
workspace_pid=$!
for _ in $(seq 1 60); do grep -q "listening on" "$work/workspace.log" && break; sleep 0.5; done

# A case with 200+ chronology entries: referrals of one child, each a new one (its referrer differs).
export HSB_TLS_CERTIFICATE="$pki/social-care.pem" HSB_TLS_KEY="$pki/social-care-key.pem" HSB_TLS_CA="$pki/ca.pem"
export HSB_ORCHESTRATOR=127.0.0.1:7900 HSB_AGENCY=social-care HSB_USER=bench
echo "building a case with 200+ chronology entries..." >&2
for n in $(seq 1 100); do
  cat > "$work/referral.json" <<JSON
{"child": {"subject_id": "bench-child", "given_name": "Bench", "date_of_birth": "2012-03-10"},
 "behaviours": ["brook/13-17/amber/5"], "incident_date": "2026-11-10", "referrer": "school nurse, visit $n",
 "incident_details": "exposure in the playground", "parents_told": "yes"}
JSON
  "$bin/hsbctl" submit "$work/referral.json" --json > "$work/case.json"
done
case_id=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['case_id'])" "$work/case.json")
entries=$("$bin/hsbctl" case "$case_id" --purpose benchmark --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)['chronology']))")

# Sign in as a browser would: the sign-in page's CSRF token and cookie, then the form.
jar="$work/cookies"
csrf=$(curl -s -c "$jar" -b "$jar" http://127.0.0.1:7950/sign-in | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{32\}')
curl -s -c "$jar" -b "$jar" -o /dev/null --data "csrf=$csrf&username=bench.screener&password=$password" http://127.0.0.1:7950/sign-in
cookie=$(awk '$6 == "hsb_session" {print $6 "=" $7}' "$jar")
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:7950/cases/$case_id")" = 200 ] || { echo "the case page did not load" >&2; exit 1; }
page_bytes=$(curl -s -H "Cookie: $cookie" "http://127.0.0.1:7950/cases/$case_id" | wc -c)

# wrk's latency distribution, as "requests/s p50-ms p99-ms"; $2 "usersN": N ms between a connection's requests.
echo 'function delay() return 1000 end' > "$work/users1000.lua"
echo 'function delay() return 250 end' > "$work/users250.lua"
measure() {
  local script=()
  [ "$2" != saturated ] && script=(-s "$work/$2.lua")
  wrk -t2 -c50 -d"${seconds}s" --latency "${script[@]}" -H "Cookie: $cookie" "http://127.0.0.1:7950$1" | awk '
    / 50%/ {p50=$2} / 99%/ {p99=$2} /Requests\/sec/ {rps=$2} /Non-2xx/ {bad=$4}
    function ms(t) { if (t ~ /us$/) return t/1000; if (t ~ /ms$/) return t+0; if (t ~ /s$/) return t*1000; return t }
    END { if (bad != "") { print "non-2xx " bad > "/dev/stderr"; exit 1 } printf "%.0f %.2f %.2f\n", rps, ms(p50), ms(p99) }'
}
declare -A results
for round in $(seq 1 "$rounds"); do
  for mode in users1000 users250 saturated; do
    for page in healthz tray case; do
      case $page in healthz) path=/healthz ;; tray) path=/tray ;; case) path="/cases/$case_id" ;; esac
      echo "round $round: $mode $page..." >&2
      # HSB_BENCH_PERF=DIR: a perf profile of the workspace under the first saturated round of each page.
      perf_pid=
      if [ -n "${HSB_BENCH_PERF:-}" ] && [ "$round" = 1 ] && [ "$mode" = saturated ]; then
        mkdir -p "$HSB_BENCH_PERF"
        perf record -F 499 -g -p "$workspace_pid" -o "$HSB_BENCH_PERF/workspace-$page.data" -- sleep "$seconds" >/dev/null 2>&1 &
        perf_pid=$!
      fi
      results[$mode-$page]+="$(measure "$path" "$mode");"
      if [ -n "$perf_pid" ]; then wait "$perf_pid" || true; fi
    done
  done
done
median() { tr ';' '\n' | grep -v '^$' | sort -n -k"$1" | awk -v k="$1" '{v[NR]=$k} END {print v[int((NR+1)/2)]}'; }
echo "| load | page | requests/s | p50 ms | p99 ms | p99 against /healthz |"
echo "|---|---|---:|---:|---:|---:|"
for mode in users1000 users250 saturated; do
  anchor=$(echo "${results[$mode-healthz]}" | median 3)
  for page in healthz tray case; do
    rps=$(echo "${results[$mode-$page]}" | median 1)
    p50=$(echo "${results[$mode-$page]}" | median 2)
    p99=$(echo "${results[$mode-$page]}" | median 3)
    name=$page
    [ "$page" = case ] && name="case page ($entries chronology entries, $page_bytes bytes)"
    [ "$page" = tray ] && name="work tray"
    [ "$page" = healthz ] && name="/healthz (anchor)"
    case $mode in
      users1000) load="50 practitioners, a page a second each" ;;
      users250) load="50 practitioners, 250 ms between pages" ;;
      saturated) load="50 connections, no wait (saturated)" ;;
    esac
    echo "| $load | $name | $rps | $p50 | $p99 | $(awk -v a="$anchor" -v b="$p99" 'BEGIN {printf "%.1fx", b / a}') |"
  done
done
echo
echo "wrk -t2 -c50, ${seconds} s a round, ${rounds} rounds alternating, medians; $(nproc) cores shared by wrk, the workspace and the five services."
