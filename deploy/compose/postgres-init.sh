#!/bin/sh
# Run once by the PostgreSQL image on an empty data volume (/docker-entrypoint-initdb.d): a
# database and a role per service, each role owning only its own database, with the passwords
# from the pilot's .env file.
set -eu
for service in intake youth_justice camhs mappa orchestrator; do
  variable=HSB_DB_PASSWORD_$(echo "$service" | tr '[:lower:]' '[:upper:]')
  password=$(printenv "$variable")
  [ -n "$password" ] || { echo "postgres-init: $variable is empty" >&2; exit 1; }
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="hsb_$service" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
