#!/usr/bin/env bash
# The project's test command (`npm test`): type-check, then every vitest project (Dawn/lavapipe in
# Node, and headless Chromium), then the plain "N passed, N failed" line CI counts tests from.
set -uo pipefail
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
cd "$(dirname "$0")/.."
tsc -p . || { echo "0 passed, 1 failed"; exit 1; }
mkdir -p .vitest
rm -f .vitest/results.json
vitest run --reporter=default --reporter=json --outputFile.json=.vitest/results.json "$@"
rc=$?
if [ -f .vitest/results.json ]; then
  node -e 'const r=JSON.parse(require("fs").readFileSync(".vitest/results.json","utf8"));console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests+r.numTodoTests} skipped`)'
else
  echo "0 passed, 1 failed"; rc=1
fi
exit $rc
