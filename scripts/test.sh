#!/usr/bin/env bash
# The suite's test command (README.md, and CI through .ci/run):
# dependencies, the generated-code check, a build of every target, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/generate-protos.sh --check
swift build
swift test
