//go:build !linux

package e2e

import "os/exec"

// killWithParent is best effort: only Linux has a parent-death signal. The test's
// cleanup kills the process in every normal ending.
func killWithParent(*exec.Cmd) {}
