package scenarios

import (
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
// in it is large.
func parseFile(data []byte) (*ast.File, error) {
	tks := lexer.Tokenize(string(data))
	if len(tks) >= chunkMinTokens {
		if body, ok, err := parseChunked(tks); ok {
			if err != nil {
				return nil, err
			}
			return &ast.File{Docs: []*ast.DocumentNode{{Body: body}}}, nil
		}
	}
	return parser.Parse(tks, 0)
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

// parseChunked parses tks in pieces around its largest top-level block
// mapping; ok is false when the file has no such mapping worth it.
func parseChunked(tks token.Tokens) (ast.Node, bool, error) {
	starts, ok := keyStarts(tks)
	if !ok || len(starts) == 0 {
		return nil, false, nil
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
		return nil, false, nil
	}
	// Pieces: [start .. first chunkKeys children), each next chunkKeys
	// children, then [end of that entry .. end of file).
	var cuts []int
	for k := chunkKeys; k < len(bestKids); k += chunkKeys {
		cuts = append(cuts, bestKids[k])
	}
	end := tops[best+1]
	head, err := parsePiece(tks[:cuts[0]])
	if err != nil || head == nil {
		return nil, err != nil, err
	}
	inner := lastMapping(head)
	if inner == nil {
		return nil, false, nil
	}
	cuts = append(cuts, end)
	for c := 0; c+1 < len(cuts); c++ {
		m, err := parsePiece(tks[cuts[c]:cuts[c+1]])
		if err != nil || m == nil {
			return nil, err != nil, err
		}
		inner.Values = append(inner.Values, m.Values...)
	}
	if end < len(tks) {
		rest, err := parsePiece(tks[end:])
		if err != nil || rest == nil {
			return nil, err != nil, err
		}
		head.Values = append(head.Values, rest.Values...)
	}
	return head, true, nil
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
