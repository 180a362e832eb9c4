package ociimage

import (
	"fmt"
	"io/fs"
)

// NonRootUID and NonRootGID are the user and group a [NonRootBase] image runs
// as, the "nonroot" user of distroless images: Pod specs written for those
// (runAsUser: 65532) fit ours.
const (
	NonRootUID  = 65532
	NonRootGID  = 65532
	NonRootUser = "65532:65532"
)

// NonRootBase is the smallest base layer a static binary needs to run as a
// non-root user and behave: /etc/passwd and /etc/group naming root and
// nonroot (libraries that look the user up find one), /etc/nsswitch.conf,
// a home directory for nonroot and a sticky, world-writable /tmp. There is no
// shell and no package manager; nothing in it can be executed.
func NonRootBase() Layer {
	return Layer{
		Comment: "sealkit ociimage: non-root base (passwd, group, /tmp, /home/nonroot)",
		Files: []File{
			{Path: "/etc", Mode: fs.ModeDir | 0o755},
			{Path: "/etc/passwd", Mode: 0o644, Data: fmt.Appendf(nil,
				"root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n",
				NonRootUID, NonRootGID)},
			{Path: "/etc/group", Mode: 0o644, Data: fmt.Appendf(nil,
				"root:x:0:\nnobody:x:65534:\nnonroot:x:%d:\n", NonRootGID)},
			// Go's resolver reads it to order files and DNS lookups.
			{Path: "/etc/nsswitch.conf", Mode: 0o644, Data: []byte("hosts: files dns\n")},
			{Path: "/home", Mode: fs.ModeDir | 0o755},
			{Path: "/home/nonroot", Mode: fs.ModeDir | 0o700, UID: NonRootUID, GID: NonRootGID},
			{Path: "/root", Mode: fs.ModeDir | 0o700},
			{Path: "/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
		},
	}
}
