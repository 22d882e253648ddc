#!/usr/bin/env bash
# Hostile frames against a real service of every kind (intake, youth-justice, camhs, mappa, the
# orchestrator), in one process over loopback: random bytes, cut and oversized frames, hostile
# credentials, and signed requests for every method whose payload is the method's message filled
# with extreme values. Fails on a crash (the process dies), a hang, or a service that no longer
# serves afterwards. docs/SECURITY.md records the long runs.
#
#   scripts/fuzz.sh [FRAMES] [SEED]      default: 10,000,000 frames, seed 1, release build
#   HSB_FUZZ_BUILD=debug scripts/fuzz.sh 30000    the bounded run scripts/test.sh makes
set -euo pipefail
cd "$(dirname "$0")/.."
frames="${1:-10000000}"
seed="${2:-${HSB_FUZZ_SEED:-1}}"
configuration="${HSB_FUZZ_BUILD:-release}"
swift build -c "$configuration" --product hsb-fuzz >&2
ulimit -n 4096 2>/dev/null || true
exec ".build/$configuration/hsb-fuzz" "$frames" "$seed"
