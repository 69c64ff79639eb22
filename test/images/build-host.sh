#!/usr/bin/env bash
# Builds wharf-host:local, a Docker-in-Docker "host" image, from this machine's own binaries (no
# registry can be reached from here; see ../shared/MULTIHOST-NOTES.md):
#
#   dockerd, docker-proxy, containerd, containerd-shim-runc-v2, runc, docker-init, the docker CLI,
#   iptables (xtables-nft-multi and -legacy-multi, with every extension it dlopens), ip, bridge,
#   busybox-static (sh, mount, wget, nc ...) and node (for the node agent, which runs inside the
#   host as it would on a real machine; the Wharf checkout is bind-mounted at run time), each with
#   the libraries ldd lists.
#
# The entrypoint (/usr/local/bin/wharf-host) makes /sys and the cgroup hierarchies writable (they
# come up read-only without --privileged), mounts securityfs and a tmpfs on /tmp, starts dockerd
# (also on $WHARF_HOST_SOCKET_DIR/docker.sock when set, so the engine can be reached from outside),
# waits for it to answer, then runs its arguments (the node agent) and restarts them if they exit.
# Run it with (the flags that work on this kernel, which lacks CAP_SYS_RESOURCE for --privileged):
#   docker run -d --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
#     --security-opt systempaths=unconfined --cgroupns private --device-cgroup-rule 'a *:* rwm' \
#     -v VOLUME:/var/lib/docker wharf-host:local [AGENT COMMAND...]
#
# Idempotent: kept when it exists with the current fingerprint (this script and the binaries'
# sizes and dates); about 200 MB and a minute or two to build otherwise.
# Usage: bash test/images/build-host.sh [--force]
set -euo pipefail
shopt -s inherit_errexit

IMAGE=${WHARF_HOST_IMAGE:-wharf-host:local}
LABEL=io.wharf.local-build
FORCE=0
case "${1:-}" in -f|--force) FORCE=1 ;; '') ;; *) echo "build-host.sh: unknown argument '$1'" >&2; exit 2 ;; esac

log() { printf '[host-image] %s\n' "$*"; }
die() { printf '[host-image] ERROR: %s\n' "$*" >&2; exit 1; }

command -v docker >/dev/null || die "the docker client is not installed"
docker info >/dev/null 2>&1 || die "no Docker engine answers"

find_bin() {
  local c
  c=$(command -v "$1" 2>/dev/null || true)
  [ -n "$c" ] || for d in /usr/sbin /usr/bin /sbin /bin /usr/local/bin /usr/local/sbin; do [ -x "$d/$1" ] && { c="$d/$1"; break; }; done
  [ -n "$c" ] || die "$1 not found (apt-get install docker.io iptables iproute2 busybox-static)"
  readlink -f "$c"
}

BINARIES=(dockerd docker-proxy docker containerd containerd-shim-runc-v2 runc docker-init xtables-nft-multi xtables-legacy-multi ip bridge node)
declare -A SRC
for b in "${BINARIES[@]}"; do SRC[$b]=$(find_bin "$b"); done
BUSYBOX=$(readlink -f /bin/busybox 2>/dev/null || find_bin busybox)
# iptables looks for its extensions where it was built to (/usr/lib/...), whatever path ldd shows.
XTABLES_LIB=$(readlink -f "$(dirname "$(LC_ALL=C ldd "${SRC[xtables-nft-multi]}" | awk '/libxtables/ { print $3 }')")/xtables")

fingerprint() {
  {
    sha256sum "$0" | cut -d' ' -f1
    for b in "${BINARIES[@]}"; do stat -L -c '%n %s %Y' "${SRC[$b]}"; done
    stat -L -c '%n %s %Y' "$BUSYBOX"
  } | sha256sum | cut -c1-16
}
FP=$(fingerprint)

if [ "$FORCE" = 0 ] && [ "$(docker image inspect --format "{{index .Config.Labels \"$LABEL.source\"}}" "$IMAGE" 2>/dev/null || true)" = "$FP" ]; then
  log "$IMAGE: up to date"
  exit 0
fi

# Two builds at once would race on the tag.
if command -v flock >/dev/null; then
  exec 9>"${TMPDIR:-/tmp}/wharf-host-image-build.lock"
  flock 9
  if [ "$FORCE" = 0 ] && [ "$(docker image inspect --format "{{index .Config.Labels \"$LABEL.source\"}}" "$IMAGE" 2>/dev/null || true)" = "$FP" ]; then
    log "$IMAGE: built meanwhile by another run"
    exit 0
  fi
fi

START=$(date +%s)
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/wharf-host-image.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
log "$IMAGE: building"

copy_libs() {
  local lib
  while read -r lib; do
    [ -n "$lib" ] && [ ! -e "$ROOT$lib" ] || continue
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
  done < <(LC_ALL=C ldd "$1" 2>/dev/null | awk '$2 == "=>" { if ($3 ~ /^\//) print $3; next } $1 ~ /^\// { print $1 }' || true)
}
add() { # add SRC DEST
  mkdir -p "$ROOT$(dirname "$2")"
  cp -L "$1" "$ROOT$2"
  chmod 755 "$ROOT$2"
  copy_libs "$1"
}

mkdir -p "$ROOT"/{bin,sbin,dev,proc,sys,etc,root,run,tmp,var/lib/docker,var/log,usr/bin,usr/sbin,usr/local/bin}
chmod 1777 "$ROOT/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\ndocker:x:999:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
printf 'hosts: files dns\n' >"$ROOT/etc/nsswitch.conf"
# What the inner engine reports as its OperatingSystem (the Node's osImage).
. /etc/os-release 2>/dev/null || true
printf 'PRETTY_NAME="Wharf Docker-in-Docker host (%s binaries)"\nNAME="wharf-host"\nID=wharf-host\n' "${PRETTY_NAME:-host}" >"$ROOT/etc/os-release"

add "$BUSYBOX" /bin/busybox
while read -r path; do
  case "$path" in */*) ;; *) continue ;; esac
  [ -e "$ROOT/$path" ] || [ -L "$ROOT/$path" ] || { mkdir -p "$ROOT/$(dirname "$path")"; ln -s /bin/busybox "$ROOT/$path"; }
done < <("$BUSYBOX" --list-full)

for b in dockerd docker-proxy containerd containerd-shim-runc-v2 runc docker-init; do add "${SRC[$b]}" "/usr/bin/$b"; done
add "${SRC[docker]}" /usr/bin/docker
add "${SRC[node]}" /usr/local/bin/node
# The real iproute2 replaces busybox's ip (dockerd and the agent need its full syntax).
rm -f "$ROOT/sbin/ip" "$ROOT/bin/ip" "$ROOT/usr/sbin/ip" "$ROOT/usr/bin/ip"
add "${SRC[ip]}" /usr/sbin/ip
add "${SRC[bridge]}" /usr/sbin/bridge
add "${SRC[xtables-nft-multi]}" /usr/sbin/xtables-nft-multi
add "${SRC[xtables-legacy-multi]}" /usr/sbin/xtables-legacy-multi
# iptables dlopens its extensions, which ldd does not list.
mkdir -p "$ROOT$XTABLES_LIB"
cp -L "$XTABLES_LIB"/* "$ROOT$XTABLES_LIB/"
for so in "$XTABLES_LIB"/*.so; do copy_libs "$so"; done
for t in iptables ip6tables iptables-save iptables-restore ip6tables-save ip6tables-restore; do
  rm -f "$ROOT/sbin/$t" "$ROOT/usr/sbin/$t"
  ln -s xtables-nft-multi "$ROOT/usr/sbin/$t"
  ln -s xtables-legacy-multi "$ROOT/usr/sbin/${t/tables/tables-legacy}"
done
# libnftnl and friends may be dlopened too: copy the nft libraries iptables links against already (ldd did).

cat >"$ROOT/usr/local/bin/wharf-host" <<'EOF'
#!/bin/sh
# A Docker-in-Docker host: writable /sys and cgroups, dockerd, then the given command (the node
# agent), restarted if it exits. Stopping the container stops both, as losing a machine does.
set -u
mount -o remount,rw /sys 2>/dev/null || mount -o remount,bind,rw /sys 2>/dev/null || true
for m in $(awk '$2 ~ "^/sys/fs/cgroup" { print $2 }' /proc/mounts); do
  mount -o remount,bind,rw "$m" 2>/dev/null || true
done
mounted() { awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/mounts; }
mounted /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security 2>/dev/null || true
mounted /tmp || mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /run /var/run /var/log
# A container restarted after a kill keeps its files: the last run's pid files would stop dockerd.
rm -f /var/run/docker.pid /run/docker.pid /var/run/docker/containerd/containerd.pid /run/docker/containerd/containerd.pid
hosts="--host unix:///var/run/docker.sock"
if [ -n "${WHARF_HOST_SOCKET_DIR:-}" ]; then
  mkdir -p "$WHARF_HOST_SOCKET_DIR"
  rm -f "$WHARF_HOST_SOCKET_DIR/docker.sock"
  hosts="$hosts --host unix://$WHARF_HOST_SOCKET_DIR/docker.sock"
fi
# shellcheck disable=SC2086
dockerd $hosts ${WHARF_DOCKERD_ARGS:-} >/var/log/dockerd.log 2>&1 &
dockerd_pid=$!
agent_pid=
stop() {
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null
  kill "$dockerd_pid" 2>/dev/null
  wait "$dockerd_pid" 2>/dev/null
  exit 0
}
trap stop TERM INT
i=0
until docker version >/dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 240 ] || ! kill -0 "$dockerd_pid" 2>/dev/null; then
    echo "dockerd did not start:" >&2; tail -n 30 /var/log/dockerd.log >&2; exit 1
  fi
  sleep 0.25
done
echo "wharf-host: dockerd answers"
if [ $# -gt 0 ]; then
  (
    trap 'kill $child 2>/dev/null; exit 0' TERM
    while kill -0 "$dockerd_pid" 2>/dev/null; do
      "$@" &
      child=$!
      wait "$child"
      echo "wharf-host: '$1' exited ($?); restarting in 1 s" >&2
      sleep 1
    done
  ) &
  agent_pid=$!
fi
wait "$dockerd_pid"
EOF
chmod 755 "$ROOT/usr/local/bin/wharf-host"

old=$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
tar --numeric-owner --owner=0 --group=0 -C "$ROOT" -cf - . | docker import \
  --change 'ENTRYPOINT ["/usr/bin/docker-init", "--", "/usr/local/bin/wharf-host"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'VOLUME /var/lib/docker' \
  --change "LABEL $LABEL=1" --change "LABEL $LABEL.source=$FP" \
  --message "wharf local build of $IMAGE" - "$IMAGE" >/dev/null
if [ -n "$old" ] && [ "$old" != "$(docker image inspect --format '{{.Id}}' "$IMAGE")" ]; then
  docker image rm "$old" >/dev/null 2>&1 || true
fi
log "$IMAGE: built in $(( $(date +%s) - START ))s, $(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1/1e6 }')"
