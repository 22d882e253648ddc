#!/usr/bin/env bash
# Submits the example referrals (examples/referrals, situations drawn from the procedures) to a
# running local suite (deploy/local/run-suite.sh) and prints each case's pathway.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bin=$(swift build --show-bin-path)
state=${HSB_LOCAL_DIR:-$root/.hsb-local}
export HSB_CREDENTIALS_FILE="$state/credentials"
for file in examples/referrals/*.json; do
  echo "=== $(basename "$file" .json)"
  "$bin/hsbctl" submit "$file" --agency social-care --purpose "example referral" || echo "(refused: see above)"
  echo
done
"$bin/hsbctl" deadlines --agency social-care --within 40 --purpose "example referrals"
