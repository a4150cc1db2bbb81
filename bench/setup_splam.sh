#!/usr/bin/env bash
# Install the published Splam 1.0.12 (from PyPI, by name) into bench/.venv-splam for the benchmarks.
# Idempotent: re-running it after a successful install does nothing but check the versions.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${SPLAM_VENV:-$here/.venv-splam}"
python="${PYTHON:-python3}"
splam_version="1.0.12"
torch_version="2.13.0"

need_apt=()
for tool in autoconf automake libtoolize bedtools; do
    command -v "$tool" >/dev/null 2>&1 || need_apt+=("$tool")
done
if [ "${#need_apt[@]}" -gt 0 ]; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
        autoconf automake libtool bedtools >/dev/null
fi

if [ -x "$venv/bin/splam" ] && "$venv/bin/python" - "$splam_version" <<'PY'
import sys
from importlib.metadata import version
sys.exit(0 if version("splam") == sys.argv[1] else 1)
PY
then
    echo "splam $splam_version already installed in $venv"
    exit 0
fi

"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
# torch first (same pin as the project's .venv), so that splam's unpinned 'torch' requirement is
# already met and pip does not pull a CUDA build
"$venv/bin/python" -m pip install --quiet "torch==$torch_version"
"$venv/bin/python" -m pip install --quiet "splam==$splam_version"
"$venv/bin/splam" --version
echo "splam $splam_version installed in $venv"
