#!/usr/bin/env bash
# Builds a local stand-in for `python:3.x-slim` from Debian's packages, because no container
# registry is reachable on the machines that run `make image-test` (../shared/docs/containers.md).
# Idempotent: an existing base image is kept, so only the first run pays the ~2 minutes.
set -euo pipefail

PODMAN_ROOT=${PODMAN_ROOT:?PODMAN_ROOT is the podman storage dir}
BASE_IMAGE=${BASE_IMAGE:-localhost/briefbot-test-base:trixie}
SUITE=${DEBIAN_SUITE:-trixie}   # Debian 13: Python 3.13, above requires-python (bookworm's 3.11.2 is not)
MIRROR=${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
podman() { command podman --root "$PODMAN_ROOT" "$@"; }

if podman image exists "$BASE_IMAGE"; then
    echo "base image $BASE_IMAGE exists"
    exit 0
fi
for tool in podman debootstrap; do
    command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install -y podman buildah debootstrap runc" >&2; exit 2; }
done

rootfs=$(mktemp -d "${TMPDIR:-/var/tmp}/briefbot-rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT
echo "debootstrap $SUITE from $MIRROR (about 2 minutes)"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$SUITE" "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"

# This machine reaches PyPI through a TLS proxy: its CA goes into the local base only, never
# into the project's Dockerfile.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >/dev/null
fi
# Like the official image: no EXTERNALLY-MANAGED marker and a `python` command. No system pip:
# the Dockerfile installs into a venv (ensurepip comes with python3-venv), and Debian's
# python3-pip could not replace Debian-installed packages anyway.
rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
ln -sf python3 "$rootfs/usr/bin/python"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar -C "$rootfs" -c . | podman import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["python3"]' \
    - "$BASE_IMAGE" >/dev/null
echo "built $BASE_IMAGE"
