#!/usr/bin/env bash
# A long fuzzing run: tests/fuzz under the `long` Hypothesis profile (25 times the suite's examples, a fresh
# seed every run, failures kept in .hypothesis/ and replayed first next time). The suite itself runs the
# same tests under the `ci` profile (fixed seed, bounded examples). Extra arguments go to pytest, e.g.
#   ./scripts/fuzz.sh -k gguf                      # one family
#   TOKAUDIT_FUZZ_SCALE=100 ./scripts/fuzz.sh       # 100 times the suite's examples
# See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export TOKAUDIT_FUZZ=long HF_HUB_OFFLINE=1
# on a clean finish nothing was found; a failure prints the shrunk input and a @reproduce_failure line
exec "$PY" -m pytest tests/fuzz -q -p no:cacheprovider --hypothesis-show-statistics "$@"
