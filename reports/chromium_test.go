//go:build unix

package reports

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The HTML report opened in a real browser: headless Chromium loads it with
// logging on, so that a console error (a script error, a blocked load under
// the report's Content-Security-Policy) fails the test, dumps the DOM it
// built, and takes a screenshot that is kept as a test artifact
// ($FIREDRILL_ARTIFACTS, when set).

func chromiumBin(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is missing: install it (Debian: apt-get install -y chromium)")
	}
	t.Skip("chromium is missing: apt-get install -y chromium to run this test")
	return ""
}

// runChromium runs headless Chromium on a file and returns its stdout and
// the console messages it logged.
func runChromium(t *testing.T, bin, file string, args ...string) (stdout string, console []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-crash-reporter", "--disable-breakpad",
		"--hide-scrollbars", "--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+file)...)
	// Chromium starts helper processes: give them one process group, so that
	// a timeout or the end of the test removes them all.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	// TMPDIR too: Chromium keeps its singleton socket in a directory there
	// that it leaves behind when killed.
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "TMPDIR="+t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // leftover helpers, if any
	}
	require.NoError(t, err, "chromium failed: %s", errb.String())
	return out.String(), consoleLines(errb.String())
}

// consoleLines picks the page's console output out of Chromium's log:
// "[pid:tid:time:INFO:CONSOLE:1] "message", source: file:///... (1)".
var consoleLine = regexp.MustCompile(`(?m)^.*(?::CONSOLE[:(]|Uncaught ).*$`)

func consoleLines(log string) []string { return consoleLine.FindAllString(log, -1) }

func writeHTML(t *testing.T, r *Result) string {
	t.Helper()
	files, err := Write(t.TempDir(), r, []string{"html"})
	require.NoError(t, err)
	return files["html"]
}

func TestChromiumRendersReport(t *testing.T) {
	bin := chromiumBin(t)
	path := writeHTML(t, loadFixture(t, "sample-result"))

	png := filepath.Join(t.TempDir(), "report.png")
	_, console := runChromium(t, bin, path, "--window-size=1280,2000", "--screenshot="+png)
	assert.Empty(t, console, "console errors while loading the report")
	checkScreenshot(t, png)
	keepArtifact(t, png, "report-sample.png")

	// Every section, including the optional ones, is in the DOM Chromium built.
	full := writeHTML(t, withFindings(loadFixture(t, "sample-result")))
	dom, console := runChromium(t, bin, full, "--dump-dom")
	assert.Empty(t, console, "console errors while loading the report")
	for _, id := range []string{"verdict", "timeline", "expectations", "rollout", "analysis", "power", "recovery",
		"breakers", "faults", "traffic", "topology", "events", "run", "scenario"} {
		assert.Contains(t, dom, `id="`+id+`"`)
	}
	assert.Contains(t, dom, `<svg class="chart"`)
	assert.Contains(t, dom, `<svg class="graph"`)
}

// TestChromiumSeesConsoleErrors shows that the console check above can
// fail: a page with a script error and a blocked load is caught.
func TestChromiumSeesConsoleErrors(t *testing.T) {
	bin := chromiumBin(t)
	page := filepath.Join(t.TempDir(), "bad.html")
	require.NoError(t, os.WriteFile(page, []byte(`<!DOCTYPE html><html><head>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'">
</head><body><img src="http://127.0.0.1:9/x.png"><script>notDefined()</script></body></html>`), 0o644))
	_, console := runChromium(t, bin, page, "--dump-dom")
	joined := strings.Join(console, "\n")
	assert.Contains(t, joined, "notDefined")
	assert.Contains(t, joined, "Content Security Policy")
}

// checkScreenshot asserts the PNG is the window's size and that the NO-GO
// banner's red is in its top rows: the verdict is above the fold.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 1280, 2000), img.Bounds())
	red, other := 0, 0
	for y := 0; y < 200; y++ {
		for x := 0; x < 1280; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			// #b91c1c (185, 28, 28), the NO-GO mark, give or take antialiasing.
			if near(r>>8, 185) && near(g>>8, 28) && near(b>>8, 28) {
				red++
			} else if r>>8 < 128 {
				other++
			}
		}
	}
	assert.Greater(t, red, 2000, "the NO-GO mark is in the top 200 px")
	assert.Greater(t, other, 500, "text is drawn in the banner")
}

func near(v uint32, want int) bool { d := int(v) - want; return d > -12 && d < 12 }

// keepArtifact copies a file to $FIREDRILL_ARTIFACTS, when set, for CI to
// keep.
func keepArtifact(t *testing.T, path, name string) {
	t.Helper()
	dir := os.Getenv("FIREDRILL_ARTIFACTS")
	if dir == "" {
		return
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	dst := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(dst, b, 0o644))
	t.Logf("screenshot: %s", dst)
}
