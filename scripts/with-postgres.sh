#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server on loopback, and HSB_TEST_POSTGRES_URL set to
# a database on it; the server and its files are removed afterwards.
#   scripts/with-postgres.sh swift test
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bindir" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2; exit 2; }
dir=$(mktemp -d /tmp/hsb-pg.XXXXXX)
port=$(( 20000 + RANDOM % 20000 ))
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root.
  chown postgres "$dir"
  run_as=(runuser -u postgres --)
fi
cleanup() {
  "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"${run_as[@]}" "$bindir/initdb" -D "$dir/data" -U hsb --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
"${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=on -c synchronous_commit=on" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
"${run_as[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U hsb hsb_test
export HSB_TEST_POSTGRES_URL="postgresql://hsb@127.0.0.1:$port/hsb_test"
"$@"
