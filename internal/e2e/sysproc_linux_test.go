package e2e

import (
	"os/exec"
	"syscall"
)

// killWithParent makes the kernel kill cmd if the test process dies first (a
// panic or a -timeout), so no Alertmanager outlives the test binary.
func killWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
