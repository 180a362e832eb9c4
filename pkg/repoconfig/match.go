package repoconfig

import (
	"path"
	"strings"
)

// Match reports whether name, a slash-separated path relative to the
// configuration file's directory, matches pattern. Each segment of pattern
// is a [path.Match] pattern; a segment that is exactly "**" matches zero or
// more whole segments, so "clusters/**/*.yaml" matches both
// "clusters/a.yaml" and "clusters/prod/shop/a.yaml". A malformed pattern
// matches nothing; [Parse] refuses one with [ValidPattern].
func Match(pattern, name string) bool {
	return matchSegments(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			// Collapse runs of ** and try every split point.
			for len(pat) > 0 && pat[0] == "**" {
				pat = pat[1:]
			}
			if len(pat) == 0 {
				return true
			}
			for i := range name {
				if matchSegments(pat, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		ok, err := path.Match(pat[0], name[0])
		if err != nil || !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// ValidPattern reports whether pattern is well formed: every segment a
// valid [path.Match] pattern, relative, without "." or ".." segments.
func ValidPattern(pattern string) bool {
	if pattern == "" || strings.HasPrefix(pattern, "/") {
		return false
	}
	for _, seg := range strings.Split(pattern, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		if _, err := path.Match(seg, ""); err != nil {
			return false
		}
	}
	return true
}
