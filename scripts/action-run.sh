#!/usr/bin/env bash
# The Action's gate step. Inputs arrive only as INPUT_* environment variables (never spliced into
# this script by the runner), and are passed to gate as separate arguments.
set -uo pipefail

args=(check --policy "${INPUT_POLICY:-default}")
if [ -n "${INPUT_IMAGE_BUILD_VERSION_ARN:-}" ]; then
  args+=(--image-build-version-arn "$INPUT_IMAGE_BUILD_VERSION_ARN")
fi
if [ -n "${INPUT_IMAGE_PIPELINE_ARN:-}" ]; then
  args+=(--image-pipeline-arn "$INPUT_IMAGE_PIPELINE_ARN")
fi
if [ -n "${INPUT_REGION:-}" ]; then
  args+=(--region "$INPUT_REGION")
fi
if [ -n "${INPUT_BASELINE:-}" ]; then
  args+=(--baseline "$INPUT_BASELINE")
fi
if [ -n "${INPUT_SARIF_LOCATION:-}" ]; then
  args+=(--sarif-location "$INPUT_SARIF_LOCATION")
fi
if [ -n "${INPUT_WAIT_TIMEOUT:-}" ]; then
  args+=(--wait-timeout "$INPUT_WAIT_TIMEOUT")
fi
# Reports: FORMAT=PATH items separated by commas or newlines.
while IFS= read -r item; do
  item="${item#"${item%%[![:space:]]*}"}"
  item="${item%"${item##*[![:space:]]}"}"
  [ -n "$item" ] && args+=(--report "$item")
done < <(printf '%s\n' "${INPUT_REPORTS:-}" | tr ',' '\n')

case "${INPUT_FAIL_ON:-violation}" in
  violation|never) ;;
  *) echo "::error title=gate::fail-on must be 'violation' or 'never'"; exit 2 ;;
esac

GITHUB_ACTIONS=true gate "${args[@]}"
code=$?
echo "exit-code=$code" >> "${GITHUB_OUTPUT:-/dev/null}"
if [ "$code" -eq 1 ] && [ "${INPUT_FAIL_ON:-violation}" = "never" ]; then
  echo "gate: policy violations reported; not failing the step (fail-on: never)"
  exit 0
fi
exit "$code"
