#!/usr/bin/env bash
# Groovy checks of the Nextflow pipeline (Nextflow itself is not installed here):
# 1. every .nf script, .config and nf-test file parses with the Groovy parser (syntax only);
# 2. the pipeline's own Groovy functions -- samplesheet/parameter validation and the scatter/gather
#    chunk ordering -- run on the committed and on generated bad samplesheets
#    (tests/workflow/groovy/input_validation.groovy).
# Installs Debian's groovy (and so a JVM) once with apt-get.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v groovy >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq groovy >/dev/null
fi
if [ -z "${JAVA_HOME:-}" ] || [ ! -x "$JAVA_HOME/bin/java" ]; then
    JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    export JAVA_HOME
fi

mapfile -t files < <(find main.nf nextflow.config nf-test.config workflows subworkflows modules conf tests/workflow \
    -type f \( -name '*.nf' -o -name '*.config' -o -name '*.nf.test' \) | sort)
groovy tests/workflow/groovy/syntax_check.groovy "${files[@]}"
groovy tests/workflow/groovy/input_validation.groovy .
