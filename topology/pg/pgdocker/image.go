package pgdocker

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/firedrill/firedrill/topology/docker"
	"github.com/firedrill/firedrill/topology/pg"
)

// ImageRepo is the repository of the images EnsureImage builds; the tag is
// <major>-<first 12 hex digits of the root filesystem's SHA-256>.
const ImageRepo = "firedrill-postgres"

// LabelImage marks the images EnsureImage builds (value "postgres").
const LabelImage = docker.LabelImage

// Paths inside the image.
const (
	entryPath = "/firedrill-pg-entry"
	homeDir   = "/var/lib/postgresql"
	dataDir   = homeDir + "/data"
	// uid and gid of the postgres user in the image (its own /etc/passwd).
	pgUID = 999
)

// rootfs is an image's root filesystem being assembled: every path once,
// written parents first (sorted).
type rootfs struct {
	entries map[string]*entry
}

type entry struct {
	hdr  tar.Header
	src  string // host file to copy (regular files)
	data []byte // generated content (regular files)
}

func newRootfs() *rootfs { return &rootfs{entries: map[string]*entry{}} }

// addHost copies path from this machine into the image, replicating every
// symbolic link on the way (Debian's /lib -> usr/lib among them) so that
// the dynamic loader and the programs find what they find here. A
// directory is copied whole.
func (r *rootfs) addHost(path string) error {
	path = filepath.Clean(path)
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%s is not absolute", path)
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	cur := "/"
	for i, part := range parts {
		next := filepath.Join(cur, part)
		fi, err := os.Lstat(next)
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(next)
			if err != nil {
				return err
			}
			if _, seen := r.entries[next]; !seen {
				r.put(next, &entry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}})
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(cur, target)
			}
			return r.addHost(filepath.Join(append([]string{target}, parts[i+1:]...)...))
		}
		if i < len(parts)-1 {
			r.hostDir(next, fi)
			cur = next
			continue
		}
		if fi.IsDir() {
			return r.addTree(next)
		}
		r.hostFile(next, fi)
	}
	return nil
}

func (r *rootfs) addTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if _, seen := r.entries[p]; seen && p != dir && d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			return r.addHost(p)
		case d.IsDir():
			r.hostDir(p, fi)
		case d.Type().IsRegular():
			r.hostFile(p, fi)
		}
		return nil
	})
}

func (r *rootfs) hostDir(p string, fi fs.FileInfo) {
	if _, seen := r.entries[p]; !seen {
		r.put(p, &entry{hdr: tar.Header{Typeflag: tar.TypeDir, Mode: int64(fi.Mode().Perm())}})
	}
}

func (r *rootfs) hostFile(p string, fi fs.FileInfo) {
	if fi.Mode().IsRegular() {
		r.put(p, &entry{hdr: tar.Header{Typeflag: tar.TypeReg, Mode: int64(fi.Mode().Perm()), Size: fi.Size()}, src: p})
	}
}

// file adds generated content at p.
func (r *rootfs) file(p string, mode int64, uid int, data string) {
	r.put(p, &entry{hdr: tar.Header{Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(data)), Uid: uid, Gid: uid}, data: []byte(data)})
}

// dir adds (or overrides) a directory.
func (r *rootfs) dir(p string, mode int64, uid int) {
	r.put(p, &entry{hdr: tar.Header{Typeflag: tar.TypeDir, Mode: mode, Uid: uid, Gid: uid}})
}

func (r *rootfs) put(p string, e *entry) {
	e.hdr.Name = strings.TrimPrefix(p, "/")
	if e.hdr.Typeflag == tar.TypeDir {
		e.hdr.Name += "/"
	}
	e.hdr.Format = tar.FormatPAX
	r.entries[p] = e
}

func (r *rootfs) paths() []string {
	out := make([]string, 0, len(r.entries))
	for p := range r.entries {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// hash identifies the content: every path, its kind, mode, owner, link
// target and bytes.
func (r *rootfs) hash() (string, error) {
	h := sha256.New()
	for _, p := range r.paths() {
		e := r.entries[p]
		fmt.Fprintf(h, "%s\x00%c\x00%o\x00%d\x00%s\x00", p, e.hdr.Typeflag, e.hdr.Mode, e.hdr.Uid, e.hdr.Linkname)
		if err := e.copyTo(h); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (e *entry) copyTo(w io.Writer) error {
	switch {
	case e.data != nil:
		_, err := w.Write(e.data)
		return err
	case e.src != "":
		f, err := os.Open(e.src)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.Copy(w, f)
		if err == nil && n != e.hdr.Size {
			err = fmt.Errorf("%s changed size while the image was built", e.src)
		}
		return err
	}
	return nil
}

// writeTar writes the root filesystem as a tar stream.
func (r *rootfs) writeTar(w io.Writer) error {
	tw := tar.NewWriter(w)
	for _, p := range r.paths() {
		e := r.entries[p]
		hdr := e.hdr
		hdr.ModTime = time.Unix(0, 0)
		if err := tw.WriteHeader(&hdr); err != nil {
			return err
		}
		if err := e.copyTo(tw); err != nil {
			return err
		}
	}
	return tw.Close()
}

// pgDirs are the installed PostgreSQL's directories (from its pg_config).
type pgDirs struct {
	bin, pkglib, share, version string
}

func findPG() (pgDirs, error) {
	bin, err := pg.FindBinDir()
	if err != nil {
		return pgDirs{}, err
	}
	out, err := exec.Command(filepath.Join(bin, "pg_config"), "--bindir", "--pkglibdir", "--sharedir", "--version").Output()
	if err != nil {
		return pgDirs{}, fmt.Errorf("ask %s/pg_config where PostgreSQL lives: %w; install postgresql-client (pg_config)", bin, err)
	}
	l := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(l) != 4 {
		return pgDirs{}, fmt.Errorf("pg_config answered %q", out)
	}
	d := pgDirs{bin: l[0], pkglib: l[1], share: l[2]}
	// "PostgreSQL 15.13 (Debian 15.13-0+deb12u1)" -> "15"
	f := strings.Fields(l[3])
	if len(f) < 2 {
		return pgDirs{}, fmt.Errorf("pg_config --version answered %q", l[3])
	}
	d.version, _, _ = strings.Cut(f[1], ".")
	return d, nil
}

// assemble collects the image's root filesystem from this machine: the
// server and client programs, the server's loadable modules (not the LLVM
// JIT: it would pull in LLVM, and PostgreSQL runs without it), its share
// directory, the shared libraries all of them load (ldd), the time zone
// database, /bin/sh for the entry script, and a postgres user.
func assemble(d pgDirs) (*rootfs, error) {
	r := newRootfs()
	var elves []string
	bins, err := os.ReadDir(d.bin)
	if err != nil {
		return nil, err
	}
	for _, b := range bins {
		elves = append(elves, filepath.Join(d.bin, b.Name()))
	}
	mods, err := filepath.Glob(filepath.Join(d.pkglib, "*.so"))
	if err != nil {
		return nil, err
	}
	for _, m := range mods {
		if !strings.HasPrefix(filepath.Base(m), "llvmjit") {
			elves = append(elves, m)
		}
	}
	shell, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		return nil, fmt.Errorf("the entry script needs /bin/sh: %w", err)
	}
	elves = append(elves, shell)
	for _, e := range elves {
		if err := r.addHost(e); err != nil {
			return nil, err
		}
	}
	deps, err := ldd(elves)
	if err != nil {
		return nil, err
	}
	libs := map[string]bool{}
	for _, l := range deps {
		libs[l] = true
	}
	for _, l := range slices.Sorted(func(yield func(string) bool) {
		for l := range libs {
			if !yield(l) {
				return
			}
		}
	}) {
		if err := r.addHost(l); err != nil {
			return nil, fmt.Errorf("library %s: %w", l, err)
		}
	}
	for _, p := range []string{"/bin/sh", d.share, "/usr/share/zoneinfo"} {
		if err := r.addHost(p); err != nil {
			return nil, err
		}
	}
	r.dir("/etc", 0o755, 0)
	r.file("/etc/passwd", 0o644, 0, fmt.Sprintf("root:x:0:0:root:/root:/bin/sh\npostgres:x:%d:%d:PostgreSQL:%s:/bin/sh\n", pgUID, pgUID, homeDir))
	r.file("/etc/group", 0o644, 0, fmt.Sprintf("root:x:0:\npostgres:x:%d:\n", pgUID))
	r.dir("/tmp", 0o1777, 0)
	r.dir("/var", 0o755, 0)
	r.dir("/var/lib", 0o755, 0)
	r.dir(homeDir, 0o700, pgUID)
	r.file(entryPath, 0o755, 0, entryScript(d.bin))
	return r, nil
}

// ldd lists the shared libraries (with the dynamic loader) that the ELF
// files load, as paths of this machine; files that are not dynamic
// executables (scripts) load none. One ldd run for all of them.
func ldd(paths []string) ([]string, error) {
	out, err := exec.Command("ldd", paths...).CombinedOutput()
	// ldd exits 1 when one of several files is not dynamic; the lines say
	// which.
	if err != nil && !bytes.Contains(out, []byte("not a dynamic executable")) {
		return nil, fmt.Errorf("ldd: %w: %s", err, bytes.TrimSpace(out))
	}
	var libs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.Contains(line, "not found") {
			return nil, fmt.Errorf("ldd: a library is missing: %s", line)
		}
		if _, after, ok := strings.Cut(line, "=> "); ok {
			line = after
		}
		// "/path/file:" heads each file's section; libraries are "/path (0x...)".
		if p, rest, _ := strings.Cut(line, " "); strings.HasPrefix(p, "/") && strings.HasPrefix(rest, "(") {
			libs = append(libs, p)
		}
	}
	return libs, sc.Err()
}

// entryScript creates the data directory on the first start (PG_VERSION
// missing: initdb for a primary, a base backup through its replication
// proxy for a replica) and then runs the server on it; a restarted
// container (after docker kill) goes straight to crash recovery.
func entryScript(bin string) string {
	return `#!/bin/sh
set -e
D=` + dataDir + `
if [ ! -f "$D/PG_VERSION" ]; then
	if [ -n "$FIREDRILL_PG_UPSTREAM" ]; then
		` + bin + `/pg_basebackup -D "$D" -h "${FIREDRILL_PG_UPSTREAM%:*}" -p "${FIREDRILL_PG_UPSTREAM##*:}" ` + strings.Join(pg.BaseBackupFlags, " ") + `
	else
		` + bin + `/initdb -D "$D" ` + strings.Join(pg.InitdbFlags, " ") + `
		printf '\n# firedrill\n%s\n' "$FIREDRILL_PG_CONF" >> "$D/postgresql.conf"
		# Clients come through the network's gateway (published port, proxies).
		printf 'host all all all trust\nhost replication all all trust\n' >> "$D/pg_hba.conf"
	fi
fi
exec ` + bin + `/postgres -D "$D" "$@"
`
}

var (
	buildMu sync.Mutex
	// built is the tag this process built or found: the installed
	// PostgreSQL does not change under a run.
	built string
)

// EnsureImage makes sure the image firedrill-postgres:<major>-<hash> of the
// PostgreSQL installed on this machine exists, importing its root
// filesystem when the tag is missing (nothing is pulled), and returns the
// tag. progress (may be nil) hears what it does.
func EnsureImage(ctx context.Context, progress func(string)) (string, error) {
	say := func(format string, args ...any) {
		if progress != nil {
			progress(fmt.Sprintf(format, args...))
		}
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if built != "" {
		return built, nil
	}
	d, err := findPG()
	if err != nil {
		return "", err
	}
	r, err := assemble(d)
	if err != nil {
		return "", fmt.Errorf("assemble the PostgreSQL image from %s: %w", d.bin, err)
	}
	sum, err := r.hash()
	if err != nil {
		return "", err
	}
	tag := ImageRepo + ":" + d.version + "-" + sum[:12]
	c, err := docker.Client(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if _, err := c.ImageInspect(ctx, tag); err == nil {
		built = tag
		say("image %s is up to date", tag)
		return tag, nil
	} else if !errdefs.IsNotFound(err) {
		return "", fmt.Errorf("look for image %s: %w", tag, err)
	}
	say("building image %s from %s (%d files)", tag, d.bin, len(r.entries))
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(r.writeTar(pw)) }()
	changes := []string{
		"USER postgres",
		`ENTRYPOINT ["` + entryPath + `"]`,
		"ENV LC_ALL=C PGTZ=UTC TZ=UTC",
		"EXPOSE 5432/tcp",
		"LABEL " + LabelImage + "=postgres",
	}
	res, err := c.ImageImport(ctx, client.ImageImportSource{Source: pr, SourceName: "-"}, tag, client.ImageImportOptions{
		Message: "firedrill: PostgreSQL " + d.version + " from " + d.bin, Changes: changes})
	if err != nil {
		_ = pr.CloseWithError(err)
		return "", fmt.Errorf("import image %s: %w", tag, err)
	}
	defer res.Close()
	if err := importErr(res); err != nil {
		return "", fmt.Errorf("import image %s: %w", tag, err)
	}
	built = tag
	return tag, nil
}

// importErr reads the daemon's JSON progress stream to its end and returns
// the error it reports, if any.
func importErr(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
	}
}
