#!/usr/bin/env bash
# The suite's test command (README.md, and CI through .ci/run):
# dependencies, the generated-code and formatting checks, a build of every target (warnings are
# errors), then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/generate-protos.sh --check
scripts/check-format.sh
swift build
swift test
