#!/usr/bin/env bash
# Galaxy wrappers (galaxy_tool/): `planemo lint` on every tool and the model data manager and
# `planemo shed_lint` on the repository, then every tool test (the data manager's first) against a real Galaxy server started from PyPI packages
# (scripts/galaxy/run_tool_tests.py). Installs what it needs into .venv-galaxy/ once; exits non-zero
# on any lint warning or failed test.
set -euo pipefail
cd "$(dirname "$0")/../.."

GALAXY_VERSION=26.1.2
TPV_VERSION=3.3.0
VENV=.venv-galaxy
# every package at the version the tool tests last passed with
PINS=scripts/galaxy/constraints.txt
MARKER="$VENV/.installed-galaxy-$GALAXY_VERSION"
TOOLS=(splamflow_extract splamflow_score splamflow_clean)

if [ ! -x .venv/bin/splam_score.py ]; then
    make venv
fi
if [ ! -f "$MARKER" ]; then
    echo "galaxy: installing Galaxy $GALAXY_VERSION and planemo into $VENV (a few minutes, once)"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet -c "$PINS" --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -c "$PINS" "galaxy-app==$GALAXY_VERSION" \
        "galaxy-web-apps==$GALAXY_VERSION" "galaxy-test-driver==$GALAXY_VERSION" planemo
    touch "$MARKER"
fi

for tool in "${TOOLS[@]}" data_manager/splamflow_model_fetcher; do
    "$VENV/bin/planemo" lint --fail_level warn "galaxy_tool/$tool.xml"
done
# The Tool Shed repository (galaxy_tool/.shed.yml and the tools again). Skipped: version_bumped asks
# the Tool Shed online; shed_remote_repository_url compares the URL's last folder with this one: the
# URL is the tools-iuc folder the IUC owner publishes from (.../tools/splamflow), here galaxy_tool.
"$VENV/bin/planemo" shed_lint --tools --ensure_metadata --fail_level warn \
    --skip version_bumped,shed_remote_repository_url galaxy_tool

# The TPV example of docs/galaxy.md: valid for TPV, and it sends score (only) to the GPU nodes.
if [ ! -f "$VENV/.installed-tpv-$TPV_VERSION" ]; then
    "$VENV/bin/python" -m pip install --quiet -c "$PINS" "total-perspective-vortex==$TPV_VERSION"
    touch "$VENV/.installed-tpv-$TPV_VERSION"
fi
# tpv lint type-checks the rules with mypy; its cache stays with the environment, not in the checkout
export MYPY_CACHE_DIR="$VENV/mypy-cache"
"$VENV/bin/tpv" lint docs/galaxy_tpv_example.yml 2>&1 | grep -v "DEBUG\|No Galaxy config\|email_ban_file"
version=$(sed -n 's|.*<token name="@TOOL_VERSION@">\(.*\)</token>.*|\1|p' galaxy_tool/macros.xml)
for tool in "${TOOLS[@]}"; do
    want=cpu_nodes
    [ "$tool" = splamflow_score ] && want=gpu_nodes
    got=$("$VENV/bin/tpv" dry-run --job-conf scripts/galaxy/tpv_job_conf.yml \
        --tool "toolshed.g2.bx.psu.edu/repos/iuc/splamflow/$tool/$version+galaxy0" docs/galaxy_tpv_example.yml \
        2>/dev/null | sed -n 's/^id: //p')
    if [ "$got" != "$want" ]; then
        echo "docs/galaxy_tpv_example.yml sends $tool to '${got:-nowhere}', not to $want" >&2
        exit 1
    fi
    echo "TPV example: $tool -> $got"
done

"$VENV/bin/python" scripts/galaxy/run_tool_tests.py "$@"
