// Command release builds sealkit's release artifacts into dist/ with
// internal/release; make image and make release run it.
//
//	go run ./hack/release image   [-dist DIR] [-platforms linux/amd64,linux/arm64]
//	go run ./hack/release release [-dist DIR]
//
// The version comes from hack/version.sh (VERSION overrides it) and the
// timestamps from the commit (SOURCE_DATE_EPOCH overrides them).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/sealkit/sealkit/internal/release"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "release: error: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || (args[0] != "image" && args[0] != "release") {
		return fmt.Errorf("usage: release image|release [-dist DIR] [-platforms OS/ARCH,...]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	dist := fs.String("dist", "dist", "output directory")
	platforms := fs.String("platforms", "", "image platforms (default linux/amd64,linux/arm64)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	meta, err := release.MetaFromRepo(root, os.Getenv)
	if err != nil {
		return err
	}
	o := release.Options{Root: root, Dist: filepath.Join(root, *dist), Meta: meta, Log: os.Stderr, ImagePlatforms: release.ImagePlatforms}
	if *platforms != "" {
		if o.ImagePlatforms, err = release.ParsePlatforms(*platforms); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	fmt.Fprintf(os.Stderr, "release: version %s, revision %s, created %s\n", meta.Version, meta.Revision, meta.Created.Format(time.RFC3339))

	if args[0] == "image" {
		out, err := release.BuildImage(ctx, o)
		if err != nil {
			return err
		}
		fmt.Printf("image %s\nOCI layout %s\nOCI archive %s\n", out.Ref, rel(root, out.Layout), rel(root, out.OCIArchive))
		for _, p := range o.ImagePlatforms {
			fmt.Printf("docker archive (%s) %s\n", p, rel(root, out.DockerArchives[p]))
		}
		fmt.Fprintf(os.Stderr, "release: image done in %.0fs\n", time.Since(start).Seconds())
		return nil
	}
	arts, err := release.BuildRelease(ctx, o)
	if err != nil {
		return err
	}
	for _, a := range arts {
		fmt.Printf("%-56s %10d  sha256:%s\n", a.Name, a.Size, a.SHA256)
	}
	fmt.Fprintf(os.Stderr, "release: %d files in %s, done in %.0fs\n", len(arts), rel(root, o.Dist), time.Since(start).Seconds())
	return nil
}

func rel(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return r
	}
	return p
}
