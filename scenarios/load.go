package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Load reads, decodes, defaults and validates a scenario file. Every problem
// comes back at once as *Errors, each "file:line:col: message" (IsInvalid
// is true, also when the file cannot be read).
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, single(path, 0, 0, err, "cannot read the scenario: %v; check the path", err)
	}
	return Parse(path, data)
}

// LoadFor is Load for a run on the given runtime ("" keeps the file's own):
// `--runtime docker` must validate the file as a docker scenario.
func LoadFor(path, runtime string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, single(path, 0, 0, err, "cannot read the scenario: %v; check the path", err)
	}
	return parseFor(path, data, runtime)
}

// Parse is Load for bytes already read; file names them in errors.
func Parse(file string, data []byte) (*Scenario, error) { return parseFor(file, data, "") }

func parseFor(file string, data []byte, runtime string) (*Scenario, error) {
	data, err := normalizeText(file, data) // text.go: BOM, CRLF, UTF-16
	if err != nil {
		return nil, err
	}
	body, lazy, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	d := newDecoder(file)
	d.lazy, d.data = lazy, data
	s := &Scenario{File: file}
	d.decodeRoot(body, s)
	if d.syntax != nil { // in a piece parsed while decoding (chunks.go)
		return nil, d.syntax
	}
	s.src = &source{pos: d.pos, failed: d.failed}
	if runtime != "" {
		s.Runtime = runtime
	}
	zeros := s.explicitZeros(d.pos) // zeros.go: start_at: 0 means at once
	s.ApplyDefaults()
	s.keepZeros(zeros, d.pos)
	errs := append(d.errs, s.validate()...)
	if err := errs.bounded(); err != nil {
		return nil, err
	}
	return s, nil
}

// parseYAML returns the body of the file's single document.
func parseYAML(file string, data []byte) (body ast.Node, lazy *lazyPieces, err error) {
	defer func() {
		// The YAML parser is third-party code fed arbitrary input; a crash
		// in it must still end as an invalid-scenario error.
		if r := recover(); r != nil {
			body, lazy, err = nil, nil, single(file, 1, 1, nil, "this is not YAML that can be read (the parser failed: %v)", r)
		}
	}()
	if at, ok := binaryAt(data); ok {
		return nil, nil, single(file, at.line, at.col, nil, "this is not a text file (it has a NUL byte or invalid UTF-8 here); a scenario is YAML text")
	}
	f, lazy, perr := parseFile(data) // chunks.go
	if perr != nil {
		return nil, nil, syntaxError(file, data, perr)
	}
	var docs []*ast.DocumentNode
	for _, doc := range f.Docs {
		if doc != nil && doc.Body != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		return nil, nil, single(file, 1, 1, nil, "the file is empty; a scenario needs at least name:, services: and traffic:")
	}
	if len(docs) > 1 {
		at := nodePos(docs[1].Body)
		if docs[1].Start != nil && docs[1].Start.Position != nil {
			at = pos{docs[1].Start.Position.Line, docs[1].Start.Position.Column}
		}
		return nil, nil, single(file, at.line, at.col, nil, "a second YAML document starts here; put one scenario per file")
	}
	return docs[0].Body, lazy, nil
}

// syntaxError turns a goccy error into a positioned one, without goccy's
// source excerpt (the message already says file:line:col).
func syntaxError(file string, data []byte, err error) error {
	if at, open, ok := unclosedFlow(data); ok {
		return single(file, at.line, at.col, err, "this %s is never closed; end the list or mapping with %s (on this line, or before the next key)", open, closerOf(open))
	}
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil || ye.GetToken().Position == nil {
		return single(file, 1, 1, err, "this is not valid YAML: %v", err)
	}
	p := ye.GetToken().Position
	msg := strings.TrimSpace(ye.GetMessage())
	if m := duplicateKey.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("%s is already defined on line %s; a key may appear once per mapping (two services cannot share a name); rename or remove this one", m[1], m[2])
	} else {
		msg = "this is not valid YAML: " + msg + missingSpace(lineAt(data, p.Line))
	}
	return single(file, p.Line, p.Column, err, "%s", msg)
}

// duplicateKey is goccy's wording for a key written twice (a syntax error).
var duplicateKey = regexp.MustCompile(`^mapping key (".*") already defined at \[(\d+):\d+\]$`)

// binaryAt finds the first NUL byte or invalid UTF-8 sequence, which no
// scenario has (an image, an archive or a UTF-16 file passed by mistake).
func binaryAt(data []byte) (pos, bool) {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			return pos{line, col}, true
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return pos{}, false
}

// lineAt is line n (1-based) of data, "" past its end.
func lineAt(data []byte, n int) string {
	for i := 1; i < n; i++ {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			return ""
		}
		data = data[nl+1:]
	}
	if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
		data = data[:nl]
	}
	return string(data)
}
