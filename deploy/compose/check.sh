#!/usr/bin/env bash
# Checks the compose pilot (no container engine runs here, so the services are run from the
# compose file's own settings instead):
#   1. compose.yaml is valid (Debian's docker-compose renders it) and refuses to render without
#      the passwords of .env;
#   2. the rendered file meets the suite's rules (checked below): each service as the image's user
#      with a read-only root, no capability and no privilege escalation, its own executable, its
#      own agency's certificate from a volume only it mounts, the CA key mounted by the set-up
#      alone, only the orchestrator's and Prometheus's ports published and on loopback only, the
#      orchestrator's endpoints and Prometheus's targets matching the services' ports;
#   3. Prometheus's configuration (promtool) and its jobs against deploy/monitoring's;
#   4. pki.sh, run here with this build's hsbctl, gives each service its own key and no other,
#      names each service's compose host in its certificate, and keeps what exists when run again;
#   5. postgres-init.sh, run against a throwaway PostgreSQL (HSB_TEST_POSTGRES_URL, from
#      scripts/with-postgres.sh), makes one database per service that only its role may open;
#   6. the five services, started on loopback from the environment compose gives each container
#      (host names and ports moved, /tls pointed at pki.sh's output, the database at step 5's),
#      all become SERVING over mutual TLS, and a referral is screened.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
here=deploy/compose
command -v docker-compose >/dev/null || { echo "docker-compose not found: apt-get install docker-compose" >&2; exit 2; }
bin=$(swift build --show-bin-path)
scratch=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() {
  echo "deploy/compose: $*" >&2
  for log in "$scratch"/*.log; do [ -f "$log" ] && { echo "--- $(basename "$log")" >&2; tail -5 "$log" >&2; }; done
  exit 1
}

# 1. Renders, and not without the passwords.
: > "$scratch/empty.env"
if docker-compose --env-file "$scratch/empty.env" -f "$here/compose.yaml" config -q > "$scratch/missing.txt" 2>&1; then
  fail "compose.yaml renders without the passwords of .env"
fi
grep -q "set POSTGRES_SUPERUSER_PASSWORD in deploy/compose/.env" "$scratch/missing.txt" || fail "the missing password is not named: $(cat "$scratch/missing.txt")"
sed 's/^\([A-Z_]*PASSWORD[A-Z_]*\)=$/\1=check-password/' "$here/env.example" > "$scratch/env"
docker-compose --env-file "$scratch/env" -f "$here/compose.yaml" config > "$scratch/rendered.yaml"

# 2. The rules, on the rendered file; also writes each service's environment for step 6.
python3 - "$scratch/rendered.yaml" "$here/prometheus.yml" deploy/monitoring/prometheus.yml "$scratch" <<'PY'
import sys, yaml
rendered = yaml.safe_load(open(sys.argv[1]))
prometheus = yaml.safe_load(open(sys.argv[2]))
shipped = yaml.safe_load(open(sys.argv[3]))
out = sys.argv[4]
services = rendered["services"]
agency = {"orchestrator": "orchestrator", "intake": "social-care", "youth-justice": "youth-justice", "camhs": "camhs", "mappa": "mappa"}
rpc = {"orchestrator": 7100, "intake": 7101, "youth-justice": 7102, "camhs": 7103, "mappa": 7104}
problems = []
def check(ok, message):
    if not ok:
        problems.append(message)

def ports(service):
    result = []
    for p in services[service].get("ports", []):
        if isinstance(p, str):
            parts = p.split(":")
            result.append({"host_ip": parts[0] if len(parts) == 3 else "0.0.0.0", "target": parts[-1].split("/")[0]})
        else:
            result.append(p)
    return result

def volumes(service):
    result = []
    for v in services[service].get("volumes", []):
        if isinstance(v, str):
            parts = v.split(":")
            result.append({"source": parts[0], "target": parts[1], "read_only": len(parts) > 2 and parts[2] == "ro"})
        else:
            result.append(v)
    return result

check(set(services) == set(rpc) | {"pki", "postgres", "prometheus"}, f"services: {sorted(services)}")
for name, port in rpc.items():
    s = services[name]
    env = s.get("environment", {})
    check(s.get("user") == "10001:10001", f"{name} does not run as the image's user")
    check(s.get("read_only") is True, f"{name}'s root filesystem is writable")
    check(s.get("cap_drop") == ["ALL"] and not s.get("cap_add"), f"{name} keeps a capability")
    check("no-new-privileges:true" in s.get("security_opt", []), f"{name} may gain privileges")
    check(s.get("command") == [name], f"{name} runs {s.get('command')}")
    check(s.get("image") == services["pki"].get("image"), f"{name} runs another image")
    check(env.get("HSB_TLS_CERTIFICATE") == f"/tls/{agency[name]}.pem" and env.get("HSB_TLS_KEY") == f"/tls/{agency[name]}-key.pem",
          f"{name} does not present {agency[name]}'s certificate")
    check(env.get("HSB_TLS_CA") == "/tls/ca.pem" and env.get("HSB_OPS_TOKEN_FILE") == "/tls/ops-token", f"{name}: CA or ops token missing")
    check(str(env.get("HSB_PORT")) == str(port) and str(env.get("HSB_OPS_PORT")) == str(port + 100), f"{name}'s ports are not {port} and {port + 100}")
    role = "hsb_" + name.replace("-", "_")
    check(str(env.get("HSB_DATABASE_URL", "")).startswith(f"postgresql://{role}:") and f"@postgres:5432/{role}?" in str(env.get("HSB_DATABASE_URL", "")),
          f"{name}'s store is not its own database {role}")
    mounts = {v["target"]: v for v in volumes(name)}
    check(mounts.get("/tls", {}).get("source") == f"tls-{name}" and mounts["/tls"].get("read_only"), f"{name} does not mount its own tls-{name} read-only at /tls")
    check(not any(v["source"].startswith("tls-") and v["source"] != f"tls-{name}" for v in volumes(name)), f"{name} mounts another service's keys")
    check(not any(v["source"] == "pki-ca" for v in volumes(name)), f"{name} mounts the CA's key")
    depends = s.get("depends_on", {})
    check(depends.get("pki", {}).get("condition") == "service_completed_successfully" and depends.get("postgres", {}).get("condition") == "service_healthy",
          f"{name} may start before its certificates or its database")
    test = s.get("healthcheck", {}).get("test", [])
    check(f"{name}={name}:{port}" in test and f"/tls/{agency[name]}.pem" in test, f"{name}'s health check does not ask it with its own certificate")
    published = ports(name)
    if name == "orchestrator":
        check(len(published) == 1 and str(published[0].get("host_ip")) == "127.0.0.1" and int(published[0]["target"]) == 7100,
              f"the orchestrator's port is not published on loopback alone: {published}")
    else:
        check(not published, f"{name} publishes {published}")
    # The environment the container gets, for step 6.
    with open(f"{out}/{name}.compose-env", "w") as f:
        for key, value in sorted(env.items()):
            f.write(f"{key}={value}\n")
endpoints = dict(e.split("=", 1) for e in services["orchestrator"]["environment"]["HSB_AGENCY_ENDPOINTS"].split(","))
check(endpoints == {n: f"{n}:{p}" for n, p in rpc.items() if n != "orchestrator"}, f"the orchestrator's endpoints: {endpoints}")
check([v["source"] for v in volumes("pki") if v["source"] == "pki-ca"] == ["pki-ca"], "the set-up does not keep the CA in pki-ca")
check(services["pki"].get("network_mode") == "none", "the set-up has a network")
check(set(services["pki"].get("cap_add", [])) <= {"CHOWN", "DAC_OVERRIDE", "FOWNER"}, "the set-up has more than the capabilities to hand files over")
check("ports" not in services["postgres"], "PostgreSQL is published")
prom = services["prometheus"]
check(prom.get("read_only") is True and prom.get("cap_drop") == ["ALL"], "Prometheus keeps a capability or a writable root")
sources = {v["target"]: v["source"] for v in volumes("prometheus")}
check(sources.get("/etc/prometheus/alerts.yml", "").endswith("deploy/monitoring/alerts.yml"), "Prometheus does not load the suite's alert rules")
check(all(str(p.get("host_ip")) == "127.0.0.1" for p in ports("prometheus")), "Prometheus is published off loopback")
jobs = {j["job_name"]: j["static_configs"][0]["targets"] for j in prometheus["scrape_configs"]}
check(set(jobs) == {j["job_name"] for j in shipped["scrape_configs"]}, "the pilot's Prometheus jobs differ from deploy/monitoring's")
check(jobs == {f"hsb-{n}": [f"{n}:{p + 100}"] for n, p in rpc.items()}, f"Prometheus's targets: {jobs}")
check(all(j["authorization"]["credentials_file"] == "/etc/prometheus/hsb/ops-token" for j in prometheus["scrape_configs"]), "a job scrapes without the token")
for p in problems:
    print(f"deploy/compose: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY

# 3. Prometheus's configuration.
promtool check config --syntax-only "$here/prometheus.yml" > /dev/null

# 4. The set-up, twice.
export HSB_PKI_CA_DIR=$scratch/ca HSB_PKI_OUT=$scratch/out HSBCTL=$bin/hsbctl HSB_PKI_NO_CHOWN=1
sh "$here/pki.sh" > /dev/null
sums=$(cd "$scratch" && find ca out -type f -exec sha256sum {} + | sort)
sh "$here/pki.sh" > /dev/null
[ "$(cd "$scratch" && find ca out -type f -exec sha256sum {} + | sort)" = "$sums" ] || fail "pki.sh run again changed what it had made"
declare -A agency=([orchestrator]=orchestrator [intake]=social-care [youth-justice]=youth-justice [camhs]=camhs [mappa]=mappa)
for service in orchestrator intake youth-justice camhs mappa; do
  a=${agency[$service]}
  [ "$(ls "$scratch/out/$service" | sort | tr '\n' ' ')" = "$(printf '%s\n' ca.pem "$a-key.pem" "$a.pem" ops-token | sort | tr '\n' ' ')" ] ||
    fail "$service's folder holds $(ls "$scratch/out/$service" | tr '\n' ' ')"
  openssl x509 -in "$scratch/out/$service/$a.pem" -noout -ext subjectAltName | grep -q "DNS:$service\b" || fail "$service's certificate does not name the host $service"
done
[ ! -e "$scratch/out/clients/ca-key.pem" ] && ! ls "$scratch"/out/*/ca-key.pem >/dev/null 2>&1 || fail "the CA's key left the set-up's volume"
[ -f "$scratch/out/clients/social-care-act-key.pem" ] && [ -f "$scratch/out/prometheus/ops-token" ] || fail "the clients' act keys or Prometheus's token are missing"
echo "deploy/compose: compose.yaml renders and meets the rules; pki.sh gives each service its own key, and keeps what it made"

# 5 and 6 need PostgreSQL.
if [ -z "${HSB_TEST_POSTGRES_URL:-}" ]; then
  echo "deploy/compose: the services were not run from compose's settings: no HSB_TEST_POSTGRES_URL (run under scripts/with-postgres.sh)"
  exit 0
fi
pg_host=$(sed -E 's#^postgresql://[^@]*@([^:/]*):([0-9]*)/.*#\1#' <<< "$HSB_TEST_POSTGRES_URL")
pg_port=$(sed -E 's#^postgresql://[^@]*@([^:/]*):([0-9]*)/.*#\2#' <<< "$HSB_TEST_POSTGRES_URL")
# As the PostgreSQL image runs it: the superuser's psql on the server, the passwords from .env.
while IFS='=' read -r key value; do export "$key=$value"; done < <(grep '^HSB_DB_PASSWORD_' "$scratch/env")
PGHOST=$pg_host PGPORT=$pg_port POSTGRES_USER=hsb sh "$here/postgres-init.sh" > "$scratch/postgres-init.log" 2>&1 || fail "postgres-init.sh: $(cat "$scratch/postgres-init.log")"
if psql "postgresql://hsb_camhs@$pg_host:$pg_port/hsb_intake" -c 'SELECT 1' > "$scratch/cross.txt" 2>&1; then
  fail "camhs's role opened intake's database"
fi
grep -q "permission denied for database" "$scratch/cross.txt" || fail "camhs's role was refused otherwise: $(cat "$scratch/cross.txt")"

# Each service from its container's environment: /tls is its pki.sh folder, host names are
# loopback (each certificate names localhost too), ports moved to 27100-27204, the database here.
for service in intake youth-justice camhs mappa orchestrator; do
  sed -e "s#/tls/#$scratch/out/$service/#g" -e 's#=\([a-z-]*\):\(710[0-4]\)#=localhost:2\2#g' -e 's#,\([a-z-]*\):\(710[0-4]\)#,localhost:2\2#g' \
    -e 's#^\(HSB_\(OPS_\)\{0,1\}PORT=\)\(7[12]0[0-4]\)$#\12\3#' -e "s#@postgres:5432/#@$pg_host:$pg_port/#" \
    -e "s#^HSB_DATA_DIR=.*#HSB_DATA_DIR=$scratch/data-$service#" "$scratch/$service.compose-env" > "$scratch/$service.env"
  mkdir -p "$scratch/data-$service"
  mapfile -t settings < "$scratch/$service.env"
  env -i PATH=/usr/bin:/bin "${settings[@]}" HSB_HOST=127.0.0.1 HSB_OPS_HOST=127.0.0.1 "$bin/$service" > "$scratch/$service.log" 2>&1 &
  pids+=($!)
done
clients=$scratch/out/clients
health=("$bin/hsbctl" health --tls-certificate "$clients/ops.pem" --tls-key "$clients/ops-key.pem" --tls-ca "$clients/ca.pem"
  --endpoint orchestrator=localhost:27100 --endpoint intake=localhost:27101 --endpoint youth-justice=localhost:27102
  --endpoint camhs=localhost:27103 --endpoint mappa=localhost:27104)
for _ in $(seq 1 120); do
  if "${health[@]}" > /dev/null 2>&1; then ready=1; break; fi
  sleep 0.5
done
[ -n "${ready:-}" ] || { "${health[@]}" || true; fail "the services did not all become SERVING from compose's settings"; }
"$bin/hsbctl" submit examples/referrals/school-changing-rooms.json --orchestrator localhost:27100 --agency social-care --user "Compose check" \
  --purpose "compose check" --tls-certificate "$clients/social-care.pem" --tls-key "$clients/social-care-key.pem" --tls-ca "$clients/ca.pem" \
  --act-certificate "$clients/social-care-act.pem" --act-key "$clients/social-care-act-key.pem" > "$scratch/submit.txt" 2>&1 ||
  fail "the referral was refused: $(cat "$scratch/submit.txt")"
grep -q "^Threshold: child protection" "$scratch/submit.txt" || fail "the referral was not screened: $(head -5 "$scratch/submit.txt")"
echo "deploy/compose: postgres-init.sh makes a database per service that only its role opens; the five services run from compose's settings on PostgreSQL, SERVING over mutual TLS, and screen a referral"
