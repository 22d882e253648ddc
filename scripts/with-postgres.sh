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
# TLS for the store's links: a throwaway CA and a server certificate naming localhost (not 127.0.0.1,
# so verify-full by address fails on the name while verify-ca passes),
# and a second CA that signed nothing here (a client trusting only it must refuse the server).
tls="$dir/tls"
mkdir -p "$tls"
for ca in ca other-ca; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=hsb test $ca" \
    -keyout "$tls/$ca.key" -out "$tls/$ca.pem" >/dev/null 2>&1
done
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
  -keyout "$tls/server.key" -out "$tls/server.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost\n' >"$tls/san.ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -days 2 \
  -extfile "$tls/san.ext" -out "$tls/server.pem" >/dev/null 2>&1
chmod 600 "$tls/server.key"
[ ${#run_as[@]} -eq 0 ] || chown -R postgres "$tls"
chmod 755 "$tls"
chmod 644 "$tls/ca.pem" "$tls/other-ca.pem"
"${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=on -c synchronous_commit=on -c ssl=on -c ssl_cert_file=$tls/server.pem -c ssl_key_file=$tls/server.key" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
"${run_as[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U hsb hsb_test
export HSB_TEST_POSTGRES_URL="postgresql://hsb@127.0.0.1:$port/hsb_test"
# The CA that signed the server's certificate, and one that did not (TLS tests).
export HSB_TEST_POSTGRES_CA="$tls/ca.pem" HSB_TEST_POSTGRES_OTHER_CA="$tls/other-ca.pem"
"$@"
