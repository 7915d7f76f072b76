package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRenderTemplate(t *testing.T) {
	data := TemplateData{Port: 8081, Host: "127.0.0.1", Service: "checkout", Version: "v2", Instance: "1"}
	deps := map[string]string{"payments": "127.0.0.1:9001"}
	dep := func(name string) string { return deps[name] }

	cases := []struct{ in, want string }{
		{"--port={{.Port}}", "--port=8081"},
		{"{{.Host}}:{{.Port}}", "127.0.0.1:8081"},
		{"{{.Service}}-{{.Version}}-{{.Instance}}", "checkout-v2-1"},
		{`{{dep "payments"}}`, "127.0.0.1:9001"},
		{`{{depurl "payments"}}/pay`, "http://127.0.0.1:9001/pay"},
		{"no template", "no template"},
		{"{{if eq .Version \"v2\"}}new{{else}}old{{end}}", "new"},
	}
	for _, tc := range cases {
		got, err := RenderTemplate(tc.in, data, dep)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}

	_, err := RenderTemplate(`{{dep "ledger"}}`, data, dep)
	assert.ErrorContains(t, err, `"ledger" is not a dependency; add it to depends_on`)
	_, err = RenderTemplate(`{{depurl "ledger"}}`, data, nil)
	assert.ErrorContains(t, err, `"ledger" is not a dependency`)
	_, err = RenderTemplate(`{{.Nope}}`, data, dep)
	assert.ErrorContains(t, err, "can't evaluate field Nope")
	_, err = RenderTemplate(`{{.Port`, data, dep)
	assert.ErrorContains(t, err, "does not parse")
	_, err = RenderTemplate(`{{range 1000000000}}{{end}}`, data, dep)
	assert.ErrorContains(t, err, "{{range}} is not allowed")
	_, err = RenderTemplate(`{{define "x"}}{{range 5}}{{end}}{{end}}{{template "x"}}`, data, dep)
	assert.ErrorContains(t, err, "{{range}} is not allowed", "also inside defined templates")
	_, err = RenderTemplate(`{{define "x"}}{{template "x"}}{{end}}{{template "x"}}`, data, dep)
	assert.ErrorContains(t, err, "exceeded maximum template depth", "endless recursion ends")
	big := `{{printf "%0999999d" 1}}{{printf "%0999999d" 1}}`
	_, err = RenderTemplate(big, data, dep)
	assert.ErrorContains(t, err, "expands to more than")
}

func TestTemplateFuncsNames(t *testing.T) {
	fm := TemplateFuncs(func(string) string { return "h:1" })
	assert.Len(t, fm, 2)
	for name := range fm {
		assert.Contains(t, TemplateVars, name, "TemplateVars documents every function")
	}
	for _, field := range []string{"Port", "Host", "Service", "Version", "Instance", "Index", "Dir", "Config"} {
		assert.Contains(t, TemplateVars, "{{."+field+"}}")
	}
	assert.Equal(t, 8, strings.Count(TemplateVars, "{{."))
}
