#!/usr/bin/env bash
# Builds the container images Wharf's tests and docker-compose.yml use, from what is installed on
# this host, because no registry can be reached from here:
#
#   busybox:latest  Debian's busybox-static with a symlink per applet; Cmd ["sh"]
#   node:20         the host's node binary and the libraries ldd lists for it, plus busybox
#                   (so sh, wget, nc ... exist); Entrypoint/Cmd like the official image
#   redis:7         the host's redis-server and redis-cli with their libraries, plus busybox;
#                   Cmd ["redis-server", "--protected-mode", "no"], exposes 6379
#
# The names are the official ones, so the same tests work unchanged on a machine that pulls the
# real images. Every image built here carries the label io.wharf.local-build=1 and a fingerprint
# (io.wharf.local-build.source) of this script and the host binaries it was made from.
#
# Idempotent: an image that exists with the current fingerprint is kept (a warm run takes well
# under a second; a cold one about 10 s); a stale local build is rebuilt; an image pulled from a
# registry (it has a repo digest, e.g. the real node:20) is left alone; an unlabelled image
# without a digest (a hand-made `docker import`) is replaced.
#
# Usage: bash test/images/build.sh [--force] [--verify] [IMAGE ...]
#   --force   rebuild even if the image exists (replaces a pulled official image too)
#   --verify  also run the smoke checks for images that were not rebuilt
#   IMAGE     build only these (busybox:latest, node:20, redis:7); default: all three
# Needs: a running Docker engine, ldd, tar, and the binaries below (apt: busybox-static
# redis-server; node is whatever `command -v node` finds).
set -euo pipefail
shopt -s inherit_errexit

LABEL=io.wharf.local-build
ALL_IMAGES=(busybox:latest node:20 redis:7)
FORCE=0
VERIFY_ALL=0
WANTED=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

for arg in "$@"; do
  case "$arg" in
    -f|--force) FORCE=1 ;;
    --verify) VERIFY_ALL=1 ;;
    -h|--help) usage; exit 0 ;;
    busybox|busybox:latest) WANTED+=(busybox:latest) ;;
    node|node:20) WANTED+=(node:20) ;;
    redis|redis:7) WANTED+=(redis:7) ;;
    *) echo "build.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
[ ${#WANTED[@]} -gt 0 ] || WANTED=("${ALL_IMAGES[@]}")

log() { printf '[images] %s\n' "$*"; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }

command -v docker >/dev/null || die "the docker client is not installed (apt-get install docker.io)"
docker info >/dev/null 2>&1 || die "no Docker engine answers (is dockerd running? try: dockerd >/tmp/dockerd.log 2>&1 &)"

# Two builds at once would race on the tags; serialise them when flock is available.
if command -v flock >/dev/null; then
  exec 9>"${TMPDIR:-/tmp}/wharf-image-build.lock"
  flock 9
fi

STAGE_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/wharf-images.XXXXXX")
trap 'rm -rf "$STAGE_ROOT"' EXIT

# ---------------------------------------------------------------------------- host binaries

find_busybox() {
  local c
  for c in /bin/busybox /usr/bin/busybox "$(command -v busybox || true)"; do
    [ -n "$c" ] && [ -x "$c" ] && { readlink -f "$c"; return; }
  done
  die "busybox not found (apt-get install busybox-static)"
}

find_redis() {
  local c
  c=$(command -v redis-server || true)
  [ -n "$c" ] || { [ -x /usr/bin/redis-server ] && c=/usr/bin/redis-server; }
  [ -n "$c" ] || die "redis-server not found (apt-get install redis-server)"
  # Debian's redis-server is a symlink to redis-check-rdb; the binary picks its role from argv[0],
  # so the image gets the resolved file under the name redis-server.
  readlink -f "$c"
}

find_node() {
  local c
  c=$(command -v node || true)
  [ -n "$c" ] || die "node not found"
  readlink -f "$c"
}

BUSYBOX=$(find_busybox)
case "$(LC_ALL=C ldd "$BUSYBOX" 2>&1 || true)" in
  *"not a dynamic executable"*|*"statically linked"*) ;;
  *) log "note: $BUSYBOX is dynamically linked; its libraries will be copied too (busybox-static is preferred)" ;;
esac

# What each image is made from; a change rebuilds the image.
fingerprint() {
  local name=$1 files=() f
  case "$name" in
    busybox:latest) files=("$BUSYBOX") ;;
    node:20) files=("$BUSYBOX" "$(find_node)") ;;
    redis:7) files=("$BUSYBOX" "$(find_redis)") ;;
  esac
  {
    sha256sum "$0" | cut -d' ' -f1
    for f in "${files[@]}"; do stat -L -c '%n %s %Y' "$f"; done
  } | sha256sum | cut -c1-16
}

# ---------------------------------------------------------------------------- rootfs helpers

# skeleton ROOT [extra passwd lines...]: the directories and /etc files every image gets.
skeleton() {
  local root=$1; shift
  mkdir -p "$root"/{bin,sbin,dev,proc,sys,etc,root,home,var/tmp,usr/bin,usr/sbin,usr/local/bin,tmp}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  chmod 700 "$root/root"
  {
    echo 'root:x:0:0:root:/root:/bin/sh'
    echo 'daemon:x:1:1:daemon:/usr/sbin:/bin/false'
    local line; for line in "$@"; do echo "$line"; done
    echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false'
  } >"$root/etc/passwd"
  {
    echo 'root:x:0:'
    echo 'daemon:x:1:'
    local line; for line in "$@"; do IFS=: read -r u _ _ g _ <<<"$line"; echo "$u:x:$g:"; done
    echo 'nogroup:x:65534:'
  } >"$root/etc/group"
  printf 'hosts: files dns\nnetworks: files\npasswd: files\ngroup: files\n' >"$root/etc/nsswitch.conf"
}

# copy_libs ROOT BINARY: every library ldd lists for BINARY (and the dynamic loader), at the same
# paths as on the host, symlinks resolved.
copy_libs() {
  local root=$1 bin=$2 lib
  while read -r lib; do
    [ -n "$lib" ] || continue
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done < <(LC_ALL=C ldd "$bin" 2>/dev/null | awk '$2 == "=>" { if ($3 ~ /^\//) print $3; next } $1 ~ /^\// { print $1 }' || true)
}

# add_binary ROOT SRC DEST: SRC (symlinks resolved) at DEST, with its libraries.
add_binary() {
  local root=$1 src=$2 dest=$3
  mkdir -p "$root$(dirname "$dest")"
  cp -L "$src" "$root$dest"
  chmod 755 "$root$dest"
  copy_libs "$root" "$src"
}

# add_busybox ROOT: /bin/busybox and a symlink per applet, in /bin (as in the official busybox
# image) and at busybox's own FHS place (/usr/bin/env, /sbin/ip ...) so that #! lines resolve.
add_busybox() {
  local root=$1 applet path
  add_binary "$root" "$BUSYBOX" /bin/busybox
  while read -r path; do
    case "$path" in */*) ;; *) continue ;; esac   # skips 'linuxrc'
    applet=${path##*/}
    [ -e "$root/bin/$applet" ] || [ -L "$root/bin/$applet" ] || ln -s /bin/busybox "$root/bin/$applet"
    if [ "$path" != "bin/$applet" ]; then
      mkdir -p "$root/$(dirname "$path")"
      [ -e "$root/$path" ] || [ -L "$root/$path" ] || ln -s /bin/busybox "$root/$path"
    fi
  done < <("$BUSYBOX" --list-full)
}

# import ROOT NAME FINGERPRINT CHANGE...: the directory as a one-layer image.
import_rootfs() {
  local root=$1 name=$2 fp=$3; shift 3
  local changes=() c old
  for c in "$@" "LABEL $LABEL=1" "LABEL $LABEL.source=$fp" \
           'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'; do
    changes+=(--change "$c")
  done
  old=$(docker image inspect --format '{{.Id}}' "$name" 2>/dev/null || true)
  tar --numeric-owner --owner=0 --group=0 -C "$root" -cf - . \
    | docker import "${changes[@]}" --message "wharf local build of $name" - "$name" >/dev/null
  # the previous local build is now untagged: drop it unless a container still uses it
  if [ -n "$old" ] && [ "$old" != "$(docker image inspect --format '{{.Id}}' "$name")" ]; then
    docker image rm "$old" >/dev/null 2>&1 || true
  fi
}

# ---------------------------------------------------------------------------- the images

# The official node and redis images start through a docker-entrypoint.sh that lets
# `docker run node:20 -e '...'` / `docker run redis:7 --port 7000` work; ours do the same.
NODE_ENTRYPOINT='#!/bin/sh
set -e
# as in the official image: an option or a non-command as first argument runs node
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
'
REDIS_ENTRYPOINT='#!/bin/sh
set -e
# as in the official image: an option or a .conf file as first argument runs redis-server
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
exec "$@"
'

build_busybox() {
  local root=$STAGE_ROOT/busybox
  skeleton "$root"
  add_busybox "$root"
  import_rootfs "$root" busybox:latest "$1" 'CMD ["sh"]'
}

build_node() {
  local root=$STAGE_ROOT/node
  skeleton "$root" 'node:x:1000:1000::/home/node:/bin/sh'
  mkdir -p "$root/home/node"
  if [ "$(id -u)" = 0 ]; then chown 1000:1000 "$root/home/node"; else chmod 1777 "$root/home/node"; fi
  add_busybox "$root"
  add_binary "$root" "$(find_node)" /usr/local/bin/node
  printf '%s' "$NODE_ENTRYPOINT" >"$root/usr/local/bin/docker-entrypoint.sh"
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
  import_rootfs "$root" node:20 "$1" \
    'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["node"]' \
    "ENV NODE_VERSION=$("$(find_node)" --version | sed 's/^v//')"
}

build_redis() {
  local root=$STAGE_ROOT/redis cli l
  skeleton "$root" 'redis:x:999:999::/home/redis:/bin/false'
  mkdir -p "$root/data"
  add_busybox "$root"
  add_binary "$root" "$(find_redis)" /usr/local/bin/redis-server
  for l in redis-check-rdb redis-check-aof redis-sentinel; do ln -s redis-server "$root/usr/local/bin/$l"; done
  cli=$(command -v redis-cli || true)
  [ -n "$cli" ] && add_binary "$root" "$cli" /usr/local/bin/redis-cli
  printf '%s' "$REDIS_ENTRYPOINT" >"$root/usr/local/bin/docker-entrypoint.sh"
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
  import_rootfs "$root" redis:7 "$1" \
    'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["redis-server", "--protected-mode", "no"]' \
    'EXPOSE 6379/tcp' 'WORKDIR /data'
}

# ---------------------------------------------------------------------------- smoke checks

# run IMAGE ARGS...: a throwaway container with no network (loopback only).
run() { docker run --rm --network none "$@"; }

expect() { # expect WHAT EXPECTED ACTUAL
  if [ "$3" != "$2" ]; then die "$1: expected '$2', got '$3'"; fi
}

verify() {
  local name=$1 out
  case "$name" in
    busybox:latest)
      expect "busybox echo" ok "$(run busybox:latest echo ok)"
      expect "busybox default command" ok "$(run busybox:latest sh -c 'echo ok')"
      expect "busybox applets" ok "$(run busybox:latest sh -c 'for a in sleep wget nc httpd cat ls env timeout; do command -v $a >/dev/null || exit 1; done; echo ok')"
      ;;
    node:20)
      expect "node --version" "$(node --version)" "$(run node:20 node --version)"
      expect "node via entrypoint" 42 "$(run node:20 -e 'console.log(6*7)')"
      out=$(run node:20 sh -c '
        node -e "require(\"http\").createServer((q,s)=>s.end(\"hi\")).listen(3000)" &
        i=0; while [ $i -lt 100 ]; do wget -qO- http://127.0.0.1:3000/ 2>/dev/null && exit 0; i=$((i+1)); sleep 0.1; done
        exit 1' || true)
      expect "node http server" hi "$out"
      ;;
    redis:7)
      out=$(run redis:7 redis-server --version)
      case "$out" in "Redis server v=7"*) ;; *) die "redis-server --version printed '$out'" ;; esac
      out=$(run redis:7 sh -c '
        redis-server --port 6379 --save "" --daemonize yes >/dev/null
        i=0; while [ $i -lt 100 ]; do r=$(redis-cli ping 2>/dev/null) && [ "$r" = PONG ] && { echo PONG; exit 0; }; i=$((i+1)); sleep 0.1; done
        exit 1' || true)
      expect "redis-cli ping" PONG "$out"
      ;;
  esac
  log "$name: ok"
}

# ---------------------------------------------------------------------------- main

start=$(date +%s)
for name in "${WANTED[@]}"; do
  fp=$(fingerprint "$name")
  # label, fingerprint and number of registry digests, or nothing when the image is absent
  info=$(docker image inspect --format "{{index .Config.Labels \"$LABEL\"}}|{{index .Config.Labels \"$LABEL.source\"}}|{{len .RepoDigests}}" "$name" 2>/dev/null || true)
  IFS='|' read -r have_label have_fp digests <<<"${info:-}" || true
  reason=""
  if [ "$FORCE" = 1 ]; then reason="--force"
  elif [ -z "$info" ]; then reason="not present"
  elif [ "$have_label" != 1 ] && [ "${digests:-0}" != 0 ]; then
    log "$name: present and pulled from a registry: keeping it (--force replaces it)"
  elif [ "$have_label" != 1 ]; then reason="present but not made by this script"
  elif [ "$have_fp" != "$fp" ]; then reason="host binaries or build.sh changed"
  fi
  if [ -n "$reason" ]; then
    t0=$(date +%s)
    log "$name: building ($reason)"
    case "$name" in
      busybox:latest) build_busybox "$fp" ;;
      node:20) build_node "$fp" ;;
      redis:7) build_redis "$fp" ;;
    esac
    verify "$name"
    log "$name: built in $(( $(date +%s) - t0 ))s, $(docker image inspect --format '{{.Size}}' "$name" | awk '{ printf "%.1f MB", $1/1e6 }')"
  else
    if [ "$have_label" = 1 ]; then log "$name: up to date"; fi
    if [ "$VERIFY_ALL" = 1 ]; then verify "$name"; fi
  fi
done
log "done in $(( $(date +%s) - start ))s"
