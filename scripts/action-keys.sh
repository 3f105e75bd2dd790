#!/usr/bin/env bash
# The Action's cache keys and folders. gate's environment is keyed by the runner, the Python, the
# lock and gate's own source, so a new gate or a refreshed lock never reuses a stale environment;
# the feeds are keyed by the UTC day, so they are downloaded at most once a day per runner OS and
# otherwise only revalidated (ETag) by `gate feeds update`.
set -euo pipefail

root="${RUNNER_TEMP:?RUNNER_TEMP is set by the runner}/gate-action"
python_tag=$("$GATE_PYTHON" -c 'import sys, platform; print(f"{platform.python_implementation()}{sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}")')
deps=$(sha256sum "$GATE_ACTION_PATH/action/requirements.txt" | cut -c1-16)
source=$(cd "$GATE_ACTION_PATH" && find pyproject.toml gate policies -type f \
  ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
base="gate-env-${RUNNER_OS:-Linux}-${RUNNER_ARCH:-X64}-${python_tag}-${deps}"

feeds_needed=true
if [ "${INPUT_REFRESH_FEEDS:-true}" != "true" ] || { [ -n "${INPUT_KEV_CATALOG:-}" ] && [ -n "${INPUT_EPSS_SCORES:-}" ]; }; then
  feeds_needed=false
fi
{
  echo "env-dir=$root/env"
  echo "venv-dir=$root/env/venv"
  echo "env-key=$base-$source"
  echo "env-restore-key=$base-"
  echo "cache-dir=$root/cache"
  echo "feeds-dir=$root/cache/feeds"
  echo "feeds-needed=$feeds_needed"
  echo "feeds-key=gate-feeds-${RUNNER_OS:-Linux}-$(date -u +%Y-%m-%d)"
  echo "feeds-restore-key=gate-feeds-${RUNNER_OS:-Linux}-"
} >> "${GITHUB_OUTPUT:?GITHUB_OUTPUT is set by the runner}"
