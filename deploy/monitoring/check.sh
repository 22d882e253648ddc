#!/usr/bin/env bash
# Checks the monitoring files: the alert rules and Prometheus configuration with promtool (Debian's
# `prometheus` package), and the rules' unit tests (alerts.test.yml).
set -euo pipefail
cd "$(dirname "$0")"
command -v promtool >/dev/null || { echo "promtool not found: apt-get install prometheus" >&2; exit 2; }
promtool check rules alerts.yml
# --syntax-only: the token file the configuration names exists on the Prometheus host, not here.
promtool check config --syntax-only prometheus.yml
promtool test rules alerts.test.yml
