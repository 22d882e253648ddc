#!/usr/bin/env bash
# Builds the image's runtime stage for real and runs the suite from it. What these machines allow:
# buildah builds and runs with chroot isolation (podman's and buildah's OCI runtime are refused
# by the sandbox), and no registry is reachable, so
#   - the base image docker.io/library/debian:12-slim is made here by debootstrap (minbase) from
#     Debian's archive and imported under that name;
#   - the build stage (docker.io/library/swift:6.3-bookworm) cannot be pulled: its work is done on
#     this machine instead, each product built as the stage builds it (--static-swift-stdlib, one
#     --product at a time; debug here, release in the Containerfile, to keep CI short);
#   - the runtime stage is the Containerfile's own, taken from it unchanged but for its one
#     `COPY --from=build` line, which copies those executables instead.
# Then, from the image as its user (10001), through its entrypoint, over mutual TLS: the four
# agency services and the orchestrator start on loopback, hsbctl (from the image) finds them all
# SERVING and submits a referral that is screened, the ops port answers, and the entrypoint
# refuses an executable it does not know. Needs root, buildah and debootstrap (scripts/install-deps.sh);
# without them it says so and exits 0.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if [ "$(id -u)" -ne 0 ] || ! command -v buildah >/dev/null || ! command -v debootstrap >/dev/null; then
  echo "deploy/container/smoke.sh: skipped: needs root, buildah and debootstrap"
  exit 0
fi
scratch=$(mktemp -d "$root/.build/container-smoke.XXXXXX")
buildah=(buildah --root "$scratch/storage" --runroot "$scratch/run" --storage-driver vfs)
pids=()
cleanup() {
  # SwiftPM does not recompile the executables' own modules when the static build's flags go
  # away, so the next build would link them against the static libraries: mark them changed.
  touch Package.swift Services/{Intake,YouthJustice,CAMHS,MAPPA,Orchestrator,HSBCtl}/*.swift
  for pid in "${pids[@]}"; do pkill -TERM -P "$pid" 2>/dev/null || true; kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "${HSB_SMOKE_KEEP:-}" ] && { echo "kept: $scratch"; return; }
  "${buildah[@]}" rm --all >/dev/null 2>&1 || true
  "${buildah[@]}" rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() {
  echo "deploy/container/smoke.sh: $*" >&2
  for log in "$scratch"/*.log; do [ -f "$log" ] && { echo "--- $(basename "$log")" >&2; tail -5 "$log" >&2; }; done
  exit 1
}
products=(intake youth-justice camhs mappa orchestrator hsbctl)

# The build stage's work: each product with the Swift runtime linked in.
mkdir -p "$scratch/context/out" "$scratch/context/deploy/container"
bin=$(swift build --show-bin-path)
# The Containerfile's own link flags (its ARG STATIC_FOUNDATION).
read -r -a static_foundation <<< "$(sed -n 's/^ARG STATIC_FOUNDATION="\(.*\)"$/\1/p' deploy/container/Containerfile)"
[ "${#static_foundation[@]}" -gt 0 ] || fail "the Containerfile has no ARG STATIC_FOUNDATION"
for product in "${products[@]}"; do
  swift build --static-swift-stdlib "${static_foundation[@]}" --product "$product" > "$scratch/build.log" 2>&1 ||
    fail "swift build --product $product: $(tail -5 "$scratch/build.log")"
  strip -o "$scratch/context/out/$product" "$bin/$product"
done
cp deploy/container/entrypoint.sh "$scratch/context/deploy/container/"

# The base image, from Debian's archive (kept under .build/ between local runs).
base=.build/debian-12-minbase.tar
if [ ! -f "$base" ]; then
  debootstrap --variant=minbase bookworm "$scratch/rootfs" http://deb.debian.org/debian > "$scratch/debootstrap.log" 2>&1 ||
    fail "debootstrap: $(tail -3 "$scratch/debootstrap.log")"
  tar -C "$scratch/rootfs" -cf "$base.part" . && mv "$base.part" "$base"
  rm -rf "$scratch/rootfs"
fi
container=$("${buildah[@]}" from scratch)
"${buildah[@]}" add "$container" "$base" / >/dev/null
"${buildah[@]}" commit -q "$container" docker.io/library/debian:12-slim >/dev/null
"${buildah[@]}" rm "$container" >/dev/null

# The Containerfile's runtime stage, its one COPY from the build stage pointed at those executables.
awk '/^FROM /{n++} n==2' deploy/container/Containerfile > "$scratch/context/Containerfile"
grep -q '^COPY --from=build /out/ /usr/local/bin/$' "$scratch/context/Containerfile" || fail "the runtime stage's COPY --from=build line has changed: update this script"
sed -i 's#^COPY --from=build /out/ /usr/local/bin/$#COPY out/ /usr/local/bin/#' "$scratch/context/Containerfile"
"${buildah[@]}" bud --isolation chroot --pull-never -q -f "$scratch/context/Containerfile" -t localhost/hsb-suite:smoke "$scratch/context" > "$scratch/bud.log" 2>&1 ||
  fail "buildah bud: $(tail -5 "$scratch/bud.log")"
config=$("${buildah[@]}" inspect --type image --format '{{.OCIv1.Config.User}} {{.OCIv1.Config.Entrypoint}}' localhost/hsb-suite:smoke)
[ "$config" = '10001:10001 [/usr/local/bin/hsb-entrypoint]' ] || fail "the image's user and entrypoint are '$config'"
size=$("${buildah[@]}" images --format '{{.Size}}' localhost/hsb-suite:smoke | head -1)
echo "container smoke: the runtime stage built from the Containerfile ($size, user 10001, entrypoint hsb-entrypoint)"

# The partnership's certificates, readable by the image's user only.
umask 077
pki=$scratch/pki
"$bin/hsbctl" pki init --dir "$pki" --name Smoke >/dev/null
for agency in orchestrator social-care youth-justice camhs mappa ops; do "$bin/hsbctl" pki issue "$agency" --dir "$pki" >/dev/null; done
head -c 48 /dev/urandom | base64 > "$pki/ops-token"
chown -R 10001:10001 "$pki"
chmod 700 "$pki"

# run_in CONTAINER LOG COMMAND...: the command in a container of the image, as its user, on this
# host's network, with the certificates and the examples mounted read-only.
run_in() {
  local container=$1 log=$2
  shift 2
  "${buildah[@]}" run --isolation chroot --user 10001:10001 -v "$pki:/tls:ro" -v "$root/examples:/examples:ro" "$container" -- "$@" \
    > "$scratch/$log.log" 2>&1
}
new_container() { "${buildah[@]}" from --pull-never localhost/hsb-suite:smoke; }
# The practitioner's and ops' hsbctl, from the image too.
client=$(new_container)
declare -A port=([orchestrator]=17500 [intake]=17501 [youth-justice]=17502 [camhs]=17503 [mappa]=17504)
declare -A agency=([orchestrator]=orchestrator [intake]=social-care [youth-justice]=youth-justice [camhs]=camhs [mappa]=mappa)
for service in intake youth-justice camhs mappa orchestrator; do
  extra=()
  [ "$service" = intake ] && extra=(--local-authority Camden --profile camden)
  [ "$service" = orchestrator ] && extra=(--agency-endpoint intake=127.0.0.1:17501 --agency-endpoint youth-justice=127.0.0.1:17502
    --agency-endpoint camhs=127.0.0.1:17503 --agency-endpoint mappa=127.0.0.1:17504)
  container=$(new_container)
  run_in "$container" "$service" /usr/local/bin/hsb-entrypoint "$service" --host 127.0.0.1 --port "${port[$service]}" --ops-port "$((port[$service] + 100))" \
    --tls-certificate "/tls/${agency[$service]}.pem" --tls-key "/tls/${agency[$service]}-key.pem" --tls-ca /tls/ca.pem --ops-token-file /tls/ops-token \
    "${extra[@]}" &
  pids+=($!)
done
health=(/usr/local/bin/hsb-entrypoint hsbctl health --tls-certificate /tls/ops.pem --tls-key /tls/ops-key.pem --tls-ca /tls/ca.pem)
for service in intake youth-justice camhs mappa orchestrator; do health+=(--endpoint "$service=127.0.0.1:${port[$service]}"); done
for _ in $(seq 1 60); do
  if run_in "$client" health "${health[@]}"; then ready=1; break; fi
  sleep 1
done
[ -n "${ready:-}" ] || fail "the services run from the image did not all become SERVING: $(cat "$scratch/health.log")"
echo "container smoke: five services run from the image as user 10001, SERVING over mutual TLS: $(grep -c SERVING "$scratch/health.log") of 5"

run_in "$client" submit /usr/local/bin/hsb-entrypoint hsbctl submit /examples/referrals/school-changing-rooms.json --orchestrator 127.0.0.1:17500 \
  --agency social-care --user "Smoke test" --purpose "container smoke test" \
  --tls-certificate /tls/social-care.pem --tls-key /tls/social-care-key.pem --tls-ca /tls/ca.pem \
  --act-certificate /tls/social-care-act.pem --act-key /tls/social-care-act-key.pem ||
  fail "the referral was refused: $(cat "$scratch/submit.log")"
grep -q "Threshold: child protection" "$scratch/submit.log" || fail "the referral was not screened: $(head -5 "$scratch/submit.log")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$pki/ops-token")" http://127.0.0.1:17600/readyz)
[ "$code" = 200 ] || fail "the orchestrator's /readyz answered $code"
echo "container smoke: hsbctl from the image submitted a referral, screened: $(grep -m1 '^Threshold' "$scratch/submit.log")"

if run_in "$client" refused /usr/local/bin/hsb-entrypoint sh -c true; then fail "the entrypoint ran an executable it should refuse"; fi
grep -q "name the executable to run" "$scratch/refused.log" || fail "the entrypoint's refusal does not say what to run: $(cat "$scratch/refused.log")"
echo "deploy/container/smoke.sh: passed"
