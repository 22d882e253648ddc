#!/bin/sh
# The pilot's one-shot set-up (the compose service "pki"), run before the partnership starts:
# a partnership CA and every certificate the pilot needs (hsbctl pki), and the ops token. The CA
# and its key stay in $HSB_PKI_CA_DIR (a volume only this set-up mounts). Each service gets a
# folder of its own under $HSB_PKI_OUT (a volume only that service mounts): its agency's
# certificate and key, the CA certificate and the ops token. Prometheus gets the token; "clients"
# gets every agency's certificates and act-signing keys, for the practitioners' hsbctl.
# Run again, it keeps what exists and fills in what is missing.
#   In the pilot:  compose up runs it first;   by hand:
#   HSB_PKI_CA_DIR=./ca HSB_PKI_OUT=./out HSBCTL=hsbctl HSB_PKI_NO_CHOWN=1 deploy/compose/pki.sh
set -eu
umask 077
ca=${HSB_PKI_CA_DIR:-/ca}
out=${HSB_PKI_OUT:-/out}
hsbctl=${HSBCTL:-/usr/local/bin/hsbctl}
mkdir -p "$ca" "$out"
[ -f "$ca/ca.pem" ] || "$hsbctl" pki init --dir "$ca" --name "${HSB_PARTNERSHIP_NAME:-Pilot partnership}" >/dev/null
[ -f "$ca/ops-token" ] || head -c 48 /dev/urandom | base64 > "$ca/ops-token"
# Each service answers on its compose host name; the orchestrator also on the host's loopback,
# where the pilot publishes its port for the practitioners' hsbctl.
for agency in orchestrator social-care youth-justice camhs mappa police education health ops; do
  case "$agency" in
    social-care) hosts="--dns intake" ;;
    orchestrator | youth-justice | camhs | mappa) hosts="--dns $agency" ;;
    *) hosts="" ;;
  esac
  # shellcheck disable=SC2086 # the host names are separate arguments
  [ -f "$ca/$agency.pem" ] || "$hsbctl" pki issue "$agency" --dir "$ca" $hosts --dns localhost --ip 127.0.0.1 >/dev/null
done
for service in orchestrator intake youth-justice camhs mappa; do
  agency=$service
  [ "$service" = intake ] && agency=social-care
  mkdir -p "$out/$service"
  cp "$ca/ca.pem" "$ca/$agency.pem" "$ca/$agency-key.pem" "$ca/ops-token" "$out/$service/"
done
mkdir -p "$out/prometheus" "$out/clients"
cp "$ca/ops-token" "$out/prometheus/"
for agency in social-care youth-justice camhs mappa police education health ops; do
  cp "$ca/$agency.pem" "$ca/$agency-key.pem" "$out/clients/"
  [ -f "$ca/$agency-act.pem" ] && cp "$ca/$agency-act.pem" "$ca/$agency-act-key.pem" "$out/clients/"
done
cp "$ca/ca.pem" "$out/clients/"
if [ -z "${HSB_PKI_NO_CHOWN:-}" ]; then
  # The services run as 10001 (the image's user), Prometheus as nobody (65534).
  chown -R 10001:10001 "$out"/orchestrator "$out"/intake "$out"/youth-justice "$out"/camhs "$out"/mappa "$out/clients"
  chown -R 65534:65534 "$out/prometheus"
  chmod 0700 "$out"/*
fi
echo "pki: the partnership's certificates and the ops token are in place"
