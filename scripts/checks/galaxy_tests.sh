#!/usr/bin/env bash
# Galaxy wrappers (galaxy_tool/): `planemo lint` on every tool, then every tool test against a real
# Galaxy server started from PyPI packages (scripts/galaxy/run_tool_tests.py). Installs what it needs
# into .venv-galaxy/ once; exits non-zero on any lint warning or failed test.
set -euo pipefail
cd "$(dirname "$0")/../.."

GALAXY_VERSION=26.1.2
VENV=.venv-galaxy
MARKER="$VENV/.installed-galaxy-$GALAXY_VERSION"
TOOLS=(splam_extract splam_score splam_clean)

if [ ! -x .venv/bin/splam_score.py ]; then
    make venv
fi
if [ ! -f "$MARKER" ]; then
    echo "galaxy: installing Galaxy $GALAXY_VERSION and planemo into $VENV (a few minutes, once)"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet "galaxy-app==$GALAXY_VERSION" "galaxy-web-apps==$GALAXY_VERSION" \
        "galaxy-test-driver==$GALAXY_VERSION" planemo
    touch "$MARKER"
fi

# BioToolsValid looks the xref up on bio.tools, which cannot be reached from here.
for tool in "${TOOLS[@]}"; do
    "$VENV/bin/planemo" lint --fail_level warn --skip BioToolsValid "galaxy_tool/$tool.xml"
done

"$VENV/bin/python" scripts/galaxy/run_tool_tests.py "$@"
