//go:build unix

package reports

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A NO-GO report whose observed and threshold cells hold whole sentences
// (breaker, retries) keeps its result column on screen: the red FAIL
// badges below the banner are in a 1280 px wide window.
func TestChromiumExpectationsTableWraps(t *testing.T) {
	bin := chromiumBin(t)
	sentence := strings.Repeat("the breaker on checkout -> payments opened 3 times and let 41 calls through while open; ", 4)
	r := &Result{SchemaVersion: SchemaVersion, Scenario: "wrap", Verdict: NOGO, Runtime: "local"}
	for _, kind := range []string{"breaker", "retries"} {
		r.Expectations = append(r.Expectations, Expectation{Name: kind + " on checkout -> payments", Kind: kind,
			Observed: sentence, Threshold: sentence, Detail: "detail"})
	}
	path := writeHTML(t, r)
	shot := filepath.Join(t.TempDir(), "wrap.png")
	_, console := runChromium(t, bin, path, "--window-size=1280,1400", "--screenshot="+shot)
	assert.Empty(t, console)
	keepArtifact(t, shot, "report-wrap.png")

	f, err := os.Open(shot)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	// Below the banner (which lists the failures, ~430 px) and inside its
	// right border (x 1222): only the result column's badges are red there;
	// with unwrapped sentences that column is scrolled off to the right.
	badge := 0
	for y := 500; y < img.Bounds().Dy(); y++ {
		for x := 800; x < 1200; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if near(r>>8, 185) && near(g>>8, 28) && near(b>>8, 28) {
				badge++
			}
		}
	}
	assert.Greater(t, badge, 300, "the FAIL badges of the result column are on screen")
}
