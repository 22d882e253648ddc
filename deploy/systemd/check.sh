#!/usr/bin/env bash
# Checks the systemd files: the unit passes `systemd-analyze verify` for every service, and each
# service's environment file starts that service for real. The files are copied to a scratch
# folder with their paths (/etc/hsb, /var/lib/hsb, /usr/local/bin) and host names moved there and
# the ports moved to 17100-17204 (a 1 before each); TLS certificates come from `hsbctl pki`. Run as
# root, the services run as nobody, as the unit runs them as hsb. Every service must report
# ready on /readyz, /metrics must need the ops token, and hsbctl health must find all five SERVING over TLS.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bin=$(swift build --show-bin-path)
scratch=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
umask 077
mkdir -p "$scratch/etc/tls" "$scratch/lib"

"$bin/hsbctl" pki init --dir "$scratch/etc/tls" --name Check >/dev/null
for agency in orchestrator social-care youth-justice camhs mappa ops; do
  "$bin/hsbctl" pki issue "$agency" --dir "$scratch/etc/tls" --dns localhost --ip 127.0.0.1 >/dev/null
done
head -c 48 /dev/urandom | base64 > "$scratch/etc/ops-token"
token=$(cat "$scratch/etc/ops-token")

services=(intake youth-justice camhs mappa orchestrator)
for service in "${services[@]}"; do
  # The unit, for this service, run from the built executables.
  sed -e "s#/usr/local/bin/%i#$bin/%i#" -e "s#/etc/hsb/%i.env#$scratch/etc/%i.env#" deploy/systemd/hsb@.service > "$scratch/hsb@$service.service"
  systemd-analyze verify --man=no "$scratch/hsb@$service.service"
  # The environment file, moved into the scratch folder.
  sed -e "s#/etc/hsb#$scratch/etc#g" -e "s#/var/lib/hsb#$scratch/lib#g" -e 's#[a-z-]*\.hsb\.example\.gov\.uk#localhost#g' \
    -e 's#:\(710[0-4]\)#:1\1#g' -e 's#^\(HSB_\(OPS_\)\{0,1\}PORT=\)\(7[12]0[0-4]\)$#\11\3#' \
    "deploy/systemd/$service.env" > "$scratch/etc/$service.env"
done

# As the unit's User=hsb: run as root (CI), the services run as nobody, owning their files.
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  for service in "${services[@]}"; do mkdir -p "$scratch/lib/$service"; done
  chown -R 65534:65534 "$scratch/etc" "$scratch/lib"
  chmod 755 "$scratch"
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
fi
for service in "${services[@]}"; do
  mkdir -p "$scratch/lib/$service"
  # As systemd would: the environment file only, nothing inherited.
  mapfile -t settings < <(grep -v '^#' "$scratch/etc/$service.env" | grep .)
  "${as_user[@]}" env -i PATH=/usr/bin:/bin "${settings[@]}" "$bin/$service" --log-format json > "$scratch/$service.log" 2>&1 &
  pids+=($!)
done

health=("$bin/hsbctl" health --tls-certificate "$scratch/etc/tls/ops.pem" --tls-key "$scratch/etc/tls/ops-key.pem" --tls-ca "$scratch/etc/tls/ca.pem"
  --endpoint intake=localhost:17101 --endpoint youth-justice=localhost:17102 --endpoint camhs=localhost:17103 --endpoint mappa=localhost:17104
  --endpoint orchestrator=localhost:17100)
for _ in $(seq 1 120); do
  if "${health[@]}" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.5
done
if [ -z "${ready:-}" ]; then
  "${health[@]}" || true
  for service in "${services[@]}"; do echo "--- $service"; tail -5 "$scratch/$service.log"; done
  echo "deploy/systemd: the services did not all become ready from their environment files" >&2
  exit 1
fi
for port in 17200 17201 17202 17203 17204; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$port/readyz")
  [ "$code" = 200 ] || { echo "deploy/systemd: /readyz on $port answered $code with the token" >&2; exit 1; }
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")
  [ "$code" = 401 ] || { echo "deploy/systemd: /metrics on $port answered $code without the token" >&2; exit 1; }
done

# The workspace from its environment file, as the unit runs it (hsb@workspace), with one account:
# it must answer /healthz, sign the practitioner in and show their work tray from the orchestrator.
sed -e "s#/usr/local/bin/%i#$bin/%i#" -e "s#/etc/hsb/%i.env#$scratch/etc/%i.env#" deploy/systemd/hsb@.service > "$scratch/hsb@workspace.service"
systemd-analyze verify --man=no "$scratch/hsb@workspace.service"
sed -e "s#/etc/hsb#$scratch/etc#g" -e 's#[a-z-]*\.hsb\.example\.gov\.uk#localhost#g' -e 's#:\(710[0-4]\)#:1\1#g' -e 's#:7300$#:17300#' \
  -e 's#:7200/#:17200/#' deploy/systemd/workspace.env > "$scratch/etc/workspace.env"
password=$(head -c 18 /dev/urandom | base64)
echo "$password" | "$bin/workspace" add-account --accounts "$scratch/etc/workspace-accounts" --username check.screener --agency social-care --cost 10 >/dev/null
echo "$password" | "$bin/workspace" add-account --accounts "$scratch/etc/workspace-accounts" --username check.ops --agency ops --role ops --cost 10 >/dev/null
[ -n "${as_user[*]}" ] && chown 65534:65534 "$scratch/etc/workspace-accounts"
mapfile -t settings < <(grep -v '^#' "$scratch/etc/workspace.env" | grep .)
"${as_user[@]}" env -i PATH=/usr/bin:/bin "${settings[@]}" "$bin/workspace" --log-format json > "$scratch/workspace.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do
  [ "$(curl -s http://127.0.0.1:17300/healthz 2>/dev/null)" = ok ] && break
  sleep 0.5
done
[ "$(curl -s http://127.0.0.1:17300/healthz)" = ok ] || { cat "$scratch/workspace.log" >&2; echo "deploy/systemd: the workspace did not start from its environment file" >&2; exit 1; }
jar="$scratch/cookies"
csrf=$(curl -s -c "$jar" -b "$jar" http://127.0.0.1:17300/sign-in | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{32\}')
code=$(curl -s -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$csrf" --data-urlencode "username=check.screener" \
  --data-urlencode "password=$password" http://127.0.0.1:17300/sign-in)
[ "$code" = 303 ] || { echo "deploy/systemd: signing in to the workspace answered $code" >&2; exit 1; }
tray=$(curl -s -c "$jar" -b "$jar" http://127.0.0.1:17300/tray)
grep -q "<h1>Work tray</h1>" <<< "$tray" || { tail -5 "$scratch/workspace.log" >&2; echo "deploy/systemd: the work tray did not load from the orchestrator" >&2; exit 1; }
# The ops page reads the orchestrator's gauges with the ops token from the environment file.
ops_jar="$scratch/ops-cookies"
csrf=$(curl -s -c "$ops_jar" -b "$ops_jar" http://127.0.0.1:17300/sign-in | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{32\}')
curl -s -c "$ops_jar" -b "$ops_jar" -o /dev/null --data-urlencode "csrf=$csrf" --data-urlencode "username=check.ops" \
  --data-urlencode "password=$password" http://127.0.0.1:17300/sign-in
ops_page=$(curl -s -c "$ops_jar" -b "$ops_jar" http://127.0.0.1:17300/ops)
grep -q "<dt>Overdue deadlines</dt><dd>[0-9]" <<< "$ops_page" || { echo "deploy/systemd: the ops page did not read the orchestrator's gauges" >&2; exit 1; }
echo "deploy/systemd: the unit verifies for every service and the workspace; each environment file starts its service over TLS"
