#!/usr/bin/env bash
# Download the wheels an image installs into a folder (a "wheelhouse"), on a machine that reaches a
# package index, for a build that has none: `containers/build.sh --wheelhouse DIR` installs from it
# with no network. The versions are the Dockerfile's ARG pins (one source) and, for every transitive
# dependency, containers/constraints.txt; the wheels are for the base image's Python and platform,
# not this machine's. A rerun on a complete wheelhouse needs no network: it first resolves the pins
# from DIR alone and downloads only when that fails.
#
#   containers/wheelhouse.sh [--dockerfile F] [--python 3.11] [--glibc 2.36] [--torch-index URL] DIR
#
# --python, --glibc: the image's Python version and C library (wheels for this machine's processor).
# --torch-index: where torch comes from (default: the package index pip is set up for; PyPI's Linux
# torch is the CUDA build, https://download.pytorch.org/whl/cpu serves the CPU build).
set -euo pipefail

die() { echo "wheelhouse.sh: $*" >&2; exit 1; }
usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

here="$(cd "$(dirname "$0")" && pwd)"
dockerfile="$here/Dockerfile.cpu"
python_version="3.11"
glibc="2.36"
torch_index=""
# an option's value, or a one-line error when the command line ends without it
value() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "wheelhouse.sh: $1 needs a value (--help for usage)" >&2; exit 2; }; printf '%s' "$2"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --dockerfile) dockerfile="$(value "$@")"; shift 2 ;;
        --python) python_version="$(value "$@")"; shift 2 ;;
        --glibc) glibc="$(value "$@")"; shift 2 ;;
        --torch-index) torch_index="$(value "$@")"; shift 2 ;;
        -h|--help) usage ;;
        -*) echo "wheelhouse.sh: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
[ $# -eq 1 ] || usage
dest="$1"

constraints="$here/constraints.txt"
[ -f "$dockerfile" ] || die "$dockerfile: no such Dockerfile"
[ -f "$constraints" ] || die "$constraints: no such constraints file"

# ARG NAME=VALUE from the Dockerfile (the first stage that declares it); each pin is read into a
# variable by a plain assignment, so that a missing one stops the script (set -e), which a
# $(pin ...) inside a command's arguments would not
pin() {
    local value
    value="$(sed -n "s/^ARG $1=\(.*\)$/\1/p" "$dockerfile" | head -n1)"
    [ -n "$value" ] || die "$dockerfile has no ARG $1"
    printf '%s' "$value"
}
torch="torch==$(pin TORCH_VERSION)"
numpy="numpy==$(pin NUMPY_VERSION)"
pysam="pysam==$(pin PYSAM_VERSION)"
safetensors="safetensors==$(pin SAFETENSORS_VERSION)"
matplotlib="matplotlib==$(pin MATPLOTLIB_VERSION)"
tqdm="tqdm==$(pin TQDM_VERSION)"

mkdir -p "$dest"
# pip runs this machine's Python but picks wheels for the image's; it takes each manylinux tag the
# image's glibc satisfies only when named (manylinux_2_5 ... manylinux_2_<glibc minor>)
arch="$(uname -m)"
platforms=(--platform "manylinux2014_$arch")
for ((minor = 5; minor <= ${glibc#2.}; minor++)); do
    platforms+=(--platform "manylinux_2_${minor}_$arch")
done
download() {
    python3 -m pip download --quiet --disable-pip-version-check --dest "$dest" --only-binary=:all: \
        --constraint "$constraints" --python-version "$python_version" --implementation cp \
        "${platforms[@]}" "$@"
}
# everything an image installs; setuptools also builds splamflow itself (pyproject.toml's build backend)
requirements=("$torch" "$numpy" "$pysam" "$safetensors" "$tqdm" "$matplotlib" "setuptools>=68")
if download --no-index --find-links "$dest" "${requirements[@]}" 2>/dev/null; then
    echo "wheelhouse.sh: $dest is complete (resolved offline; nothing downloaded)"
    exit 0
fi
torch_args=()
[ -n "$torch_index" ] && torch_args=(--index-url "$torch_index")
download "${torch_args[@]}" --no-deps "$torch"
# torch's dependencies from the main index (the CUDA build's CUDA libraries among them), then the
# other pins
download "${requirements[@]}" --find-links "$dest"
echo "wheelhouse.sh: $(find "$dest" -name '*.whl' | wc -l) wheels, $(du -sh "$dest" | cut -f1), in $dest"
