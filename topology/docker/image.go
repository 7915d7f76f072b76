package docker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// ImageRepo is the repository of the images EnsureImage builds; the tag is
// the first 12 hex digits of the binary's SHA-256.
const ImageRepo = "firedrill-local"

// ModulePath is the Go module BuildBinary builds.
const ModulePath = "github.com/firedrill/firedrill"

// buildDirPrefix names temporary build directories (with the builder's pid
// after it), so that clean can remove those of dead processes.
const buildDirPrefix = "firedrill-build-"

// MissingImageError is an `image:` service whose image is not on the daemon.
type MissingImageError struct{ Image string }

func (e *MissingImageError) Error() string {
	return "image " + e.Image + " is not present locally and cannot be pulled here: build it or `docker load` it"
}

// ImageTag is the tag of the image EnsureImage builds for binary.
func ImageTag(binary string) (string, error) {
	f, err := os.Open(binary)
	if err != nil {
		return "", fmt.Errorf("read the firedrill binary: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash the firedrill binary %s: %w", binary, err)
	}
	return ImageRepo + ":" + hex.EncodeToString(h.Sum(nil))[:12], nil
}

// CheckStatic returns nil when binary can run in a FROM scratch image on
// this machine's architecture: a Linux ELF executable with no interpreter
// (statically linked) that is not a `go test` binary.
func CheckStatic(binary string) error {
	if strings.HasSuffix(filepath.Base(binary), ".test") {
		return fmt.Errorf("%s is a test binary, not firedrill", binary)
	}
	f, err := elf.Open(binary)
	if err != nil {
		return fmt.Errorf("%s is not a Linux executable: %w", binary, err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM}[runtime.GOARCH]
	if want != 0 && f.Machine != want {
		return fmt.Errorf("%s is built for %v, not %s", binary, f.Machine, runtime.GOARCH)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (build it with CGO_ENABLED=0)", binary)
		}
	}
	return nil
}

// FindModule returns the directory of the firedrill module that contains
// dir or one of its parents.
func FindModule(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			first, _, _ := bytes.Cut(b, []byte("\n"))
			if strings.TrimSpace(strings.TrimPrefix(string(first), "module")) == ModulePath {
				return d, nil
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no %s module at or above %s", ModulePath, dir)
		}
		d = parent
	}
}

// BuildBinary builds a static firedrill binary (CGO_ENABLED=0, -trimpath so
// that its hash does not depend on where the checkout lives) from the module
// at moduleDir into a new temporary directory. The caller removes
// filepath.Dir(path) when done.
func BuildBinary(ctx context.Context, moduleDir string) (path string, err error) {
	dir, err := os.MkdirTemp("", buildDirPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return "", fmt.Errorf("create a build directory: %w", err)
	}
	path = filepath.Join(dir, "firedrill")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", path, "./cmd/firedrill")
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := cmd.CombinedOutput()
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("build a static firedrill binary in %s: %w\n%s", moduleDir, err, bytes.TrimSpace(out))
	}
	return path, nil
}

// ImageSource says where the firedrill image comes from.
type ImageSource struct {
	// Image is a ready image tag; nothing is built when it is set.
	Image string
	// Binary is the firedrill executable to package (default: the running
	// one). If it cannot run in a scratch image, a static one is built from
	// ModuleDir.
	Binary string
	// ModuleDir is the firedrill module to build from (default: found at or
	// above the working directory).
	ModuleDir string
	// Progress receives the image build's output lines (nil: none).
	Progress func(line string)
	// Status receives what FiredrillImage itself does: building a binary,
	// building or reusing the image (nil: none).
	Status func(line string)
}

// FiredrillImage returns the tag of the firedrill image, building a static
// binary and the image when needed.
func FiredrillImage(ctx context.Context, src ImageSource) (string, error) {
	if src.Image != "" {
		return src.Image, nil
	}
	say := func(format string, args ...any) {
		if src.Status != nil {
			src.Status(fmt.Sprintf(format, args...))
		}
	}
	bin := src.Binary
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("find the firedrill executable: %w; pass the binary explicitly", err)
		}
		bin = exe
	}
	if why := CheckStatic(bin); why != nil {
		mod := src.ModuleDir
		if mod == "" {
			wd, _ := os.Getwd()
			m, err := FindModule(wd)
			if err != nil {
				return "", fmt.Errorf("the firedrill image needs a static binary, but %v, and there is no source to build one (%v): "+
					"build one with `CGO_ENABLED=0 go build -o bin/firedrill ./cmd/firedrill` and run that", why, err)
			}
			mod = m
		}
		say("building a static firedrill binary (%v)", why)
		start := time.Now()
		built, err := BuildBinary(ctx, mod)
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(filepath.Dir(built))
		say("built the static binary in %s", time.Since(start).Round(time.Millisecond))
		bin = built
	}
	return EnsureImage(ctx, bin, src.Progress)
}

// EnsureImage makes sure the image firedrill-local:<hash of binary> exists
// (FROM scratch, the binary as /firedrill and its entrypoint) and returns its
// tag. It builds only when the tag is missing. binary must be static (see
// CheckStatic). progress (may be nil) receives the build's output lines.
func EnsureImage(ctx context.Context, binary string, progress func(line string)) (string, error) {
	if err := CheckStatic(binary); err != nil {
		return "", fmt.Errorf("package %s: %w", binary, err)
	}
	tag, err := ImageTag(binary)
	if err != nil {
		return "", err
	}
	c, err := Client(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if ok, err := imageExists(ctx, c, tag); err != nil {
		return "", err
	} else if ok {
		if progress != nil {
			progress("image " + tag + " is up to date")
		}
		return tag, nil
	}

	dir, err := os.MkdirTemp("", buildDirPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return "", fmt.Errorf("create a build context: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := copyFile(binary, filepath.Join(dir, "firedrill"), 0o755); err != nil {
		return "", fmt.Errorf("build context: %w", err)
	}
	dockerfile := "FROM scratch\nCOPY firedrill /firedrill\nENTRYPOINT [\"/firedrill\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", fmt.Errorf("build context: %w", err)
	}
	repo, version, _ := strings.Cut(tag, ":")
	var logw io.Writer = io.Discard
	if progress != nil {
		lw := &lineWriter{fn: progress}
		defer lw.Flush()
		logw = lw
	}
	req := testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context: dir, Repo: repo, Tag: version, KeepImage: true, BuildLogWriter: logw,
		BuildOptionsModifier: func(o *client.ImageBuildOptions) {
			o.Labels = map[string]string{LabelImage: "1"}
		},
	}}
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoDaemon, err)
	}
	defer provider.Close()
	if _, err := provider.BuildImage(ctx, &req); err != nil {
		return "", fmt.Errorf("build image %s: %w", tag, err)
	}
	return tag, nil
}

func imageExists(ctx context.Context, c *client.Client, ref string) (bool, error) {
	_, err := c.ImageInspect(ctx, ref)
	switch {
	case err == nil:
		return true, nil
	case errdefs.IsNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("look for image %s: %w", ref, err)
}

// checkImages fails with a *MissingImageError for the first image that is
// not on the daemon (nothing can be pulled).
func checkImages(ctx context.Context, c *client.Client, images []string) error {
	for _, img := range images {
		ok, err := imageExists(ctx, c, img)
		if err != nil {
			return err
		}
		if !ok {
			return &MissingImageError{Image: img}
		}
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// lineWriter calls fn for every complete, non-empty line written to it.
type lineWriter struct {
	fn  func(string)
	buf []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if l := strings.TrimSpace(string(w.buf[:i])); l != "" {
			w.fn(l)
		}
		w.buf = w.buf[i+1:]
	}
}

// Flush passes on a last unterminated line.
func (w *lineWriter) Flush() {
	if l := strings.TrimSpace(string(w.buf)); l != "" {
		w.fn(l)
	}
	w.buf = nil
}

// RemoveStaleBuildDirs removes the temporary build directories of firedrill
// processes that are gone and returns their paths.
func RemoveStaleBuildDirs() ([]string, error) {
	dirs, err := filepath.Glob(filepath.Join(os.TempDir(), buildDirPrefix+"*"))
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, d := range dirs {
		rest := strings.TrimPrefix(filepath.Base(d), buildDirPrefix)
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || processAlive(pid) {
			continue
		}
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, d)
	}
	return removed, errors.Join(errs...)
}
