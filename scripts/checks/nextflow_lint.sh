#!/usr/bin/env bash
# Static checks of the Nextflow modules and schemas (scripts/checks/nextflow_meta_check.py): module
# structure, meta.yml/environment.yml against modules/*-schema.json, meta.yml against main.nf, and
# the parameter/samplesheet schemas against nextflow.config and the committed samplesheets.
# Nextflow itself runs the pipeline in tests/nextflow/; nf-core tools lint the modules there too.
# Installs PyYAML and jsonschema into .venv-tools/ once.
set -euo pipefail
cd "$(dirname "$0")/../.."

TOOLS=.venv-tools
PY="$TOOLS/bin/python"
PINS=(pyyaml==6.0.4 jsonschema==4.26.0)

[ -x "$PY" ] || python3 -m venv "$TOOLS"
if ! "$PY" -c "import yaml, jsonschema, sys; sys.exit(jsonschema.__version__ != '4.26.0')" 2>/dev/null; then
    "$PY" -m pip install --quiet --disable-pip-version-check "${PINS[@]}"
fi
"$PY" scripts/checks/nextflow_meta_check.py
