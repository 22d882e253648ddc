#!/usr/bin/env bash
# Installs the Debian packages the suite builds against, when any is missing.
set -euo pipefail
# prometheus: promtool, which checks and tests deploy/monitoring's alert rules; shellcheck and yamllint: every script and deployment file;
# systemd: systemd-analyze verify of the unit; curl: the ops port checked as a probe would;
# python3-venv: kubernetes-validate (PyPI) for the rendered Kubernetes manifests; binutils:
# readelf, for the libraries the container's executables link; iproute2, tcpdump, sqlite3 and openssl: the multi-host
# test (network namespaces, a capture of the traffic between hosts, each store counted on its host);
# buildah and debootstrap: the container image built and the suite run from it (deploy/container/smoke.sh);
# docker-compose: renders the compose pilot (deploy/compose/check.sh; no engine runs here);
# chromium and chromium-driver: the workspace's browser tests (scripts/browser-test.sh).
packages=(pkg-config libprotobuf-c-dev protobuf-c-compiler libsqlite3-dev libssl-dev libpq-dev postgresql python3 python3-protobuf prometheus shellcheck yamllint systemd curl python3-venv binutils iproute2 tcpdump sqlite3 openssl buildah debootstrap docker-compose chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
