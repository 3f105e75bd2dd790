#!/usr/bin/env bash
# Install gate into the Action's own virtual environment: every runtime dependency from the hash-pinned
# lock (action/requirements.txt; wheels only, nothing unpinned), then gate's wheel, built from the
# action's folder in a throwaway environment that holds the lock's pinned build tools (setuptools, wheel
# and what only they need). Those build tools never enter gate's environment. The job's own Python and
# PATH are left as they were.
set -euo pipefail

BUILD_ONLY="setuptools wheel packaging"  # NOTE: tests/test_action.py checks the lock says they are build-only
env_dir="$(dirname "$GATE_VENV")"
export PIP_CACHE_DIR="$env_dir/pip" PIP_DISABLE_PIP_VERSION_CHECK=1
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The lock, split in two: each requirement line with its --hash lines goes to runtime.txt or build.txt.
awk -v build_only="$BUILD_ONLY" -v runtime="$work/runtime.txt" -v build="$work/build.txt" '
  BEGIN { n = split(build_only, names, " "); for (i = 1; i <= n; i++) tool[names[i]] = 1 }
  /^[A-Za-z0-9_.-]+==/ { name = tolower($1); sub(/==.*/, "", name); to = (name in tool) ? build : runtime }
  /^[A-Za-z0-9_.-]+==/ || /^[ \t]+--hash=/ { print > to }
' "$GATE_ACTION_PATH/action/requirements.txt"

rm -rf "$GATE_VENV"
# NOTE: no pip inside either venv (ensurepip costs seconds): the runner's pip installs into them with --python.
"$GATE_PYTHON" -m venv --without-pip "$GATE_VENV"
"$GATE_PYTHON" -m venv --without-pip "$work/build-env"
pip=("$GATE_PYTHON" -m pip)
"${pip[@]}" --python "$GATE_VENV/bin/python" install --quiet --no-deps --require-hashes --only-binary :all: \
  -r "$work/runtime.txt"
"${pip[@]}" --python "$work/build-env/bin/python" install --quiet --no-deps --require-hashes \
  --only-binary :all: -r "$work/build.txt"
mkdir "$work/src"
cp -R "$GATE_ACTION_PATH/pyproject.toml" "$GATE_ACTION_PATH/README.md" "$GATE_ACTION_PATH/gate" \
  "$GATE_ACTION_PATH/policies" "$work/src/"
# NOTE: built from a copy, so neither build/ nor *.egg-info lands in the action's (or the user's) checkout.
"${pip[@]}" --python "$work/build-env/bin/python" wheel --quiet --no-deps --no-build-isolation --no-index \
  -w "$work/dist" "$work/src"
"${pip[@]}" --python "$GATE_VENV/bin/python" install --quiet --no-deps --no-index "$work"/dist/*.whl
"$GATE_VENV/bin/gate" --version
