#!/usr/bin/env bash
# Checks the Containerfile statically (deploy/container/smoke.sh builds its runtime stage and runs
# the suite from it; the build stage's base cannot be pulled here): two stages, the runtime on Debian 12 slim as a non-root user with
# no compiler, no sources and no -dev package; every executable built, copied and named by the
# entrypoint; and every shared library the executables link directly provided by a package the
# runtime stage installs (or the base image has), read from the built executables with readelf.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
file=deploy/container/Containerfile
entry=deploy/container/entrypoint.sh
problems=()
fail() { problems+=("$1"); }

[ "$(grep -c '^FROM ' "$file")" = 2 ] || fail "expected a build stage and a runtime stage"
grep -q '^FROM docker.io/library/swift:6.3-[a-z]* AS build$' "$file" || fail "the build stage is not Swift 6.3"
runtime=$(awk '/^FROM /{n++} n==2' "$file")
grep -q '^FROM docker.io/library/debian:12-slim$' <<< "$runtime" || fail "the runtime stage is not Debian 12 slim"
grep -Eq '^USER [1-9][0-9]*(:[1-9][0-9]*)?$' <<< "$runtime" || fail "the runtime stage does not switch to a non-root user"
if grep -Eq 'swift |gcc|clang|-dev( |$)|build-essential' <<< "$runtime"; then fail "the runtime stage installs a compiler or a -dev package"; fi
while read -r line; do
  case "$line" in
    "COPY --from=build "*|"COPY deploy/container/entrypoint.sh "*) ;;
    *) fail "the runtime stage copies from outside the build stage: $line" ;;
  esac
done < <(grep '^COPY ' <<< "$runtime")
grep -q '^ENTRYPOINT \["/usr/local/bin/hsb-entrypoint"\]$' <<< "$runtime" || fail "the entrypoint is not hsb-entrypoint"

# Every executable product (but the fuzzer, and the workspace, which is deployed with systemd
# behind an HTTPS proxy and is not in the image yet: docs/WORKSPACE.md) is built, and the
# entrypoint runs it.
mapfile -t products < <(grep -o '\.executable(name: "[a-z-]*"' Package.swift | sed 's/.*"\(.*\)"/\1/' | grep -v -e '^hsb-fuzz$' -e '^workspace$')
# SwiftPM builds only the last of several --product flags given to one `swift build`, so each
# product is built by its own, in a loop over the products, and copied by a loop over the same list.
if grep -Eq -- '--product [^ ]+ .*--product' "$file"; then fail "one swift build is given several --product flags: only the last is built"; fi
grep -q -- 'swift build -c release --static-swift-stdlib $STATIC_FOUNDATION --product "$product"' "$file" || fail "the products are not built one by one in a loop"
grep -q '^ARG STATIC_FOUNDATION="-Xlinker --start-group .*-Xlinker --end-group"$' "$file" || fail "the static Foundation libraries are not linked as one group"
mapfile -t loops < <(sed -n 's/.*for product in \(.*\); do.*/\1/p' "$file")
[ "${#loops[@]}" = 2 ] && [ "${loops[0]}" = "${loops[1]}" ] || fail "the build loop and the copy loop do not name the same products"
for product in "${products[@]}"; do
  grep -qw -- "$product" <<< "${loops[0]:-}" || fail "$product is not built"
  grep -q "^  .*\\b$product\\b.*)" "$entry" || fail "the entrypoint does not run $product"
done

# The runtime's packages provide each library the executables link (the Swift runtime is linked in).
packages=$(grep -A3 'apt-get install' <<< "$runtime" | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -v -E '^(apt-get|install|rm|-rf|-y|-q)$' || true)
base="libc6 libgcc-s1 libstdc++6 zlib1g"
bin=$(swift build --show-bin-path)
for product in "${products[@]}"; do
  [ -x "$bin/$product" ] || { fail "build the executables first ($bin/$product is missing)"; continue; }
  while read -r library; do
    case "$library" in libswift*|libFoundation*|lib_Foundation*|libdispatch*|libBlocksRuntime*) continue ;; esac
    package=$( (dpkg -S "$library" 2>/dev/null || true) | awk -F': ' -v l="/$library" 'index($2, l) == length($2) - length(l) + 1 {split($1, p, ":"); print p[1]}' | sort -u | head -1)
    [ -n "$package" ] || { fail "$product links $library, which no installed package provides"; continue; }
    grep -qx "$package" <<< "$packages" || grep -qw "$package" <<< "$base" || fail "$product links $library ($package), which the runtime stage does not install"
  done < <(readelf -d "$bin/$product" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done

# The entrypoint refuses what it does not know.
if sh "$entry" nonsense 2>/dev/null; then fail "the entrypoint runs an unknown executable"; fi

if [ ${#problems[@]} -gt 0 ]; then
  printf 'deploy/container: %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "deploy/container: the Containerfile's stages, user, executables and libraries check out (statically)"
