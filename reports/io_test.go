package reports

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFormats(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{in: "html,md", want: []string{"md", "html"}},
		{in: " JUnit , json ,junit", want: []string{"json", "junit"}},
		{in: "all", want: Formats},
		{in: "markdown,xml", want: []string{"md", "junit"}},
		{in: "html,pdf", err: `unknown report format "pdf": use a comma-separated list of json, md, junit, html (or all)`},
		{in: "", err: "no report format"},
		{in: " , ", err: "no report format"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseFormats(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	r := loadFixture(t, "sample-result")
	path := filepath.Join(t.TempDir(), "result.json")
	require.NoError(t, WriteJSON(path, r))
	back, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, r, back)

	// Writing again replaces the file and leaves no temporary file behind.
	r.Verdict = GO
	require.NoError(t, WriteJSON(path, r))
	back, err = Load(path)
	require.NoError(t, err)
	assert.Equal(t, GO, back.Verdict)
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "result.json", entries[0].Name())
}

func TestJSONStampsSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "result.json")
	require.NoError(t, WriteJSON(path, &Result{Scenario: "x", Verdict: GO}))
	r, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, SchemaVersion, r.SchemaVersion)
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	for _, tc := range []struct{ path, err string }{
		{filepath.Join(dir, "missing.json"), "read result"},
		{write("garbage.json", "{not json"), "is not a firedrill result.json"},
		{write("noschema.json", `{"scenario":"x"}`), "has no schema_version"},
		{write("future.json", `{"schema_version": 99}`), "upgrade firedrill"},
	} {
		_, err := Load(tc.path)
		require.Error(t, err, tc.path)
		assert.Contains(t, err.Error(), tc.err)
	}
}

func TestWriteAllFormats(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "run")
	files, err := Write(dir, loadFixture(t, "nogo"), Formats)
	require.NoError(t, err)
	require.Len(t, files, 4)
	for f, name := range FileNames {
		assert.Equal(t, filepath.Join(dir, name), files[f])
		b, err := os.ReadFile(files[f])
		require.NoError(t, err)
		assert.NotEmpty(t, b, f)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 4, "no temporary files left behind")
	back, err := Load(files["json"])
	require.NoError(t, err)
	assert.Equal(t, "checkout-canary", back.Scenario)
}

func TestWriteErrors(t *testing.T) {
	// A folder path that is a file: nothing can be written, and the error
	// says so.
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err := Write(file, loadFixture(t, "go"), []string{"md"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "create report folder")

	// An unknown format does not stop the known ones.
	dir := t.TempDir()
	files, err := Write(dir, loadFixture(t, "go"), []string{"md", "pdf"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown report format "pdf"`)
	assert.Equal(t, map[string]string{"md": filepath.Join(dir, "report.md")}, files)
}
