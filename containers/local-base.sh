#!/usr/bin/env bash
# Make a base image from Debian's packages alone, for machines that cannot pull registry images:
# mmdebstrap writes a minimal Debian root file system with Python (venv) and `ps`, and the engine
# imports it as IMAGE. Debian bookworm is the release of the CPU image's default base.
#
#   containers/local-base.sh [--engine podman|docker] [--mirror URL] IMAGE
#
# The root file system is kept as CACHE/debian-bookworm.tar (CACHE: $SPLAMFLOW_CONTAINER_CACHE, else
# ~/.cache/splamflow-containers); delete it to start over. Needs root (or mmdebstrap's unshare mode).
set -euo pipefail

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

SUITE=bookworm
PACKAGES=python3,python3-venv,procps
engine="${CONTAINER_ENGINE:-podman}"
mirror=""
# an option's value, or a one-line error when the command line ends without it
value() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "local-base.sh: $1 needs a value (--help for usage)" >&2; exit 2; }; printf '%s' "$2"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --engine) engine="$(value "$@")"; shift 2 ;;
        --mirror) mirror="$(value "$@")"; shift 2 ;;
        -h|--help) usage ;;
        -*) echo "local-base.sh: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
[ $# -eq 1 ] || usage
image="$1"
cache="${SPLAMFLOW_CONTAINER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/splamflow-containers}"
rootfs="$cache/debian-$SUITE.tar"

# a directory under the tarball's (or its partial's) name is what a misformatted run once left: start over
for left in "$rootfs" "$rootfs.part"; do
    if [ -d "$left" ]; then rm -rf "$left"; fi
done
if [ ! -s "$rootfs" ]; then
    command -v mmdebstrap >/dev/null || { echo "local-base.sh: needs mmdebstrap (apt-get install mmdebstrap)" >&2; exit 1; }
    mkdir -p "$cache"
    start=$SECONDS
    trap 'rm -rf "$rootfs.part"' EXIT
    # written next to its final name and renamed, so an interrupted run leaves no partial tarball;
    # --format=tar because mmdebstrap otherwise picks the format from the name, and .part is no tar name
    mmdebstrap --quiet --variant=minbase --format=tar --include="$PACKAGES" "$SUITE" "$rootfs.part" ${mirror:+"$mirror"}
    mv "$rootfs.part" "$rootfs"
    echo "local-base.sh: Debian $SUITE root file system ($(du -h "$rootfs" | cut -f1)) in $((SECONDS - start)) s"
fi
# imported again only when the root file system or the image changed (a new import would leave the
# old image dangling under the images built on it); what was imported is recorded next to the
# tarball, not in a label, which every image built on the base would inherit
stamp="$rootfs.imported"
digest="$(sha256sum "$rootfs" | cut -d' ' -f1)"
id="$("$engine" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
if [ -n "$id" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$digest $image $id" ]; then
    echo "local-base.sh: $image is up to date ($rootfs)"
    exit 0
fi
"$engine" import --quiet --change 'CMD ["/bin/bash"]' "$rootfs" "$image" >/dev/null
echo "$digest $image $("$engine" image inspect --format '{{.Id}}' "$image")" > "$stamp.part"
mv "$stamp.part" "$stamp"
echo "local-base.sh: imported $rootfs as $image"
