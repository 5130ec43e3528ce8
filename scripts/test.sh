#!/usr/bin/env bash
# The project's test command (`npm test`): type-check, then every vitest project (Dawn/lavapipe in
# Node, and headless Chromium), then, for a whole-suite run, the after-all checks over what the run
# dispatched (tests/after-all/, a second invocation that reads the first one's kernel-usage reports),
# then the plain "N passed, N failed" line CI counts tests from.
set -uo pipefail
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
cd "$(dirname "$0")/.."
tsc -p . || { echo "0 passed, 1 failed"; exit 1; }
mkdir -p .vitest
rm -f .vitest/results.json .vitest/results-after-all.json
export SOFTDIFF_RUN_ID="$(date +%s%N)-$$"
vitest run --reporter=default --reporter=json --outputFile.json=.vitest/results.json "$@"
rc=$?
if [ $# -eq 0 ]; then
  SOFTDIFF_AFTER_ALL=1 vitest run --reporter=default --reporter=json --outputFile.json=.vitest/results-after-all.json
  rc2=$?
  [ $rc -eq 0 ] && rc=$rc2
fi
if [ -f .vitest/results.json ]; then
  node -e '
    const fs = require("fs");
    const files = [".vitest/results.json", ".vitest/results-after-all.json"].filter((f) => fs.existsSync(f));
    const r = files.map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
    const sum = (k) => r.reduce((s, x) => s + x[k], 0);
    console.log(`${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed, ${sum("numPendingTests") + sum("numTodoTests")} skipped`);'
else
  echo "0 passed, 1 failed"; rc=1
fi
exit $rc
