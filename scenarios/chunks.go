package scenarios

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// The YAML parser builds a block mapping of n keys by recursion, copying
// the rest of the mapping at every key: quadratic time and memory in n (50,000
// services took minutes and gigabytes). A file with one mapping that large
// (services:) is parsed in pieces of chunkKeys keys, each piece a run of
// whole entries of that mapping, and the pieces are joined. The tokens keep
// their positions in the file, so every position stays exact.
const (
	chunkKeys      = 256
	chunkMinTokens = 4 * chunkKeys // below this, one parse is fast
)

// parseFile parses a single-document file, in pieces when one mapping
// in it is large. The pieces after the first of that mapping come back
// unparsed (lazy) when the mapping is services:, for the decoder to parse
// one at a time, so that only one piece's tokens and tree are in memory
// at once; otherwise they are parsed and joined here.
func parseFile(data []byte) (*ast.File, *lazyPieces, error) {
	tks := lexer.Tokenize(string(data))
	if len(tks) >= chunkMinTokens {
		if body, lazy, ok, err := parseChunked(tks); ok {
			if err != nil {
				return nil, nil, err
			}
			if lazy.target != servicesOf(body) {
				if err := lazy.joinAll(); err != nil {
					return nil, nil, err
				}
				lazy = nil
			}
			return &ast.File{Docs: []*ast.DocumentNode{{Body: body}}}, lazy, nil
		}
	}
	f, err := parser.Parse(tks, 0)
	return f, nil, err
}

// lazyPieces are the unparsed runs of entries of one large block mapping
// (target), in file order.
type lazyPieces struct {
	tks    token.Tokens // the file's, with the chain cut between pieces
	target *ast.MappingNode
	pieces []piece
}

// piece is a run tks[from:to] of whole entries, from line line.
type piece struct{ from, to, line int }

// parse parses piece i alone; its tokens are dropped from the file's
// list, so that they are garbage once its tree is.
func (l *lazyPieces) parse(i int) (*ast.MappingNode, error) {
	p := l.pieces[i]
	m, err := parsePiece(l.tks[p.from:p.to])
	clear(l.tks[p.from:p.to])
	if err == nil && m == nil {
		err = fmt.Errorf("lines from %d do not continue the mapping above them", p.line)
	}
	return m, err
}

// joinAll parses every piece into the target mapping.
func (l *lazyPieces) joinAll() error {
	for i := range l.pieces {
		m, err := l.parse(i)
		if err != nil {
			return err
		}
		l.target.Values = append(l.target.Values, m.Values...)
	}
	l.pieces = nil
	return nil
}

// servicesOf is the block mapping under the top-level key services, if any.
func servicesOf(body ast.Node) *ast.MappingNode {
	top, ok := body.(*ast.MappingNode)
	if !ok {
		return nil
	}
	for _, mv := range top.Values {
		if mv != nil && mv.Key != nil && mv.Key.GetToken() != nil && mv.Key.GetToken().Value == "services" {
			return lastMapping(&ast.MappingNode{Values: []*ast.MappingValueNode{mv}})
		}
	}
	return nil
}

// keyStarts are the indexes of tokens that start a block-mapping entry:
// a key, first on its line, outside any flow collection, followed by ':'.
// ok is false for what the pieces cannot handle (documents, directives).
func keyStarts(tks token.Tokens) (starts []int, ok bool) {
	depth, prevLine := 0, 0
	for i, tk := range tks {
		switch tk.Type {
		case token.DocumentHeaderType, token.DocumentEndType, token.DirectiveType:
			return nil, false
		case token.SequenceStartType, token.MappingStartType:
			depth++
		case token.SequenceEndType, token.MappingEndType:
			depth--
		}
		if tk.Position == nil {
			return nil, false
		}
		first := tk.Position.Line > prevLine
		if tk.Type != token.CommentType {
			prevLine = tk.Position.Line
		}
		if depth == 0 && first && tk.Type != token.CommentType && i+1 < len(tks) && tks[i+1].Type == token.MappingValueType {
			starts = append(starts, i)
		}
	}
	return starts, true
}

// parseChunked parses the start and the end of tks around its largest
// top-level block mapping, and returns the pieces in between unparsed; ok
// is false when the file has no mapping worth it.
func parseChunked(tks token.Tokens) (ast.Node, *lazyPieces, bool, error) {
	starts, ok := keyStarts(tks)
	if !ok || len(starts) == 0 {
		return nil, nil, false, nil
	}
	top := tks[starts[0]].Position.Column
	// The top-level entries, and the nested keys one level in.
	var tops []int
	for _, i := range starts {
		if tks[i].Position.Column == top {
			tops = append(tops, i)
		}
	}
	tops = append(tops, len(tks))
	best, bestKids := -1, []int(nil)
	for j := 0; j+1 < len(tops); j++ {
		kids := childKeys(tks, starts, tops[j], tops[j+1])
		if len(kids) > len(bestKids) {
			best, bestKids = j, kids
		}
	}
	if len(bestKids) < 2*chunkKeys {
		return nil, nil, false, nil
	}
	var cuts []int
	for k := chunkKeys; k < len(bestKids); k += chunkKeys {
		cuts = append(cuts, bestKids[k])
	}
	end := tops[best+1]
	cuts = append(cuts, end)
	lazy := &lazyPieces{tks: tks}
	// Cut the token chain between pieces, so that no tree keeps every
	// token of the file alive.
	for c := 0; c+1 < len(cuts); c++ {
		lazy.pieces = append(lazy.pieces, piece{from: cuts[c], to: cuts[c+1], line: tks[cuts[c]].Position.Line})
		unlink(tks, cuts[c])
	}
	unlink(tks, end)
	head, err := parsePiece(tks[:cuts[0]])
	clear(tks[:cuts[0]])
	if err != nil || head == nil {
		return nil, nil, err != nil, err
	}
	if lazy.target = lastMapping(head); lazy.target == nil {
		return nil, nil, false, nil
	}
	if end < len(tks) {
		rest, err := parsePiece(tks[end:])
		clear(tks[end:])
		if err != nil || rest == nil {
			return nil, nil, err != nil, err
		}
		head.Values = append(head.Values, rest.Values...)
	}
	return head, lazy, true, nil
}

// unlink cuts the chain of tokens before tks[i].
func unlink(tks token.Tokens, i int) {
	if i > 0 && i < len(tks) {
		tks[i-1].Next, tks[i].Prev = nil, nil
	}
}

// childKeys are the entry starts in (from, to) one level in from the entry
// at from: those at the column of the first of them.
func childKeys(tks token.Tokens, starts []int, from, to int) []int {
	var out []int
	col := -1
	for _, i := range starts {
		if i <= from || i >= to {
			continue
		}
		c := tks[i].Position.Column
		if col < 0 {
			if c <= tks[from].Position.Column {
				return nil
			}
			col = c
		}
		if c == col {
			out = append(out, i)
		}
	}
	return out
}

// parsePiece parses a run of whole entries of one block mapping; nil
// (and no error) when the result is not one plain mapping.
func parsePiece(tks token.Tokens) (*ast.MappingNode, error) {
	piece := make(token.Tokens, len(tks))
	copy(piece, tks)
	f, err := parser.Parse(piece, 0)
	if err != nil {
		return nil, err
	}
	if len(f.Docs) != 1 || f.Docs[0] == nil {
		return nil, nil
	}
	m, _ := f.Docs[0].Body.(*ast.MappingNode)
	if m == nil || m.IsFlowStyle {
		return nil, nil
	}
	return m, nil
}

// lastMapping is the block mapping value of the last entry of m (the
// large one the head piece ends in), through an anchor or tag.
func lastMapping(m *ast.MappingNode) *ast.MappingNode {
	if len(m.Values) == 0 || m.Values[len(m.Values)-1] == nil {
		return nil
	}
	var n ast.Node = m.Values[len(m.Values)-1].Value
	for range maxAliasHops {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
			continue
		case *ast.TagNode:
			n = v.Value
			continue
		case *ast.MappingNode:
			if v.IsFlowStyle {
				return nil
			}
			return v
		}
		return nil
	}
	return nil
}

// decodeLazyServices parses and decodes the remaining pieces of services:
// one at a time; each piece's tree is garbage once decoded.
func (d *decoder) decodeLazyServices(s *Scenario, path string) {
	lazy := d.lazy
	d.lazy = nil
	for i := range lazy.pieces {
		m, err := lazy.parseSafely(i)
		if err != nil {
			d.syntax = syntaxError(d.file, d.data, err)
			return
		}
		d.collectAnchors(m, 0)
		for _, e := range d.entries(m, path) {
			restore := d.enter(e.use)
			d.decodeService(e, s, path)
			restore()
		}
	}
}

// parseSafely is parse, with a crash of the parser as an error (as in
// parseYAML).
func (l *lazyPieces) parseSafely(i int) (m *ast.MappingNode, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("the parser failed: %v", r)
		}
	}()
	return l.parse(i)
}
