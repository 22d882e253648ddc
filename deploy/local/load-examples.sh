#!/usr/bin/env bash
# Submits the example referrals (examples/referrals, situations drawn from the procedures) to a
# running local suite (deploy/local/run-suite.sh) and prints each case's pathway.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bin=$(swift build --show-bin-path)
state=${HSB_LOCAL_DIR:-$root/.hsb-local}
if [ -f "$state/credentials" ] && [ -n "${HSB_LOCAL_PLAINTEXT:-}" ]; then
  export HSB_CREDENTIALS_FILE="$state/credentials"
else
  # Social care's certificate: the MASH submits the referrals.
  export HSB_TLS_CERTIFICATE="$state/pki/social-care.pem" HSB_TLS_KEY="$state/pki/social-care-key.pem" HSB_TLS_CA="$state/pki/ca.pem"
  export HSB_ACT_CERTIFICATE="$state/pki/social-care-act.pem" HSB_ACT_KEY="$state/pki/social-care-act-key.pem"
fi
for file in examples/referrals/*.json; do
  echo "=== $(basename "$file" .json)"
  "$bin/hsbctl" submit "$file" --agency social-care --purpose "example referral" || echo "(refused: see above)"
  echo
done
"$bin/hsbctl" deadlines --agency social-care --within 40 --purpose "example referrals"
