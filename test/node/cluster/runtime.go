package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

func (c *Cluster) startRuntime(ctx, _ context.Context) error {
	cfg, err := c.l.write("containerd.toml", c.l.containerdConfig())
	if err != nil {
		return err
	}
	if _, err := c.l.write("cni/10-sealkit.conflist", cniConfig()); err != nil {
		return err
	}
	ctrd, err := c.run("containerd", filepath.Join(c.l.nodeBin, "containerd"), "--config="+cfg)
	if err != nil {
		return err
	}
	// containerd, and so each shim it starts, runs in the cluster's cgroup:
	// Stop kills the shims (which outlive containerd) through it.
	if err := c.cg.join(ctrd.cmd.Process.Pid); err != nil {
		return err
	}
	if err := c.poll(ctx, time.Minute, "containerd", []*component{ctrd}, func(context.Context) error {
		if out, err := c.Ctr("version").CombinedOutput(); err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}); err != nil {
		return err
	}
	return c.ImportImage(ctx, Image{
		Name:    PauseImage,
		Package: "./test/node/images/pause",
		Path:    "/pause",
		User:    "65535:65535",
	})
}
