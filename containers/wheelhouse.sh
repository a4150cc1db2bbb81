#!/usr/bin/env bash
# Download the wheels an image installs into a folder (a "wheelhouse"), on a machine that reaches a
# package index, for a build that has none: `containers/build.sh --wheelhouse DIR` installs from it
# with no network. The versions are the Dockerfile's ARG pins (one source); the wheels are for the
# base image's Python and platform, not this machine's.
#
#   containers/wheelhouse.sh [--dockerfile F] [--python 3.11] [--glibc 2.36] [--torch-index URL] DIR
#
# --python, --glibc: the image's Python version and C library (wheels for this machine's processor).
# --torch-index: where torch comes from (default: the package index pip is set up for; PyPI's Linux
# torch is the CUDA build, https://download.pytorch.org/whl/cpu serves the CPU build).
set -euo pipefail

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

here="$(cd "$(dirname "$0")" && pwd)"
dockerfile="$here/Dockerfile.cpu"
python_version="3.11"
glibc="2.36"
torch_index=""
while [ $# -gt 0 ]; do
    case "$1" in
        --dockerfile) dockerfile="$2"; shift 2 ;;
        --python) python_version="$2"; shift 2 ;;
        --glibc) glibc="$2"; shift 2 ;;
        --torch-index) torch_index="$2"; shift 2 ;;
        -h|--help) usage ;;
        -*) echo "wheelhouse.sh: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
[ $# -eq 1 ] || usage
dest="$1"

# ARG NAME=VALUE from the Dockerfile (the first stage that declares it)
pin() {
    local value
    value="$(sed -n "s/^ARG $1=\(.*\)$/\1/p" "$dockerfile" | head -n1)"
    [ -n "$value" ] || { echo "wheelhouse.sh: $dockerfile has no ARG $1" >&2; exit 1; }
    printf '%s' "$value"
}

mkdir -p "$dest"
# pip runs this machine's Python but picks wheels for the image's; it takes each manylinux tag the
# image's glibc satisfies only when named (manylinux_2_5 ... manylinux_2_<glibc minor>)
arch="$(uname -m)"
platforms=(--platform "manylinux2014_$arch")
for ((minor = 5; minor <= ${glibc#2.}; minor++)); do
    platforms+=(--platform "manylinux_2_${minor}_$arch")
done
download() {
    python3 -m pip download --quiet --dest "$dest" --only-binary=:all: \
        --python-version "$python_version" --implementation cp "${platforms[@]}" "$@"
}
torch_args=()
[ -n "$torch_index" ] && torch_args=(--index-url "$torch_index")
download "${torch_args[@]}" --no-deps "torch==$(pin TORCH_VERSION)"
# torch's dependencies from the main index (the CUDA build's CUDA libraries among them), then the
# other pins; setuptools also builds splamflow itself (pyproject.toml's build backend)
download "torch==$(pin TORCH_VERSION)" \
    "numpy==$(pin NUMPY_VERSION)" \
    "pysam==$(pin PYSAM_VERSION)" \
    "safetensors==$(pin SAFETENSORS_VERSION)" \
    "tqdm==$(pin TQDM_VERSION)" \
    "matplotlib==$(pin MATPLOTLIB_VERSION)" \
    "setuptools>=68" \
    --find-links "$dest"
echo "wheelhouse.sh: $(find "$dest" -name '*.whl' | wc -l) wheels, $(du -sh "$dest" | cut -f1), in $dest"
