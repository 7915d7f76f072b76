package firedrill_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// There is one scenario reference, scenarios/REFERENCE.md; the README
// points at it instead of carrying a copy that drifts.
func TestReadmePointsAtTheOneReference(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), "(scenarios/REFERENCE.md)")
	ref, err := os.ReadFile("scenarios/REFERENCE.md")
	require.NoError(t, err)
	for _, l := range strings.Split(string(ref), "\n") {
		if strings.HasPrefix(l, "## ") {
			assert.NotContains(t, string(readme), "#"+l+"\n", "README.md carries a copy of REFERENCE.md's %q; link to it instead", l)
		}
	}
}

// mdLink is a Markdown link or image target that is a relative path.
var mdLink = regexp.MustCompile(`\]\(([^)#:\s]+)(#[^)]*)?\)`)

// Every relative link in the docs leads to a file that exists.
func TestDocLinksResolve(t *testing.T) {
	docs, err := filepath.Glob("docs/*.md")
	require.NoError(t, err)
	docs = append(docs, "README.md", "scenarios/REFERENCE.md")
	for _, doc := range docs {
		text, err := os.ReadFile(doc)
		require.NoError(t, err)
		for _, m := range mdLink.FindAllStringSubmatch(string(text), -1) {
			target := filepath.Join(filepath.Dir(doc), m[1])
			_, err := os.Stat(target)
			assert.NoError(t, err, "%s links to %s, which does not exist", doc, m[1])
		}
	}
}
