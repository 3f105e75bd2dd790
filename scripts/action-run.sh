#!/usr/bin/env bash
# The Action's gate step. Inputs arrive only as INPUT_* environment variables (never spliced into
# this script by the runner), and are passed to gate as separate arguments; nothing is eval'd.
set -uo pipefail

args=(check --policy "${INPUT_POLICY:-default}" --fail-on "${INPUT_FAIL_ON:-violation}")
add() {  # add OPTION VALUE: only when VALUE is not empty
  if [ -n "$2" ]; then args+=("$1" "$2"); fi
}
each_line() {  # each_line OPTION TEXT: one OPTION per non-empty line of TEXT, trimmed
  local line
  while IFS= read -r line; do
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line%"${line##*[![:space:]]}"}"
    if [ -n "$line" ]; then args+=("$1" "$line"); fi
  done < <(printf '%s\n' "$2")
}
add --image-build-version-arn "${INPUT_IMAGE_BUILD_VERSION_ARN:-}"
add --image-pipeline-arn "${INPUT_IMAGE_PIPELINE_ARN:-}"
each_line --findings "${INPUT_FINDINGS:-}"
each_line --finding-details "${INPUT_FINDING_DETAILS:-}"
add --region "${INPUT_REGION:-}"
add --sarif-location "${INPUT_SARIF_LOCATION:-}"
add --wait-timeout "${INPUT_WAIT_TIMEOUT:-}"
add --kev-catalog "${INPUT_KEV_CATALOG:-}"
add --epss-scores "${INPUT_EPSS_SCORES:-}"
add --baseline "${INPUT_BASELINE:-}"
add --vex "${INPUT_VEX:-}"
add --attest "${INPUT_ATTEST:-}"
add --sign-key "${INPUT_SIGN_KEY:-}"
add --workflow-step "${INPUT_WORKFLOW_STEP:-}"
add --watermark "${INPUT_WATERMARK:-}"
# Reports: FORMAT=PATH items separated by commas or newlines.
each_line --report "$(printf '%s' "${INPUT_REPORTS:-}" | tr ',' '\n')"
# Extra arguments: one per line, passed as they are (no word splitting, no globbing, no expansion).
while IFS= read -r line; do
  if [ -n "$line" ]; then args+=("$line"); fi
done < <(printf '%s\n' "${INPUT_ARGS:-}")

GITHUB_ACTIONS=true "$GATE_VENV/bin/gate" "${args[@]}"
code=$?
echo "exit-code=$code" >> "${GITHUB_OUTPUT:-/dev/null}"
exit "$code"
