//go:build !linux

package testenv

import "os/exec"

// prometheusDiesWithTest is best effort: only Linux has a parent-death signal.
// The test's cleanup kills the process in every normal ending.
func prometheusDiesWithTest(*exec.Cmd) {}
