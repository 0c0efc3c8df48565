#!/usr/bin/env bash
# Build the specstudio MySQL-protocol image (MariaDB 10.11 from Debian bookworm)
# without any container registry: debootstrap + apt in a chroot + `docker import`.
#
#   bash images/mysql/build.sh [TAG]            (default TAG: specstudio/mysql:local)
#
# Environment:
#   SPECSTUDIO_IMAGE_CACHE   cache directory (default /var/cache/specstudio-image)
#   SPECSTUDIO_DEBIAN_MIRROR Debian mirror   (default http://deb.debian.org/debian)
#   SPECSTUDIO_DEBIAN_SECURITY_MIRROR        (default http://deb.debian.org/debian-security)
#   SPECSTUDIO_FORCE_BUILD=1 re-import even if the daemon already has an up-to-date image
#
# Caching:
#   * The expensive part (debootstrap + mariadb install, ~1 min) is cached as a
#     rootfs tarball  $CACHE/mysql-rootfs-<recipe-sha>.tar , keyed by the recipe
#     below (suite, mirrors, packages, chroot script). It does NOT contain the
#     entrypoint, so editing entrypoint.sh never invalidates it.
#   * The image is `docker import`ed from that tarball with the entrypoint appended
#     on the fly (a few seconds).
#   * If the daemon already holds TAG with the same entrypoint + recipe hash
#     labels, nothing is done at all.
set -euo pipefail

TAG="${1:-specstudio/mysql:local}"
CACHE="${SPECSTUDIO_IMAGE_CACHE:-/var/cache/specstudio-image}"
MIRROR="${SPECSTUDIO_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SEC_MIRROR="${SPECSTUDIO_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
SUITE=bookworm
PACKAGES="mariadb-server mariadb-client"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENTRYPOINT_SRC="$SCRIPT_DIR/entrypoint.sh"

T0=$(date +%s%N)
log() {
    local ms=$(( ($(date +%s%N) - T0) / 1000000 ))
    printf '[build-mysql %3d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*"
}
die() { log "ERROR: $*"; exit 1; }

[[ $EUID -eq 0 ]] || die "must run as root (debootstrap, chroot, mount)"
[[ -f "$ENTRYPOINT_SRC" ]] || die "missing $ENTRYPOINT_SRC"

# ---------------------------------------------------------------- chroot recipe
# Everything that changes the cached rootfs must be in this text (it is hashed).
CHROOT_SCRIPT=$(cat <<'EOS'
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
apt-get update -qq
apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 $PACKAGES >/dev/null
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log
# the Debian postinst initialises /var/lib/mysql; the image uses /bitnami/mysql/data
rm -rf /var/lib/mysql/* /var/log/mysql/*
# trim documentation (keep copyright files), man pages, locales
find /usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find /usr/share/doc -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf /usr/share/man/* /usr/share/info/* /usr/share/locale/*
# bitnami-style paths; group 0 writable so the server also runs as an arbitrary uid (e.g. 1001:0)
# (/bitnami/mysql/data exists so that an empty volume mounted there inherits these permissions)
mkdir -p /bitnami/mysql/data /run/mysqld /docker-entrypoint-initdb.d
chown mysql:root /bitnami/mysql /bitnami/mysql/data /run/mysqld
chmod 0775 /bitnami/mysql /bitnami/mysql/data /run/mysqld
rm -f /usr/sbin/policy-rc.d
EOS
)
RECIPE_VERSION=1
RECIPE_SHA=$(printf '%s\n' "v$RECIPE_VERSION" "$SUITE" "$MIRROR" "$SEC_MIRROR" "$PACKAGES" "$CHROOT_SCRIPT" | sha256sum | cut -d' ' -f1)
ENTRY_SHA=$(sha256sum "$ENTRYPOINT_SRC" | cut -d' ' -f1)   # full sha256 of entrypoint.sh
BASE_TAR="$CACHE/mysql-rootfs-${RECIPE_SHA:0:16}.tar"

# ---------------------------------------------------------------- docker daemon
ensure_docker() {
    if ! command -v docker >/dev/null 2>&1; then
        log "installing docker.io (apt)"
        apt-get install -y -qq --no-install-recommends docker.io >/dev/null
    fi
    if ! docker info >/dev/null 2>&1; then
        command -v dockerd >/dev/null 2>&1 || die "docker daemon not reachable and no dockerd binary"
        log "docker daemon not answering; starting dockerd (log: /var/log/dockerd.log)"
        nohup dockerd >/var/log/dockerd.log 2>&1 &
        for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
        docker info >/dev/null 2>&1 || die "dockerd did not come up (see /var/log/dockerd.log)"
    fi
}

image_up_to_date() {
    local labels
    labels=$(docker image inspect "$TAG" --format \
        '{{index .Config.Labels "org.specstudio.entrypoint-sha256"}} {{index .Config.Labels "org.specstudio.recipe-sha256"}}' 2>/dev/null) || return 1
    [[ "$labels" == "$ENTRY_SHA $RECIPE_SHA" ]]
}

ensure_docker
log "tag=$TAG entrypoint-sha256=${ENTRY_SHA:0:16}.. recipe-sha256=${RECIPE_SHA:0:16}.. cache=$CACHE"
if [[ "${SPECSTUDIO_FORCE_BUILD:-0}" != 1 ]] && image_up_to_date; then
    log "image $TAG already up to date (same entrypoint + recipe hash labels); skipping"
    exit 0
fi

mkdir -p "$CACHE"
# serialise concurrent builds sharing the cache
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
    log "another build holds $CACHE/.lock; waiting"
    flock 9
fi
if [[ "${SPECSTUDIO_FORCE_BUILD:-0}" != 1 ]] && image_up_to_date; then
    log "image $TAG was built meanwhile; skipping"
    exit 0
fi

# ---------------------------------------------------------------- cleanup trap
WORK=""
umount_under() { # unmount everything mounted below $1, deepest first
    local root="$1" mnt
    [[ -n "$root" && -d "$root" ]] || return 0
    while read -r mnt; do
        umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    done < <(awk -v r="$root/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r)
}
cleanup() {
    local rc=$?
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        umount_under "$WORK"
        if awk -v r="$WORK/" 'index($2, r) == 1 {found=1} END {exit !found}' /proc/mounts; then
            log "WARNING: mounts remain under $WORK; not deleting it"
        else
            rm -rf --one-file-system "$WORK"
        fi
    fi
    rm -f "$BASE_TAR.partial"
    [[ $rc -eq 0 ]] || log "build FAILED (exit $rc)"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- base rootfs
build_base() {
    if ! command -v debootstrap >/dev/null 2>&1; then
        log "installing debootstrap (apt)"
        apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    fi
    WORK=$(mktemp -d "$CACHE/work.XXXXXX")
    local rootfs="$WORK/rootfs"
    log "debootstrap $SUITE (minbase) from $MIRROR"
    debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
    log "debootstrap done"
    cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SEC_MIRROR $SUITE-security main
EOF
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod +x "$rootfs/usr/sbin/policy-rc.d"
    cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
    mount -t proc proc "$rootfs/proc"
    log "installing $PACKAGES in chroot"
    PACKAGES="$PACKAGES" chroot "$rootfs" /bin/sh -c "$CHROOT_SCRIPT"
    umount "$rootfs/proc"
    : >"$rootfs/etc/resolv.conf"   # docker bind-mounts its own
    log "mariadb: $(chroot "$rootfs" mariadbd --version 2>/dev/null || echo '?')"
    log "writing rootfs tarball $BASE_TAR"
    tar --numeric-owner --xattrs -C "$rootfs" \
        --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' --exclude='./tmp/*' \
        -cf "$BASE_TAR.partial" .
    mv -f "$BASE_TAR.partial" "$BASE_TAR"
    umount_under "$WORK"
    rm -rf --one-file-system "$WORK"
    WORK=""
    # keep only the current base tarball
    find "$CACHE" -maxdepth 1 -name 'mysql-rootfs-*.tar' ! -name "$(basename "$BASE_TAR")" -delete
}

if [[ -s "$BASE_TAR" ]]; then
    log "reusing cached rootfs $BASE_TAR ($(du -m "$BASE_TAR" | cut -f1) MB)"
else
    log "no cached rootfs for recipe ${RECIPE_SHA:0:16}; building (about a minute)"
    build_base
fi

# ---------------------------------------------------------------- import
STAGE=$(mktemp -d "$CACHE/stage.XXXXXX")
WORK="$STAGE"
install -D -m 0755 "$ENTRYPOINT_SRC" "$STAGE/root/usr/local/bin/entrypoint.sh"
# copy the cached rootfs tarball and append the entrypoint (GNU tar -r needs a seekable file)
cp --reflink=auto "$BASE_TAR" "$STAGE/image.tar"
tar --numeric-owner --owner=0 --group=0 -rf "$STAGE/image.tar" -C "$STAGE/root" ./usr/local/bin/entrypoint.sh
OLD_ID=$(docker image inspect "$TAG" --format '{{.Id}}' 2>/dev/null || true)
log "docker import -> $TAG"
docker import \
      --change 'ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]' \
      --change 'EXPOSE 3306' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'WORKDIR /' \
      --change "LABEL org.specstudio.image=mysql" \
      --change "LABEL org.specstudio.entrypoint-sha256=$ENTRY_SHA" \
      --change "LABEL org.specstudio.recipe-sha256=$RECIPE_SHA" \
      --message "specstudio mysql (MariaDB from Debian $SUITE) entrypoint=${ENTRY_SHA:0:16} recipe=${RECIPE_SHA:0:16}" \
      "$STAGE/image.tar" "$TAG" >/dev/null
rm -rf "$STAGE"; WORK=""
image_up_to_date || die "imported image $TAG lacks the expected labels"
[[ $(docker image inspect "$TAG" --format "{{.Size}}") -gt 100000000 ]] || die "imported image $TAG is implausibly small"
# drop the image this tag pointed to before, if nothing else references it
if [[ -n "$OLD_ID" && "$OLD_ID" != "$(docker image inspect "$TAG" --format '{{.Id}}')" ]]; then
    docker image rm "$OLD_ID" >/dev/null 2>&1 && log "removed previous image ${OLD_ID:7:12}" || true
fi
SIZE=$(docker image inspect "$TAG" --format '{{.Size}}')
log "built $TAG ($((SIZE / 1000000)) MB)"
