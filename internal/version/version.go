// Package version tells which version of sealkit a binary is. seal and
// seal-controller both report it, so a release's CLI and controller always
// agree.
//
// A release build stamps it with the linker:
//
//	go build -ldflags "-X github.com/sealkit/sealkit/internal/version.version=v1.2.3"
//
// (hack/version.sh derives the value from the git tag; make build, make image
// and make release pass it). A binary built without it, by go install for
// example, reports its module version and VCS revision from the build info.
package version

import (
	"runtime/debug"
)

// version is set by the linker; see the package documentation.
var version string

// String returns the version of the running binary: the stamped one, else the
// module version from the build info ("v1.2.3" for go install …@v1.2.3,
// "(devel) 0123456789ab-dirty" for a build in a checkout), else "(unknown)".
func String() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return fromBuildInfo(info)
}

func fromBuildInfo(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	if v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return v + " " + rev + dirty
}
