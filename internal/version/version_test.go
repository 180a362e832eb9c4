package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	for _, tc := range []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"go install at a tag", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"go install at a commit", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201000000-0123456789ab"}}, "v0.0.0-20261201000000-0123456789ab"},
		{"checkout with VCS stamping", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"},
		}}, "(devel) 0123456789ab-dirty"},
		{"checkout without VCS stamping", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "(devel)"},
		{"no main version", debug.BuildInfo{}, "(devel)"},
	} {
		if got := fromBuildInfo(&tc.info); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestStringStamped(t *testing.T) {
	defer func(old string) { version = old }(version)
	version = "v9.8.7"
	if got := String(); got != "v9.8.7" {
		t.Fatalf("String() = %q with a stamped version", got)
	}
}
