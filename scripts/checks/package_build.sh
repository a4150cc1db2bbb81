#!/usr/bin/env bash
# The package as pip and conda users get it: `python -m build` (sdist, then the wheel from it), the
# shipped model and script inside both, the wheel in a fresh venv, the conda recipe's build.sh on
# the sdist in another, and the test slice scored by each installed command line
# (scripts/package/check_dist.py). Dependencies come from the project's .venv, not a new download.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -x .venv/bin/splam_score.py ] || ! .venv/bin/python -c "import build" 2>/dev/null; then
    make venv
fi
.venv/bin/python scripts/package/check_dist.py "$@"
