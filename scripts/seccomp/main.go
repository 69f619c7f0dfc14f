// Command seccomp prints the Localhost seccomp profile that lets Chromium use its own sandbox in a pod: containerd's
// default profile for a container without capabilities (what RuntimeDefault gives), plus the four system calls the
// sandbox needs (measured: docs/adr on the cluster tier) — clone and clone3 with any flags (new user, PID and
// network namespaces), unshare and chroot. The process still runs as a non-root user with no capabilities and
// NoNewPrivs; only those calls open up. Regenerate with `go run ./scripts/seccomp > <profile>` after a containerd
// upgrade (scripts/seccomp/go.mod pins the version).
package main

import (
	"encoding/json"
	"os"

	"github.com/containerd/containerd/v2/contrib/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
)

func main() {
	spec := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{}}}
	profile := seccomp.DefaultProfile(spec)
	profile.Syscalls = append(profile.Syscalls, specs.LinuxSyscall{
		Names:  []string{"clone", "clone3", "unshare", "chroot"},
		Action: specs.ActAllow,
	})
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(profile); err != nil {
		os.Exit(1)
	}
}
