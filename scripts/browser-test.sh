#!/usr/bin/env bash
# The practitioners' workspace in a real browser. Starts the suite and the workspace exactly as a
# developer would, with deploy/local/run-suite.sh (in a scratch folder of its own), checks it
# printed the workspace's address and local accounts, then runs Tests/Browser/test_workspace.py
# in headless Chromium (selenium, axe-core 4.12). Screenshots of every page and the axe report go
# to .build/browser-test (or $HSB_BROWSER_OUT). Needs the local suite's ports (7100-7104,
# 7200-7204, 7300) free.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${HSB_BROWSER_OUT:-$root/.build/browser-test}
rm -rf "$out"
mkdir -p "$out/screenshots"
venv=.build/browser-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import selenium, axe_selenium_python, importlib.util as u; assert u.find_spec('axe_playwright_python')" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q selenium==4.51.0 axe-selenium-python==2.1.6
  # Only its axe-core 4.12 (WCAG 2.2 rules) is used; playwright itself is not installed.
  "$venv/bin/pip" install -q --no-deps axe-playwright-python==0.1.8
fi
for port in 7100 7300; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "browser-test: port $port is in use (a local suite running?); stop it first" >&2
    exit 1
  fi
done

scratch=$(mktemp -d)
HSB_LOCAL_DIR="$scratch" deploy/local/run-suite.sh > "$out/run-suite.log" 2>&1 &
suite=$!
finish() {
  kill -TERM "$suite" 2>/dev/null || true
  wait "$suite" 2>/dev/null || true
  rm -rf "$scratch"
}
trap finish EXIT
for _ in $(seq 1 300); do
  grep -q "Press Ctrl-C" "$out/run-suite.log" && break
  kill -0 "$suite" 2>/dev/null || { cat "$out/run-suite.log" >&2; echo "browser-test: run-suite.sh exited" >&2; exit 1; }
  sleep 1
done
grep -q "Press Ctrl-C" "$out/run-suite.log" || { echo "browser-test: the suite did not start in 300 s" >&2; exit 1; }
grep -q "^Workspace:    http://127.0.0.1:7300/" "$out/run-suite.log" || { echo "browser-test: run-suite.sh did not print the workspace's address" >&2; exit 1; }
accounts=$(grep -E '^  [a-z.]+ \([a-z-]+, (practitioner|ops)\): ' "$out/run-suite.log")
[ "$(printf '%s\n' "$accounts" | wc -l)" -ge 6 ] || { echo "browser-test: run-suite.sh did not print the local accounts" >&2; exit 1; }

WORKSPACE_URL=http://127.0.0.1:7300 WORKSPACE_ACCOUNTS="$accounts" WORKSPACE_SHOTS="$out/screenshots" \
  timeout 900 "$venv/bin/python" Tests/Browser/test_workspace.py
echo "browser-test: screenshots and the axe report in $out/screenshots"
