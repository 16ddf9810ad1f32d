package testenv

import (
	"os/exec"
	"syscall"
)

// prometheusDiesWithTest makes the kernel kill cmd if the test process dies
// first (a panic or a -timeout), so no Prometheus outlives the test binary.
func prometheusDiesWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
