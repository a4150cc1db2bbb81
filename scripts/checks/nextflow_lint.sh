#!/usr/bin/env bash
# Static checks of the Nextflow pipeline (Nextflow itself is not installed here):
# 1. `reftrace lint` (PyPI reftrace, its own Nextflow parser) over main.nf, workflows/, subworkflows/,
#    modules/ and the config files, with the rules in nextflow_lint_rules.py: every file must parse
#    and every rule must pass (any finding is an error);
# 2. nextflow_meta_check.py: module meta.yml/environment.yml/nf-test structure, parameter and
#    samplesheet schemas.
# Installs reftrace, PyYAML and jsonschema into .venv-tools/ once.
set -euo pipefail
cd "$(dirname "$0")/../.."

REFTRACE_PIN="0.6.0"
TOOLS=.venv-tools
PY="$TOOLS/bin/python"

[ -x "$PY" ] || python3 -m venv "$TOOLS"
if ! "$PY" -c "import reftrace, yaml, jsonschema, sys; sys.exit(reftrace.__version__ != '$REFTRACE_PIN')" 2>/dev/null; then
    "$PY" -m pip install --quiet --disable-pip-version-check "reftrace==$REFTRACE_PIN" pyyaml jsonschema
fi

# reftrace lints every .nf/.config under a folder: give it the pipeline files only (not the venvs)
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
cp -r main.nf nextflow.config workflows subworkflows modules conf "$STAGE"/
nf_files=$(find "$STAGE" -name '*.nf' | wc -l)

# reftrace prints progress bars; keep its report, which starts at the first finding or the summary
if ! (cd "$STAGE" && "$OLDPWD/$TOOLS/bin/reftrace" lint --rules "$OLDPWD/scripts/checks/nextflow_lint_rules.py" \
        --directory . > "$STAGE/report.txt" 2>&1); then
    grep -v -e '^Linting' -e '^Loading rules' "$STAGE/report.txt" >&2
    echo "nextflow_lint: reftrace lint failed" >&2
    exit 1
fi
if ! grep -q "No issues found" "$STAGE/report.txt"; then
    cat "$STAGE/report.txt" >&2
    echo "nextflow_lint: reftrace reported problems" >&2
    exit 1
fi
echo "nextflow_lint: reftrace $REFTRACE_PIN parsed $nf_files .nf files and the configs, no issues"

"$PY" scripts/checks/nextflow_meta_check.py
