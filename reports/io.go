package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Formats are the report formats Write knows, in the order it writes them.
var Formats = []string{"json", "md", "junit", "html"}

// FileNames maps each format to the file Write creates in the run folder.
var FileNames = map[string]string{
	"json":  "result.json",
	"md":    "report.md",
	"junit": "junit.xml",
	"html":  "report.html",
}

var formatAliases = map[string]string{"markdown": "md", "xml": "junit", "htm": "html"}

// ParseFormats turns a comma-separated list such as "html,md" (or "all")
// into known format names, in Formats order and without duplicates.
func ParseFormats(s string) ([]string, error) {
	want := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if a, ok := formatAliases[f]; ok {
			f = a
		}
		switch {
		case f == "":
			continue
		case f == "all":
			for _, k := range Formats {
				want[k] = true
			}
		case FileNames[f] != "":
			want[f] = true
		default:
			return nil, fmt.Errorf("unknown report format %q: use a comma-separated list of %s (or all)",
				f, strings.Join(Formats, ", "))
		}
	}
	var out []string
	for _, k := range Formats {
		if want[k] {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no report format in %q: use a comma-separated list of %s (or all)",
			s, strings.Join(Formats, ", "))
	}
	return out, nil
}

// Load reads a result.json.
func Load(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s is not a firedrill result.json: %w", path, err)
	}
	switch {
	case r.SchemaVersion == 0:
		return nil, fmt.Errorf("%s has no schema_version: it is not a firedrill result.json", path)
	case r.SchemaVersion > SchemaVersion:
		return nil, fmt.Errorf("%s has schema_version %d but this firedrill reads up to %d: upgrade firedrill",
			path, r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}

// JSON returns r as indented JSON, stamping the schema version if unset.
func JSON(r *Result) ([]byte, error) {
	c := *r
	if c.SchemaVersion == 0 {
		c.SchemaVersion = SchemaVersion
	}
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteJSON writes r to path as indented JSON, atomically: readers see the
// old file or the new one, never half of it (a run may be killed mid-write).
func WriteJSON(path string, r *Result) error {
	b, err := JSON(r)
	if err != nil {
		return err
	}
	return writeAtomic(path, b)
}

// Write renders r in each of formats into dir (created if needed) and
// returns the path written per format. It writes every format it can and
// returns the errors of those it could not, joined.
func Write(dir string, r *Result, formats []string) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create report folder: %w", err)
	}
	files := map[string]string{}
	var errs []error
	for _, f := range formats {
		name, ok := FileNames[f]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown report format %q: use one of %s", f, strings.Join(Formats, ", ")))
			continue
		}
		b, err := Render(r, f)
		if err == nil {
			path := filepath.Join(dir, name)
			if err = writeAtomic(path, b); err == nil {
				files[f] = path
				continue
			}
		}
		errs = append(errs, fmt.Errorf("write %s report: %w", f, err))
	}
	return files, errors.Join(errs...)
}

// Render returns r in one format.
func Render(r *Result, format string) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	switch format {
	case "json":
		return JSON(r)
	case "md":
		err = Markdown(&buf, r)
	case "junit":
		err = JUnit(&buf, r)
	case "html":
		err = HTML(&buf, r)
	default:
		return nil, fmt.Errorf("unknown report format %q: use one of %s", format, strings.Join(Formats, ", "))
	}
	return buf.Bytes(), err
}

func writeAtomic(path string, b []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
