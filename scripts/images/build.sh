#!/usr/bin/env bash
# `make images`: builds every image of the project from its own Dockerfile, here and anywhere.
#
#  - Engine: the Docker engine `docker info` answers; else, as root with Debian's docker.io installed, a private
#    dockerd started for this build only (own data root under the cache, own socket, no bridge, no firewall
#    rules; stopped by PID on exit).
#  - Base: the Dockerfiles' own `debian:trixie-slim` when a registry serves it; else (IMAGE_BASE=auto finds no
#    registry, or IMAGE_BASE=debootstrap) a stand-in made from Debian's packages (scripts/images/debian-base.sh),
#    built once and cached, passed as --build-arg BASE_IMAGE. Nothing else about the build differs.
#  - Cache: an image is keyed by its Dockerfile, .dockerignore, the context files its COPY lines name, the base
#    image and the build arguments; an image already built for that key is only re-tagged.
#  - Report: each image's size and its largest layers; an SPDX SBOM per image when syft is available
#    (scripts/tools/build.sh syft builds it from Go modules).
#
# Settings (environment): IMAGE_REGISTRY (ghcr.io/composer-mcp), IMAGE_TAG (package.json version), IMAGE_BASE
# (auto|registry|debootstrap), IMAGES ("name:Dockerfile …", default every image), IMAGE_OUT (a directory: each
# image is also saved there as a docker archive, with images.json listing them), IMAGE_SBOM (0: none),
# IMAGE_SBOM_DIR (dist/sbom), IMAGE_PUSH (1: docker push each image to IMAGE_REGISTRY; log in first).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
cache_root=${COMPOSER_MCP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/composer-mcp}
cache=$cache_root/images
mkdir -p "$cache"
registry=${IMAGE_REGISTRY:-ghcr.io/composer-mcp}
tag=${IMAGE_TAG:-$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)}
base_mode=${IMAGE_BASE:-auto}
base_default=debian:trixie-slim
out_dir=${IMAGE_OUT:-}
sbom_dir=${IMAGE_SBOM_DIR:-$root/dist/sbom}
read -r -a images <<<"${IMAGES:-operator:operator/Dockerfile server:server/Dockerfile browser:browser/Dockerfile}"
started=$SECONDS
log() { echo "images: $*" >&2; }

# ------------------------------------------------------------------ the engine
private_dockerd_pid=""
private_dir=/run/composer-mcp-images
cgroups_before=""
run_dirs_before=""
ip_forward_before=""
stop_private_dockerd() {
  [ -n "$private_dockerd_pid" ] || return 0
  kill -TERM "$private_dockerd_pid" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$private_dockerd_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$private_dockerd_pid" 2>/dev/null || true
  # Anything dockerd or its containerd left mounted under its directories, deepest first.
  awk -v a="$private_dir" -v b="$cache_root/docker" 'index($2, a "/") == 1 || index($2, b "/") == 1 {print $2}' /proc/mounts |
    sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$private_dir"
  # dockerd and its containerd also create these whatever --exec-root says; remove them when this build made them.
  for dir in /run/docker /run/containerd; do
    case " $run_dirs_before " in *" $dir "*) ;; *) rm -rf "$dir" ;; esac
  done
  # dockerd turns IP forwarding on even without a bridge; put back what the machine had.
  [ -z "$ip_forward_before" ] || echo "$ip_forward_before" >/proc/sys/net/ipv4/ip_forward
  # The cgroups the build containers used (only those that did not exist before this build).
  for dir in /sys/fs/cgroup/*/docker /sys/fs/cgroup/docker; do
    [ -d "$dir" ] || continue
    case " $cgroups_before " in *" $dir "*) continue ;; esac
    find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  private_dockerd_pid=""
}

start_private_dockerd() {
  command -v dockerd >/dev/null 2>&1 || return 1
  [ "$(id -u)" -eq 0 ] || return 1
  mkdir -p "$cache_root/docker"
  # One private engine per machine at a time (its data root is shared by every checkout's builds).
  exec 9>"$cache_root/docker/.lock"
  if ! flock -w 1800 9; then echo "ERROR: another make images holds $cache_root/docker/.lock for 30 min" >&2; exit 1; fi
  cgroups_before=$(ls -d /sys/fs/cgroup/*/docker /sys/fs/cgroup/docker 2>/dev/null | tr '\n' ' ' || true)
  run_dirs_before=$(ls -d /run/docker /run/containerd 2>/dev/null | tr '\n' ' ' || true)
  ip_forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
  rm -rf "$private_dir" && mkdir -p "$private_dir"
  log "no Docker engine answers; starting a private dockerd (data root $cache_root/docker/data, socket $private_dir/docker.sock)"
  dockerd --data-root "$cache_root/docker/data" --exec-root "$private_dir/exec" --pidfile "$private_dir/dockerd.pid" \
    -H "unix://$private_dir/docker.sock" --bridge=none --iptables=false --ip-masq=false --ip6tables=false --ip-forward=false \
    --storage-driver=overlay2 --log-level=warn >"$private_dir/dockerd.log" 2>&1 &
  private_dockerd_pid=$!
  trap stop_private_dockerd EXIT
  trap 'exit 130' INT TERM
  export DOCKER_HOST=unix://$private_dir/docker.sock
  for _ in $(seq 300); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 "$private_dockerd_pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "ERROR: the private dockerd did not start. Last lines of its log:" >&2
  tail -n 20 "$private_dir/dockerd.log" >&2
  exit 1
}

if docker info >/dev/null 2>&1; then
  network_args=()
elif start_private_dockerd; then
  # The private engine has no bridge: RUN steps that download (apt, npm) use the host's network.
  network_args=(--network host)
else
  echo "ERROR: no Docker engine answers (docker info failed) and none can be started here (needs root and dockerd," \
    "e.g. apt-get install docker.io). Start Docker, or run make images where it runs." >&2
  exit 1
fi
# BuildKit when the engine has buildx; else the classic builder (Debian's docker.io 20.10 has no buildx), which
# the Dockerfiles also support: install-node.sh falls back from $TARGETARCH to the machine's architecture.
if docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=1; else export DOCKER_BUILDKIT=0; fi

# ------------------------------------------------------------------ the base
base_args=()
base_ref=$base_default
base_note="base $base_default"
use_registry_base() {
  docker image inspect "$base_default" >/dev/null 2>&1 && return 0
  timeout 120 docker pull -q "$base_default" >/dev/null 2>&1
}
case $base_mode in
  registry) use_registry_base || { echo "ERROR: cannot pull $base_default (IMAGE_BASE=registry)" >&2; exit 1; } ;;
  auto | debootstrap)
    if [ "$base_mode" = debootstrap ] || ! use_registry_base; then
      tarball=$(bash "$root/scripts/images/debian-base.sh" trixie)
      key=$(basename "$tarball" .tar); key=${key##*-}
      base_ref=composer-mcp.local/debian:trixie-slim-$key
      if ! docker image inspect "$base_ref" >/dev/null 2>&1; then
        docker import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
          "$tarball" "$base_ref" >/dev/null
      fi
      base_args=(--build-arg "BASE_IMAGE=$base_ref")
      base_note="base $base_ref: the debootstrap stand-in for $base_default"
      log "no registry serves $base_default here: using the debootstrap stand-in $base_ref"
    fi
    ;;
  *) echo "ERROR: IMAGE_BASE must be auto, registry or debootstrap (got $base_mode)" >&2; exit 1 ;;
esac
base_id=$(docker image inspect -f '{{.Id}}' "$base_ref")

# Certificate authorities this machine added locally (/usr/local/share/ca-certificates, or IMAGE_EXTRA_CA: PEM
# files), e.g. a TLS-intercepting proxy's: the build stages trust them for their downloads; no image keeps them.
extra_ca=""
for pem in ${IMAGE_EXTRA_CA:-/usr/local/share/ca-certificates/*.crt}; do
  [ -f "$pem" ] && extra_ca+="$(cat "$pem")"$'\n'
done
[ -z "$extra_ca" ] || base_args+=(--build-arg "EXTRA_CA_CERTS=$extra_ca")

# ------------------------------------------------------------------ the images
# The build-context paths a Dockerfile's COPY/ADD lines name (not --from copies).
context_sources() {
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$1" |
    awk 'toupper($1) == "COPY" || toupper($1) == "ADD" {
      from = 0; n = 0
      for (i = 2; i <= NF; i++) { if ($i ~ /^--from=/) from = 1; else if ($i !~ /^--/) w[++n] = $i }
      if (!from) for (i = 1; i < n; i++) print w[i]
    }'
}
# An image's cache key: Dockerfile, its ignore file, the copied context files, the base, the build arguments.
image_key() {
  local dockerfile=$1
  {
    cat "$dockerfile"
    cat "$dockerfile.dockerignore" .dockerignore 2>/dev/null || true
    echo "$base_id ${base_args[*]:-}" | sha256sum
    context_sources "$dockerfile" | while read -r src; do
      src=${src#./}
      [ -e "$src" ] || { echo "ERROR: $dockerfile copies $src, which does not exist" >&2; exit 1; }
      find "$src" -type f -print0 | sort -z | xargs -0 -r sha256sum
    done
  } | sha256sum | cut -c1-16
}

declare -a report=()
manifest_entries=()
[ -z "$out_dir" ] || mkdir -p "$out_dir"
for spec in "${images[@]}"; do
  name=${spec%%:*}; dockerfile=${spec#*:}
  key=$(image_key "$dockerfile")
  cached=composer-mcp.local/cache/$name:$key
  ref=$registry/$name:$tag
  if docker image inspect "$cached" >/dev/null 2>&1; then
    log "$ref: unchanged inputs (key $key), reusing the image built before"
  else
    log "building $ref from $dockerfile (key $key)"
    t0=$SECONDS
    blog=$(mktemp)
    if ! docker build ${network_args[@]+"${network_args[@]}"} ${base_args[@]+"${base_args[@]}"} \
          -f "$dockerfile" -t "$cached" --label "io.composer-mcp.inputs=$key" . >"$blog" 2>&1; then
      echo "ERROR: docker build -f $dockerfile failed. Last lines:" >&2
      tail -n 40 "$blog" >&2
      rm -f "$blog"
      exit 1
    fi
    rm -f "$blog"
    log "built $ref in $((SECONDS - t0))s"
  fi
  docker tag "$cached" "$ref"
  id=$(docker image inspect -f '{{.Id}}' "$ref")
  size=$(docker image inspect -f '{{.Size}}' "$ref")
  largest=$(docker history --no-trunc --format '{{.Size}}|{{.CreatedBy}}' "$ref" |
    awk -F'|' '{s=$1; v=s+0; if (s ~ /kB$/) v*=1e3; else if (s ~ /MB$/) v*=1e6; else if (s ~ /GB$/) v*=1e9;
      c=$2; gsub(/^\/bin\/sh -c (#\(nop\) )?/, "", c); gsub(/[ \t]+/, " ", c); printf "%d|%s|%s\n", v, s, substr(c, 1, 70)}' |
    sort -t'|' -k1,1nr | head -n 3 | awk -F'|' '{printf "    %8s  %s\n", $2, $3}')
  report+=("$(printf '%-10s %7d MB  %s' "$name" "$((size / 1000000))" "$ref")"$'\n'"$largest")
  if [ -n "$out_dir" ]; then
    archive=$cache/archives/$name-$key.tar
    if [ ! -s "$archive" ]; then
      mkdir -p "$cache/archives"
      docker save -o "$archive.tmp.$$" "$cached" && mv "$archive.tmp.$$" "$archive"
    fi
    # Archives of earlier inputs: every change of an image's inputs writes a new one (350 MB to 1 GB), so keep the
    # three most recently used per image (other checkouts sharing this cache may still load theirs) and drop the rest
    # (the decision: scripts/images/prune-archives.ts, tested in test/unit/images/prune-archives.test.ts).
    touch "$archive"
    node scripts/images/prune-archives.ts "$cache/archives" "$name" "$archive"
    manifest_entries+=("{\"name\":\"$name\",\"ref\":\"$cached\",\"id\":\"$id\",\"key\":\"$key\",\"size\":$size,\"archive\":\"$archive\"}")
  fi
  if [ "${IMAGE_PUSH:-0}" = 1 ]; then
    log "pushing $ref"
    docker push "$ref" >/dev/null
  fi
  if [ "${IMAGE_SBOM:-1}" != 0 ] && command -v syft >/dev/null 2>&1; then
    mkdir -p "$sbom_dir"
    sbom=$cache/sbom/$name-$key.spdx.json
    if [ ! -s "$sbom" ]; then
      mkdir -p "$cache/sbom"
      syft -q "docker:$cached" -o "spdx-json=$sbom.tmp.$$" && mv "$sbom.tmp.$$" "$sbom"
    fi
    cp "$sbom" "$sbom_dir/$name.spdx.json"
  fi
done
if [ -n "$out_dir" ]; then
  (IFS=,; echo "[${manifest_entries[*]}]") >"$out_dir/images.json"
fi

# Old cache tags and dangling layers of earlier inputs: keep the engine's store from growing without bound.
keep=" $(for spec in "${images[@]}"; do echo -n "composer-mcp.local/cache/${spec%%:*}:$(image_key "${spec#*:}") "; done)"
docker images --format '{{.Repository}}:{{.Tag}}' 'composer-mcp.local/cache/*' | while read -r old; do
  case $keep in *" $old "*) ;; *) docker rmi "$old" >/dev/null 2>&1 || true ;; esac
done
docker image prune -f >/dev/null 2>&1 || true

echo "Images ($base_note), done in $((SECONDS - started))s:"
printf '%s\n' "${report[@]}"
if [ "${IMAGE_SBOM:-1}" != 0 ]; then
  if command -v syft >/dev/null 2>&1; then echo "SBOMs (SPDX JSON): $sbom_dir"; else echo "No SBOMs: syft is not installed (scripts/tools/build.sh syft builds it)"; fi
fi
