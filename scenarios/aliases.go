package scenarios

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"
)

// useSite is where an anchored value is used (*name, or <<: *name): a
// problem inside the anchored value is a problem of that use, so it is
// reported there, naming where in the anchor it is.
type useSite struct {
	at   pos
	name string
}

// aliasUse is the use site of n when n is an alias, else nil.
func aliasUse(n ast.Node) *useSite {
	for range maxAliasHops {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
			continue
		case *ast.AliasNode:
			name := ""
			if v.Value != nil && v.Value.GetToken() != nil {
				name = v.Value.GetToken().Value
			}
			return &useSite{at: nodePos(v), name: name}
		}
		return nil
	}
	return nil
}

// enter makes u the current use site unless one is already set (the
// outermost use is the one in the file's own structure); the returned
// function restores the previous state.
func (d *decoder) enter(u *useSite) func() {
	if u == nil || d.use != nil {
		return func() {}
	}
	d.use = u
	return func() { d.use = nil }
}

// here is where a node found while decoding should be said to be: its
// use site inside an alias, else its own position.
func (d *decoder) here(at pos) pos {
	if d.use != nil {
		return d.use.at
	}
	return at
}

// located moves a message about a node inside an anchored value to the
// use site, saying where in the anchor it is.
func (d *decoder) located(at pos, msg string) (pos, string) {
	if d.use == nil || d.use.at == at {
		return at, msg
	}
	return d.use.at, fmt.Sprintf("%s (in &%s, at line %d column %d)", msg, d.use.name, at.line, at.col)
}
