#!/usr/bin/env bash
# Builds gridstream's container images with podman (or docker), also on machines without an image registry.
#
#   scripts/containers.sh image       the gridstream image (Dockerfile) → prints its tag
#   scripts/containers.sh services    the Kafka, PostgreSQL and Prometheus images of deploy/compose.yaml
#   scripts/containers.sh all         both
#   scripts/containers.sh secrets DIR compose secrets for deploy/compose.yaml: DIR/postgres_password, DIR/gridstream.env
#   scripts/containers.sh clean       removes every image this script made (bases included)
#
# Stdout: one line per image built or found, `<what>=<tag>`; everything else goes to stderr.
#
# Bases. GRIDSTREAM_BASE=local (the default) makes them here, cached by tag: a Debian bookworm rootfs from
# debootstrap (--variant=minbase, DEBIAN_MIRROR) imported as localhost/gridstream-debian:bookworm, and a Node 24
# base from it with the project's Node 24 binary (node_modules/node, the `node` devDependency) and the host's npm.
# GRIDSTREAM_BASE=public uses node:24-bookworm-slim and debian:bookworm-slim from a registry instead.
#
# Env: CONTAINER_ENGINE (podman), GRIDSTREAM_IMAGE (localhost/gridstream:latest), GRIDSTREAM_BASE (local|public),
#      DEBIAN_MIRROR (the host's deb.debian.org entry), GRIDSTREAM_CONTAINERS_CACHE (~/.cache/gridstream/containers),
#      GRIDSTREAM_KAFKA_HOME (~/.cache/gridstream/kafka, shared with scripts/kafka.sh), CA_BUNDLE (the host's
#      /etc/ssl/certs/ca-certificates.crt: mounted read-only into builds that fetch over https, never copied).
set -euo pipefail
# debootstrap lives in /usr/sbin, which a minimal PATH lacks.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENGINE="${CONTAINER_ENGINE:-podman}"
IMAGE="${GRIDSTREAM_IMAGE:-localhost/gridstream:latest}"
BASE="${GRIDSTREAM_BASE:-local}"
CACHE="${GRIDSTREAM_CONTAINERS_CACHE:-$HOME/.cache/gridstream/containers}"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/deploy/kafka/pom.xml")"
KAFKA_JARS="${GRIDSTREAM_KAFKA_HOME:-$HOME/.cache/gridstream/kafka}/jars-$KAFKA_VERSION"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
DEBIAN_LOCAL=localhost/gridstream-debian:bookworm
SERVICES_TAG=localhost/gridstream-services:bookworm
KAFKA_TAG="localhost/gridstream-kafka:$KAFKA_VERSION"
POSTGRES_TAG=localhost/gridstream-postgres:15
PROMETHEUS_TAG=localhost/gridstream-prometheus:bookworm

say() { echo "containers.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

# podman on these machines needs runc, cgroupfs and explicit ulimits (docs/DEPLOY.md); docker needs nothing.
engine() {
  if [[ $ENGINE == podman ]]; then
    podman --runtime runc --cgroup-manager=cgroupfs "$@"
  else
    "$ENGINE" "$@"
  fi
}
build() {
  local extra=()
  [[ $ENGINE == podman ]] && extra=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --format docker)
  engine build "${extra[@]}" "$@" >&2
}
# build_tagged TAG ARGS…: builds TAG; the image TAG named before, untagged now, is removed (bounded disk use).
build_tagged() {
  local tag="$1" old
  shift
  old="$(engine image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
  build -t "$tag" "$@"
  if [[ -n $old && -z $(engine image inspect --format '{{join .RepoTags ","}}' "$old" 2>/dev/null) ]]; then
    engine rmi "$old" >/dev/null 2>&1 || true
  fi
}
exists() { engine image exists "$1" 2>/dev/null || engine image inspect "$1" >/dev/null 2>&1; }

# The build args and mounts that let npm through this network's TLS proxy: the CA bundle is mounted, not copied.
ca_args() {
  [[ -f $CA_BUNDLE && $ENGINE == podman ]] || return 0
  local dir
  dir="$(dirname "$CA_BUNDLE")"
  echo "-v" "$dir:$dir:ro" "--build-arg" "NODE_EXTRA_CA_CERTS=$CA_BUNDLE"
}

mirror() {
  if [[ -n ${DEBIAN_MIRROR:-} ]]; then echo "$DEBIAN_MIRROR"; return; fi
  local m
  m="$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)\/* *$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
  echo "${m:-http://deb.debian.org/debian}"
}

debian_base() {
  if [[ $BASE == public ]]; then echo docker.io/library/debian:bookworm-slim; return; fi
  if ! exists "$DEBIAN_LOCAL"; then
    command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
    [[ $(id -u) == 0 ]] || die "debootstrap needs root"
    local rootfs="$CACHE/rootfs.$$"
    mkdir -p "$CACHE"
    rm -rf "$CACHE"/rootfs.*
    say "debootstrap bookworm (minbase) from $(mirror) (first run only)"
    debootstrap --variant=minbase bookworm "$rootfs" "$(mirror)" >"$CACHE/debootstrap.log" 2>&1 ||
      die "debootstrap failed; see $CACHE/debootstrap.log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/*
    tar -C "$rootfs" -c . | engine import --change 'CMD ["/bin/bash"]' - "$DEBIAN_LOCAL" >/dev/null
    rm -rf "$rootfs"
  fi
  echo "$DEBIAN_LOCAL"
}

node_base() {
  if [[ $BASE == public ]]; then echo docker.io/library/node:24-bookworm-slim; return; fi
  local node="$ROOT/node_modules/node/bin/node" npm_dir
  [[ -x $node ]] || die "$node is missing: run npm ci first (the node devDependency provides Node 24)"
  # The host's npm is plain JavaScript: its package directory is two levels above the real path of `npm`.
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  [[ -f $npm_dir/bin/npm-cli.js ]] || npm_dir="$(npm root -g)/npm"
  [[ -f $npm_dir/bin/npm-cli.js ]] || die "npm not found (looked at $npm_dir)"
  local nv npmv tag
  nv="$("$node" --version)"
  npmv="$(node -p "require('$npm_dir/package.json').version")"
  tag="localhost/gridstream-node:${nv#v}-npm$npmv"
  if ! exists "$tag"; then
    local base ctx="$CACHE/node-base.$$"
    base="$(debian_base)"
    say "making $tag from $base, $node and $npm_dir"
    rm -rf "$CACHE"/node-base.*
    mkdir -p "$ctx"
    cp "$ROOT/deploy/images/node-base/Containerfile" "$ctx/"
    cp -l "$node" "$ctx/node" 2>/dev/null || cp "$node" "$ctx/node"
    cp -a "$npm_dir" "$ctx/npm"
    build --build-arg "DEBIAN_IMAGE=$base" -t "$tag" "$ctx"
    rm -rf "$ctx"
  fi
  echo "$tag"
}

gridstream_image() {
  local base cache_mount=()
  base="$(node_base)"
  # The host's npm cache makes `npm ci` in the build nearly offline; a build-time mount, not part of any layer.
  [[ $ENGINE == podman && -d $HOME/.npm ]] && cache_mount=(-v "$HOME/.npm:/root/.npm")
  say "building $IMAGE (base $base)"
  # The build stage is tagged too ($IMAGE-build): untagged, its layers would be dangling and not reused next time.
  # shellcheck disable=SC2046
  build_tagged "$IMAGE-build" $(ca_args) "${cache_mount[@]}" --build-arg "BASE_IMAGE=$base" --target build \
    -f "$ROOT/Dockerfile" "$ROOT"
  # shellcheck disable=SC2046
  build_tagged "$IMAGE" $(ca_args) "${cache_mount[@]}" --build-arg "BASE_IMAGE=$base" -f "$ROOT/Dockerfile" "$ROOT"
  echo "image=$IMAGE"
}

# The Kafka jars scripts/kafka.sh runs (deploy/kafka/pom.xml, Maven Central), fetched the same way when missing.
kafka_jars() {
  [[ -f $KAFKA_JARS/kafka_2.13-$KAFKA_VERSION.jar ]] && return 0
  command -v mvn >/dev/null || die "Kafka jars missing in $KAFKA_JARS and mvn not installed"
  say "fetching Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_JARS"
  local tmp="$KAFKA_JARS.tmp.$$"
  mvn -q -B -f "$ROOT/deploy/kafka/pom.xml" dependency:copy-dependencies -DoutputDirectory="$tmp" 2>&1 |
    sed 's/\x1b\[0m//g' >&2
  mv "$tmp" "$KAFKA_JARS" 2>/dev/null || rm -rf "$tmp"
}

services() {
  local base
  if ! exists "$SERVICES_TAG"; then
    base="$(debian_base)"
    say "making $SERVICES_TAG: openjdk-17-jre-headless, postgresql, prometheus from $(mirror) (first run only)"
    build --build-arg "DEBIAN_IMAGE=$base" --build-arg "DEBIAN_MIRROR=$(mirror)" \
      --build-arg "DEBIAN_SECURITY_MIRROR=$(mirror)-security" -t "$SERVICES_TAG" \
      "$ROOT/deploy/images/services"
  fi
  kafka_jars
  local ctx="$CACHE/kafka-context.$$"
  rm -rf "$CACHE"/kafka-context.*
  mkdir -p "$ctx"
  cp "$ROOT"/deploy/images/kafka/* "$ctx/"
  cp -rl "$KAFKA_JARS" "$ctx/jars" 2>/dev/null || cp -r "$KAFKA_JARS" "$ctx/jars"
  build_tagged "$KAFKA_TAG" --build-arg "SERVICES_IMAGE=$SERVICES_TAG" "$ctx"
  rm -rf "$ctx"
  build_tagged "$POSTGRES_TAG" --build-arg "SERVICES_IMAGE=$SERVICES_TAG" "$ROOT/deploy/images/postgres"
  build_tagged "$PROMETHEUS_TAG" --build-arg "SERVICES_IMAGE=$SERVICES_TAG" "$ROOT/deploy/images/prometheus"
  echo "kafka=$KAFKA_TAG"
  echo "postgres=$POSTGRES_TAG"
  echo "prometheus=$PROMETHEUS_TAG"
}

# Random secrets for the compose stack, readable by the owner only: the database password (a compose secret of the
# postgres service) and the gridstream env file (DATABASE_URL with that password, the admin API key).
secrets() {
  local dir="${1:?usage: containers.sh secrets DIR}"
  mkdir -p "$dir"
  local password key
  password="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  key="$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
  (
    umask 077
    printf '%s\n' "$password" >"$dir/postgres_password"
    printf 'DATABASE_URL=postgres://gridstream:%s@postgres:5432/gridstream\nGRIDSTREAM_ADMIN_KEY=%s\n' \
      "$password" "$key" >"$dir/gridstream.env"
  )
  say "wrote $dir/postgres_password and $dir/gridstream.env"
}

clean() {
  local tags=("$IMAGE" "$IMAGE-build" "$KAFKA_TAG" "$POSTGRES_TAG" "$PROMETHEUS_TAG" "$SERVICES_TAG")
  mapfile -t -O ${#tags[@]} tags < <(engine images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/gridstream-node:' || true)
  tags+=("$DEBIAN_LOCAL")
  for t in "${tags[@]}"; do exists "$t" && engine rmi "$t" >&2 || true; done
}

cmd="${1:-}"
case "$cmd" in
  image | services | all | clean) ;;
  secrets) secrets "${2:-}"; exit 0 ;;
  *) echo "usage: $0 image|services|all|secrets DIR|clean" >&2; exit 2 ;;
esac
command -v "$ENGINE" >/dev/null || die "$ENGINE is not installed (apt-get install podman runc debootstrap)"
# One build at a time: tests running in parallel share the cached bases.
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
case "$cmd" in
  image) gridstream_image ;;
  services) services ;;
  all) gridstream_image; services ;;
  clean) clean ;;
esac
