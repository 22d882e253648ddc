#!/usr/bin/env bash
# The suite's test command (README.md, and CI through .ci/run):
# dependencies, the generated-code and formatting checks, a build of every target (warnings are
# errors), then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/generate-protos.sh --check
scripts/generate-swift-wire.py --check
scripts/generate-fixtures.sh --check
scripts/check-format.sh
# The deployment files: alert rules and their unit tests (promtool), YAML, the Kubernetes
# overlays (rendered, validated, checked) and every shell script.
deploy/monitoring/check.sh
yamllint -c .yamllint.yml deploy/
deploy/kubernetes/check.sh
shellcheck -S warning scripts/*.sh deploy/*/*.sh .ci/run
swift build
# The Containerfile, statically (stages, user, executables, the libraries they link), and the
# systemd unit, which verifies, and each service started over TLS from its own environment file.
deploy/container/check.sh
deploy/systemd/check.sh
# The partnership across hosts: each service on a network namespace of its own, over mutual TLS,
# from its environment file; a link cut and restored under a stream of referrals (nothing lost or
# doubled), strangers refused at the handshake, and a capture between hosts with no child's name.
deploy/systemd/multihost.sh
# A bounded, seeded fuzz run against every service kind (docs/SECURITY.md); scripts/fuzz.sh runs long ones.
HSB_FUZZ_BUILD=debug scripts/fuzz.sh 30000 "${HSB_FUZZ_SEED:-1129}"
# The compose pilot: rendered and checked, its set-up scripts run, its services run from its settings.
scripts/with-postgres.sh deploy/compose/check.sh
# Backup and restore as docs/OPERATIONS.md describes them, on SQLite and on PostgreSQL.
scripts/with-postgres.sh scripts/backup-restore.sh
# The storage tests run against SQLite and against a real PostgreSQL server started for them.
scripts/with-postgres.sh swift test
# The practitioners' workspace in headless Chromium against the suite run-suite.sh starts: sign in,
# a referral by keyboard alone, a strategy meeting closing its task, need to know, lockout, CSRF,
# and axe-core on every page (screenshots in .build/browser-test).
scripts/browser-test.sh
# The image: its runtime stage built with buildah on a Debian 12 base made by debootstrap, and the
# suite run from it as its unprivileged user (last: it relinks the executables statically).
deploy/container/smoke.sh
