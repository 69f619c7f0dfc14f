#!/usr/bin/env bash
# Builds what a real node needs beside the control plane, pinned by the wrapper modules beside this script and
# cached outside the repo keyed by go.mod/go.sum/ldflags (like test/support/control-plane/build.sh):
#   kubelet, kube-scheduler, kube-proxy   from k8s.io/kubernetes (node-tools/, the control plane's version)
#   containerd, containerd-shim-runc-v2, ctr   containerd 2.x from the Go module proxy (containerd/)
#   pause, pause-image.tar                Kubernetes' own build/pause/linux/pause.c, static, packed as the sandbox image
# A fresh machine builds once (minutes); later runs only link the cached binaries into .tools/bin.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${COMPOSER_MCP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/composer-mcp}/bin
tools=${COMPOSER_MCP_TOOLS:-$here/../../../.tools}/bin
mkdir -p "$cache" "$tools"
export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"

pinned() { (cd "$here/$1" && go list -m -f '{{.Version}}' "$2"); }

# The same version stamps as the control plane's binaries (the kubelet reports it as the node's kubeletVersion).
k8s_version=$(pinned node-tools k8s.io/kubernetes)
k8s_minor=${k8s_version#v1.}; k8s_minor=${k8s_minor%%.*}
k8s_ldflags=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
containerd_version=$(pinned containerd github.com/containerd/containerd/v2)
containerd_ldflags="-X github.com/containerd/containerd/v2/version.Version=$containerd_version"
containerd_ldflags+=" -X github.com/containerd/containerd/v2/version.Revision=module-proxy"

# build <wrapper dir> <binary name> <package> [extra ldflags] [build tags]
build() {
  local dir=$here/$1 name=$2 pkg=$3 ldflags="-s ${4:-}" tags=${5:-}
  local key; key=$( (cat "$dir/go.mod" "$dir/go.sum"; echo "$ldflags $tags") | sha256sum | cut -c1-12)
  local out=$cache/$name-$key
  if [ ! -x "$out" ]; then
    echo "Building $name from $pkg (first time on this machine; cached at $out)" >&2
    local start=$SECONDS log; log=$(mktemp)
    if ! (cd "$dir" && go build -trimpath -tags="$tags" -ldflags="$ldflags" -o "$out.tmp.$$" "$pkg") >"$log" 2>&1; then
      echo "ERROR: building $name failed (go build $pkg in $dir). Last lines:" >&2
      tail -n 30 "$log" >&2
      rm -f "$out.tmp.$$"
      exit 1
    fi
    mv "$out.tmp.$$" "$out"; rm -f "$log"
    echo "Built $name in $((SECONDS - start))s" >&2
  fi
  ln -sfn "$out" "$tools/$name"
}

# Kubernetes' pause program, compiled statically from the module's own source: the pod sandbox image's only file.
build_pause() {
  local src; src=$(cd "$here/node-tools" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
  [ -f "$src" ] || (cd "$here/node-tools" && go mod download k8s.io/kubernetes)
  local key; key=$( (cat "$src"; echo "$k8s_version") | sha256sum | cut -c1-12)
  local out=$cache/pause-$key
  if [ ! -x "$out" ]; then
    command -v gcc >/dev/null 2>&1 || { echo "ERROR: gcc is needed to compile the pause program (apt-get install gcc libc6-dev)" >&2; exit 1; }
    gcc -Os -static -Wall -Werror -DVERSION="$k8s_version" -o "$out.tmp.$$" "$src" && strip "$out.tmp.$$"
    mv "$out.tmp.$$" "$out"
  fi
  ln -sfn "$out" "$tools/pause"
}

# The pod sandbox image: only the pause program, as uid 65535 like Kubernetes' own, packed with umoci and skopeo
# into a docker archive that `ctr images import` takes. Cached beside the binaries, keyed by the program.
build_pause_image() {
  local pause; pause=$(readlink -f "$tools/pause")
  local key; key=$(basename "$pause"); key=${key#pause-}
  local images=${cache%/bin}/images out
  out=$images/pause-$key.tar
  mkdir -p "$images"
  if [ ! -s "$out" ]; then
    for tool in umoci skopeo; do command -v $tool >/dev/null 2>&1 || { echo "ERROR: $tool is missing (apt-get install umoci skopeo)" >&2; exit 1; }; done
    local work; work=$(mktemp -d)
    (
      set -e
      cd "$work"
      umoci init --layout oci >/dev/null
      umoci new --image oci:pause >/dev/null
      umoci unpack --image oci:pause bundle >/dev/null
      install -m 0755 "$pause" bundle/rootfs/pause
      umoci repack --image oci:pause bundle >/dev/null
      umoci config --image oci:pause --config.entrypoint /pause --config.user 65535:65535 --os linux \
        --architecture "$(go env GOARCH)" >/dev/null
      skopeo copy --quiet "oci:oci:pause" "docker-archive:$out.tmp:composer-mcp.local/pause:$k8s_version-$key" >/dev/null
    ) || { rm -rf "$work"; echo "ERROR: packing the pause image failed" >&2; exit 1; }
    mv "$out.tmp" "$out"
    rm -rf "$work"
  fi
  ln -sfn "$out" "$tools/pause-image.tar"
}

what=${1:-all}
case $what in
  kubelet) build node-tools kubelet k8s.io/kubernetes/cmd/kubelet "$k8s_ldflags" ;;
  all)
    build_pause
    build_pause_image
    build containerd containerd github.com/containerd/containerd/v2/cmd/containerd "$containerd_ldflags" no_btrfs,no_devmapper,no_zfs
    build containerd containerd-shim-runc-v2 github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 "$containerd_ldflags" no_btrfs,no_devmapper,no_zfs
    build containerd ctr github.com/containerd/containerd/v2/cmd/ctr "$containerd_ldflags" no_btrfs,no_devmapper,no_zfs
    build node-tools kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler "$k8s_ldflags"
    build node-tools kube-proxy k8s.io/kubernetes/cmd/kube-proxy "$k8s_ldflags"
    build node-tools kubelet k8s.io/kubernetes/cmd/kubelet "$k8s_ldflags"
    ;;
  *) echo "usage: $0 [all|kubelet]" >&2; exit 2 ;;
esac
