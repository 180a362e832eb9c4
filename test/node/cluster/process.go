package cluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// component is one running cluster process; its output goes to LOGDIR/NAME.log.
type component struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

// start runs cmd as the component name, logging to logDir.
func start(name string, cmd *exec.Cmd, logDir string) (*component, error) {
	f, err := os.OpenFile(filepath.Join(logDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	// A test process killed outright takes its cluster with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &component{name: name, cmd: cmd, log: f, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		_ = f.Close()
		close(c.done)
	}()
	return c, nil
}

// exited tells whether the process has ended, and how.
func (c *component) exited() (bool, error) {
	select {
	case <-c.done:
		return true, c.err
	default:
		return false, nil
	}
}

// stop sends SIGTERM, and SIGKILL if the process has not ended after grace.
func (c *component) stop(grace time.Duration) error {
	if done, _ := c.exited(); done {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return nil
	case <-time.After(grace):
	}
	_ = c.cmd.Process.Kill()
	select {
	case <-c.done:
		return fmt.Errorf("%s did not stop within %s of SIGTERM; killed", c.name, grace)
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) survived SIGKILL", c.name, c.cmd.Process.Pid)
	}
}

// errExited is returned by waits that find a component dead.
var errExited = errors.New("exited")

// alive is nil while the process runs, else an error naming the component and
// its log.
func (c *component) alive() error {
	if done, err := c.exited(); done {
		status := "exit status 0"
		if err != nil {
			status = err.Error()
		}
		return fmt.Errorf("%s %w (%s); see %s", c.name, errExited, status, c.log.Name())
	}
	return nil
}
