#!/usr/bin/env bash
# Build the splamflow images, tagged as the Nextflow modules and the Galaxy macros name them: the
# CPU image (containers/Dockerfile.cpu) as ghcr.io/splamflow/splamflow tagged with splamflow's
# __version__, the CUDA image (containers/Dockerfile) with that version and -cuda.
#
#   containers/build.sh [--engine docker|podman] [--only cpu|cuda] [--base IMAGE --wheelhouse DIR]
#   containers/build.sh --here [--only cpu|cuda]
#
# Online (the default): the public bases and the package indexes.
# --base IMAGE --wheelhouse DIR: offline, from a local base image (Python >= 3.10 with venv, and
#   `ps`) and the wheels containers/wheelhouse.sh downloaded for it; no network during the build.
# --here: whatever this machine allows, as `make containers` does: installs podman (and runc,
#   mmdebstrap) from apt when no engine is there; when the public bases cannot be pulled, makes a
#   local Debian base (containers/local-base.sh) and a wheelhouse from PyPI (containers/wheelhouse.sh)
#   in the cache, and builds offline from them.
# With podman, when containers do not start with its defaults (the runtime or the default rlimits
# refused, as on some CI and virtual machines), writes CACHE/containers.conf with settings that work
# and uses it; export CONTAINERS_CONF=CACHE/containers.conf to run the images (Nextflow's podman
# profile too). CACHE: $SPLAMFLOW_CONTAINER_CACHE, else ~/.cache/splamflow-containers.
set -euo pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "build.sh: $*" >&2; exit 1; }
# an option's value, or a one-line error when the command line ends without it
value() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "build.sh: $1 needs a value (--help for usage)" >&2; exit 2; }; printf '%s' "$2"; }

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
IMAGE=ghcr.io/splamflow/splamflow
LOCAL_BASE=localhost/splamflow-base:bookworm
version="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$root/splamflow/__init__.py")"
[ -n "$version" ] || die "no __version__ in splamflow/__init__.py"
cache="${SPLAMFLOW_CONTAINER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/splamflow-containers}"

engine="${CONTAINER_ENGINE:-}"
flavours=(cpu cuda)
base=""
wheelhouse=""
auto=0
while [ $# -gt 0 ]; do
    case "$1" in
        --engine) engine="$(value "$@")"; shift 2 ;;
        --only) flavours=("$(value "$@")"); shift 2 ;;
        --base) base="$(value "$@")"; shift 2 ;;
        --wheelhouse) wheelhouse="$(value "$@")"; shift 2 ;;
        --here) auto=1; shift ;;
        -h|--help) usage ;;
        *) echo "build.sh: unknown argument $1" >&2; usage ;;
    esac
done
for flavour in "${flavours[@]}"; do
    case "$flavour" in cpu|cuda) ;; *) die "--only takes cpu or cuda, not $flavour" ;; esac
done
[ "${base:+x}" = "${wheelhouse:+x}" ] || die "--base and --wheelhouse go together (an offline build)"
[ "$auto" = 0 ] || [ -z "$base" ] || die "--here makes its own base and wheelhouse; give either"

dockerfile() { if [ "$1" = cpu ]; then echo "$here/Dockerfile.cpu"; else echo "$here/Dockerfile"; fi; }
tag() { if [ "$1" = cpu ]; then echo "$IMAGE:$version"; else echo "$IMAGE:$version-cuda"; fi; }
# the default value of a Dockerfile ARG, the ARGs it refers to expanded
arg_default() {
    local file="$1" name="$2" value
    value="$(sed -n "s/^ARG $name=\(.*\)$/\1/p" "$file" | head -n1)"
    while [[ "$value" =~ \$\{([A-Z_]+)\} ]]; do
        value="${value//\$\{${BASH_REMATCH[1]}\}/$(arg_default "$file" "${BASH_REMATCH[1]}")}"
    done
    printf '%s' "$value"
}
apt_install() {
    command -v apt-get >/dev/null || die "$* missing, and no apt-get to install it: install it first"
    echo "build.sh: installing $* from Debian's packages"
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

# --- the engine ---------------------------------------------------------------------------------
if [ -z "$engine" ]; then
    if command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker
    elif command -v podman >/dev/null || [ "$auto" = 1 ]; then engine=podman
    elif command -v docker >/dev/null; then die "docker is installed but its engine does not answer (docker info), and podman is not installed"
    else die "neither docker nor podman found: install one (or run make containers, which installs podman from apt)"
    fi
fi
case "$engine" in docker|podman) ;; *) die "--engine takes docker or podman, not $engine" ;; esac
if ! command -v "$engine" >/dev/null; then
    [ "$auto" = 1 ] && [ "$engine" = podman ] || die "$engine not found (--engine $engine): install it"
    apt_install podman runc
fi

# --- bases and wheels -------------------------------------------------------------------------
if [ "$auto" = 1 ]; then
    pulled=1
    for flavour in "${flavours[@]}"; do
        public="$(arg_default "$(dockerfile "$flavour")" BASE_IMAGE)"
        "$engine" image inspect "$public" >/dev/null 2>&1 || "$engine" pull -q "$public" >/dev/null 2>&1 \
            || { pulled=0; echo "build.sh: cannot pull $public: building offline on a local Debian base"; }
    done
    if [ "$pulled" = 0 ]; then
        command -v mmdebstrap >/dev/null || apt_install mmdebstrap
        "$here/local-base.sh" --engine "$engine" "$LOCAL_BASE"
        base="$LOCAL_BASE"
    fi
fi

# podman settings this machine needs, found by starting a container on the base
if [ "$engine" = podman ] && [ -z "${CONTAINERS_CONF:-}" ]; then
    probe="${base:-$(arg_default "$(dockerfile "${flavours[0]}")" BASE_IMAGE)}"
    if "$engine" image inspect "$probe" >/dev/null 2>&1 && ! podman run --rm "$probe" true >/dev/null 2>&1; then
        mkdir -p "$cache"
        cat > "$cache/containers.conf.part" <<'EOF'
# Written by containers/build.sh: podman's default runtime (crun) or its default rlimits were
# refused on this machine. Use with: export CONTAINERS_CONF=<this file>
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
EOF
        mv "$cache/containers.conf.part" "$cache/containers.conf"
        export CONTAINERS_CONF="$cache/containers.conf"
        podman run --rm "$probe" true >/dev/null || die "podman cannot start a container on $probe, even with $CONTAINERS_CONF"
        echo "build.sh: podman needs $CONTAINERS_CONF here: export CONTAINERS_CONF=$CONTAINERS_CONF to run the images"
    fi
fi

if [ "$auto" = 1 ] && [ -n "$base" ]; then
    read -r py glibc < <("$engine" run --rm "$base" python3 -c \
        'import platform, sys; print("%d.%d" % sys.version_info[:2], platform.libc_ver()[1])')
    wheelhouse="$cache/wheelhouse-py$py-glibc$glibc"
    "$here/wheelhouse.sh" --python "$py" --glibc "$glibc" "$wheelhouse"
fi
if [ -n "$base" ]; then
    "$engine" image inspect "$base" >/dev/null 2>&1 || die "base image $base not found (offline builds pull nothing)"
    [ -n "$(find "$wheelhouse" -maxdepth 1 -name 'torch-*.whl' 2>/dev/null)" ] \
        || die "wheelhouse $wheelhouse holds no torch wheel (make it with containers/wheelhouse.sh)"
fi

# --- the build context: the package sources and wheelhouse/ (empty when online) -----------------
mkdir -p "$cache"
context="$(mktemp -d "$cache/context.XXXXXX")"
trap 'rm -rf "$context"' EXIT
tar -C "$root" --exclude=__pycache__ --exclude='*.pyc' -cf - pyproject.toml README.md bin splamflow \
    | tar -C "$context" -xf -
cp "$here/constraints.txt" "$context/"
mkdir "$context/wheelhouse"
if [ -n "$wheelhouse" ]; then
    # hard links when the wheelhouse is on the same file system, else copies
    cp -al "$wheelhouse"/*.whl "$context/wheelhouse/" 2>/dev/null || cp -a "$wheelhouse"/*.whl "$context/wheelhouse/"
fi

# OCI labels: the commit of the sources (-dirty when the context differs from it; unknown outside a
# git checkout) and the build time (SOURCE_DATE_EPOCH when set, for reproducible builds)
revision="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
if [ "$revision" != unknown ] && ! git -C "$root" diff --quiet HEAD -- pyproject.toml README.md bin splamflow containers; then
    revision="$revision-dirty"
fi
created="$(date -u ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"} +%Y-%m-%dT%H:%M:%SZ)"

for flavour in "${flavours[@]}"; do
    file="$(dockerfile "$flavour")"
    name="$(tag "$flavour")"
    args=(--build-arg "REVISION=$revision" --build-arg "CREATED=$created")
    if [ -n "$base" ]; then
        args+=(--build-arg "BASE_IMAGE=$base" --build-arg PIP_NO_INDEX=1 --build-arg PIP_FIND_LINKS=/wheelhouse)
        # the CPU recipe accepts PyPI's CUDA build of torch when that is what the wheelhouse holds
        if [ "$flavour" = cpu ] && ! compgen -G "$context/wheelhouse/torch-*+cpu-*.whl" >/dev/null; then
            args+=(--build-arg "TORCH_CUDA=$(arg_default "$(dockerfile cuda)" CUDA_VERSION)")
        fi
    fi
    # offline: the base is local, and podman would otherwise look for a newer one in a registry
    [ -n "$base" ] && [ "$engine" = podman ] && args+=(--pull=never)
    # podman keeps no intermediate images (the build stage alone is as large as the image)
    [ "$engine" = podman ] && args+=(--layers=false)
    old="$("$engine" image inspect --format '{{.Id}}' "$name" 2>/dev/null || true)"
    echo "build.sh: building $name with $engine from $(basename "$file")${base:+ on $base, offline}"
    start=$SECONDS
    "$engine" build --force-rm -f "$file" -t "$name" "${args[@]}" "$context"
    new="$("$engine" image inspect --format '{{.Id}}' "$name")"
    size="$("$engine" image inspect --format '{{.Size}}' "$name")"
    echo "build.sh: $name built in $((SECONDS - start)) s, $((size / 1000000)) MB"
    # the image this tag named before is dangling now: remove it (kept while a container uses it)
    if [ -n "$old" ] && [ "$old" != "$new" ]; then
        "$engine" rmi "$old" >/dev/null 2>&1 || true
    fi
done
