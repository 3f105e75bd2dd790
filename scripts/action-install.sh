#!/usr/bin/env bash
# Install gate into the Action's own virtual environment: every dependency from the hash-pinned lock
# (action/requirements.txt; wheels only, nothing unpinned), then gate itself from the action's folder
# with the pinned setuptools and no index. The job's own Python and PATH are left as they were.
set -euo pipefail

env_dir="$(dirname "$GATE_VENV")"
export PIP_CACHE_DIR="$env_dir/pip" PIP_DISABLE_PIP_VERSION_CHECK=1
rm -rf "$GATE_VENV"
# NOTE: no pip inside the venv (ensurepip costs seconds): the runner's pip installs into it with --python.
"$GATE_PYTHON" -m venv --without-pip "$GATE_VENV"
pip=("$GATE_PYTHON" -m pip --python "$GATE_VENV/bin/python")
"${pip[@]}" install --quiet --no-deps --require-hashes --only-binary :all: \
  -r "$GATE_ACTION_PATH/action/requirements.txt"
build="$(mktemp -d)"
cp -R "$GATE_ACTION_PATH/pyproject.toml" "$GATE_ACTION_PATH/README.md" "$GATE_ACTION_PATH/gate" \
  "$GATE_ACTION_PATH/policies" "$build/"
# NOTE: built from a copy, so neither build/ nor *.egg-info lands in the action's (or the user's) checkout.
"${pip[@]}" install --quiet --no-deps --no-build-isolation --no-index "$build"
rm -rf "$build"
"$GATE_VENV/bin/gate" --version
