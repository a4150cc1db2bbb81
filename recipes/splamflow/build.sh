#!/usr/bin/env bash
# conda-build unpacks the sdist into $SRC_DIR and runs this there: install the package (its pure
# Python code, the shipped model and bin/splam_score.py) into $PREFIX; the dependencies come from
# the recipe's requirements, not from pip.
set -euo pipefail
"${PYTHON}" -m pip install . --no-deps --no-build-isolation --no-cache-dir -vv
