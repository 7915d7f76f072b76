package scenarios

import "strings"

// pos is a 1-based line and column in the scenario file.
type pos struct{ line, col int }

// positions maps a path ("traffic.rate", "faults[1].edge",
// "services.checkout.depends_on[0]") to where the decoder found it, so that
// semantic errors found later on the typed Scenario point at the right node.
type positions struct {
	key map[string]pos // where the key naming the path is
	val map[string]pos // where its value starts
}

func newPositions() *positions {
	return &positions{key: map[string]pos{}, val: map[string]pos{}}
}

// lookup finds the best position for path: its value (or key, when preferKey),
// else the key of the nearest ancestor that exists in the file — a missing
// "traffic.entry" points at "traffic:". ok is false for scenarios built in code.
func (p *positions) lookup(path string, preferKey bool) (pos, bool) {
	if p == nil {
		return pos{}, false
	}
	first, second := p.val, p.key
	if preferKey {
		first, second = p.key, p.val
	}
	if at, ok := first[path]; ok {
		return at, true
	}
	if at, ok := second[path]; ok {
		return at, true
	}
	for path != "" {
		path = parentPath(path)
		if at, ok := p.key[path]; ok {
			return at, true
		}
		if at, ok := p.val[path]; ok {
			return at, true
		}
	}
	return pos{1, 1}, true
}

// parentPath drops the last ".key" or "[i]" of a path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// child joins a path and a key.
func child(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
