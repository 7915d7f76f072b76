package scenarios

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"
)

// utf8BOM is the byte-order mark some Windows editors put at the start of
// a UTF-8 file; it is not part of the text.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// normalizeText makes the bytes of a scenario what the YAML parser counts
// positions in: without a UTF-8 BOM, with "\n" line ends (the parser
// counts a "\r\n" after a comment as two lines). It refuses UTF-16 and
// UTF-32, which the parser cannot read, with what to do about it.
func normalizeText(file string, data []byte) ([]byte, error) {
	if enc := wideEncoding(data); enc != "" {
		return nil, single(file, 1, 1, nil, "this file is %s; firedrill reads UTF-8 only: save it as UTF-8 (in most editors: Save with Encoding > UTF-8)", enc)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if bytes.IndexByte(data, '\r') < 0 {
		return data, nil
	}
	// YAML treats "\r\n" and a lone "\r" as one line break each.
	out := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(out, []byte("\r"), []byte("\n")), nil
}

// wideEncoding names the UTF-16 or UTF-32 encoding of data, by its BOM or,
// without one, by the zero bytes ASCII text has in those encodings.
func wideEncoding(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0, 0, 0xFE, 0xFF}):
		return "UTF-32 (big endian)"
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE, 0, 0}):
		return "UTF-32 (little endian)"
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return "UTF-16 (big endian)"
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return "UTF-16 (little endian)"
	}
	if len(data) >= 4 {
		switch {
		case data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] != 0:
			return "UTF-32 (big endian)"
		case data[0] != 0 && data[1] == 0 && data[2] == 0 && data[3] == 0:
			return "UTF-32 (little endian)"
		}
	}
	if len(data) >= 2 {
		switch {
		case data[0] == 0 && data[1] != 0:
			return "UTF-16 (big endian)"
		case data[0] != 0 && data[1] == 0:
			return "UTF-16 (little endian)"
		}
	}
	return ""
}

// unclosedFlow finds a [ or { that is never closed, which the parser
// reports only where it gave up (often lines later). ok is false when
// every bracket is closed.
func unclosedFlow(data []byte) (at pos, open string, ok bool) {
	var stack []*token.Token
	for _, tk := range lexer.Tokenize(string(data)) {
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			stack = append(stack, tk)
		case token.SequenceEndType, token.MappingEndType:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if len(stack) == 0 || stack[0].Position == nil {
		return pos{}, "", false
	}
	// The outermost unclosed one: inner ones are unclosed because of it.
	tk := stack[0]
	return pos{tk.Position.Line, tk.Position.Column}, tk.Value, true
}

// closerOf is the bracket that ends a flow collection.
func closerOf(open string) string {
	if open == "{" {
		return "}"
	}
	return "]"
}

// missingSpace says, for a line such as "rate:10", that YAML needs a space
// after the colon; "" when the line is not like that.
func missingSpace(line string) string {
	t := strings.TrimSpace(line)
	t = strings.TrimPrefix(t, "- ")
	k, v, ok := strings.Cut(t, ":")
	if !ok || k == "" || v == "" || v[0] == ' ' || v[0] == '/' || strings.ContainsAny(k, " \t\"'{[#") {
		return ""
	}
	return fmt.Sprintf("; put a space after the colon: %s: %s (YAML reads %q as one word)", k, v, clip(t))
}
