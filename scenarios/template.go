package scenarios

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
)

// TemplateData is what {{.Port}}, {{.Host}}, {{.Service}}, {{.Version}},
// {{.Instance}} (the instance's name, e.g. api-v1-0), {{.Index}} (its
// number within its version, 0, 1, ...), {{.Dir}} and {{.Config}} read in
// command arguments, args, env values and config.
type TemplateData struct {
	Port     int
	Host     string
	Service  string
	Version  string
	Instance string
	Index    int
	// Dir is the instance's own directory and Config the path of its
	// rendered config file ("" for a service without config:).
	Dir, Config string
}

// TemplateVars names the fields and functions a template may use, for
// messages and documentation.
const TemplateVars = `{{.Port}} {{.Host}} {{.Service}} {{.Version}} {{.Instance}} {{.Index}} {{.Dir}} {{.Config}} {{dep "name"}} {{depurl "name"}}`

// TemplateFuncs is the function set of every scenario template. dep returns
// host:port of the proxy in front of a dependency, or "" when name is not a
// dependency (the template then fails saying so). The runtime renders with
// this same set, so validation and execution agree.
func TemplateFuncs(dep func(name string) string) template.FuncMap {
	lookup := func(name string) (string, error) {
		addr := ""
		if dep != nil {
			addr = dep(name)
		}
		if addr == "" {
			return "", fmt.Errorf("%q is not a dependency; add it to depends_on", name)
		}
		return addr, nil
	}
	return template.FuncMap{
		"dep": lookup,
		"depurl": func(name string) (string, error) {
			addr, err := lookup(name)
			if err != nil {
				return "", err
			}
			return "http://" + addr, nil
		},
	}
}

// ParseTemplate parses text with the scenario function set. {{range}} is
// refused: an argument needs no loops, and a loop is the one way a short
// template can run for ever (range over a large number).
func ParseTemplate(text string) (*template.Template, error) {
	// The dep placeholder is replaced by the real one at execution time.
	t, err := template.New("").Option("missingkey=error").Funcs(TemplateFuncs(nil)).Parse(text)
	if err != nil {
		return nil, err
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil && hasRange(tt.Tree.Root) {
			return nil, errors.New("{{range}} is not allowed in scenario templates")
		}
	}
	return t, nil
}

func hasRange(n parse.Node) bool {
	switch v := n.(type) {
	case *parse.ListNode:
		if v == nil {
			return false
		}
		for _, c := range v.Nodes {
			if hasRange(c) {
				return true
			}
		}
	case *parse.RangeNode:
		return true
	case *parse.IfNode:
		return hasRange(v.List) || hasRange(v.ElseList)
	case *parse.WithNode:
		return hasRange(v.List) || hasRange(v.ElseList)
	}
	return false
}

// maxRendered bounds what one template may expand to.
const maxRendered = 1 << 20

type cappedWriter struct{ strings.Builder }

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.Len()+len(p) > maxRendered {
		return 0, fmt.Errorf("expands to more than %d bytes", maxRendered)
	}
	return w.Builder.Write(p)
}

// RenderTemplate expands one argument or env value. Text without "{{" is
// returned as is.
func RenderTemplate(text string, data TemplateData, dep func(name string) string) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	t, err := ParseTemplate(text)
	if err != nil {
		return "", fmt.Errorf("template %q does not parse: %w", text, err)
	}
	var b cappedWriter
	if err := t.Funcs(TemplateFuncs(dep)).Execute(&b, data); err != nil {
		return "", fmt.Errorf("template %q: %w", text, err)
	}
	return b.String(), nil
}
