package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// The decoder walks the YAML AST into the typed Scenario itself, rather than
// using yaml.Unmarshal, so that it can report every problem at once (not only
// the first) with its position, suggest the key that was meant, and record
// where each value came from for the semantic checks that follow.
type decoder struct {
	file    string
	pos     *positions
	errs    Errors
	failed  map[string]bool // paths whose value could not be decoded
	anchors map[string]ast.Node
	// merged memoizes the expanded entries of mappings used as merge
	// sources: each is expanded once, so merges of merges cannot blow up
	// (a "billion laughs" of << keys), and a mapping that merges itself is
	// caught while it is in progress (nil value).
	merged map[*ast.MappingNode][]entry
	// use is the alias being decoded through, if any (aliases.go).
	use *useSite
	// lazy are pieces of services: still to parse (chunks.go); data is
	// the file, for their syntax errors, which end decoding (syntax).
	lazy   *lazyPieces
	data   []byte
	syntax error
	// fieldsOf caches yamlFields per struct type (50,000 services are
	// 50,000 Service structs).
	fieldsOf map[reflect.Type][]field
}

func (d *decoder) fields(t reflect.Type) []field {
	if fs, ok := d.fieldsOf[t]; ok {
		return fs
	}
	fs := yamlFields(t)
	d.fieldsOf[t] = fs
	return fs
}

var (
	durationType = reflect.TypeFor[Duration]()
	scenarioType = reflect.TypeFor[Scenario]()
)

// maxAliasHops bounds alias-to-alias chains, so that a self-referencing
// file ends in an error instead of a loop.
const maxAliasHops = 16

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: newPositions(), failed: map[string]bool{}, anchors: map[string]ast.Node{},
		merged: map[*ast.MappingNode][]entry{}, fieldsOf: map[reflect.Type][]field{}}
}

// fail records a problem at node n (its value) for path.
func (d *decoder) fail(n ast.Node, path, format string, args ...any) {
	d.failed[path] = true
	d.failAt(nodePos(n), path, format, args...)
}

func (d *decoder) failAt(at pos, path, format string, args ...any) {
	msg := fmt.Sprintf(format, clipArgs(args)...)
	if path != "" {
		msg = path + ": " + msg
	}
	at, msg = d.located(at, msg)
	d.errs = append(d.errs, &Error{File: d.file, Line: at.line, Col: at.col, Msg: boundMsg(msg)})
}

// nodePos is where a node starts; for a block mapping that is its first key
// (goccy positions a mapping at its first ':').
func nodePos(n ast.Node) pos {
	for i := 0; n != nil && i < maxAliasHops; i++ {
		switch v := n.(type) {
		case *ast.MappingNode:
			if len(v.Values) > 0 && v.Values[0].Key != nil && !v.IsFlowStyle {
				n = v.Values[0].Key
				continue
			}
		case *ast.MappingValueNode:
			if v.Key != nil {
				n = v.Key
				continue
			}
		}
		break
	}
	if n == nil {
		return pos{1, 1}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return pos{1, 1}
	}
	return pos{tk.Position.Line, tk.Position.Column}
}

// collectAnchors remembers every &anchor so that *aliases can be resolved
// wherever they appear.
func (d *decoder) collectAnchors(n ast.Node, depth int) {
	if n == nil || depth > 10000 {
		return
	}
	switch v := n.(type) {
	case *ast.AnchorNode:
		if v.Name != nil && v.Name.GetToken() != nil {
			d.anchors[v.Name.GetToken().Value] = v.Value
		}
		d.collectAnchors(v.Value, depth+1)
	case *ast.TagNode:
		d.collectAnchors(v.Value, depth+1)
	case *ast.MappingNode:
		for _, mv := range v.Values {
			d.collectAnchors(mv, depth+1)
		}
	case *ast.MappingValueNode:
		d.collectAnchors(v.Key, depth+1)
		d.collectAnchors(v.Value, depth+1)
	case *ast.SequenceNode:
		for _, item := range v.Values {
			d.collectAnchors(item, depth+1)
		}
	}
}

// deref follows anchors, tags and aliases to the node that holds the value.
func (d *decoder) deref(n ast.Node, path string) (ast.Node, bool) {
	for range maxAliasHops {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			name := ""
			if v.Value != nil && v.Value.GetToken() != nil {
				name = v.Value.GetToken().Value
			}
			target, ok := d.anchors[name]
			if !ok {
				d.fail(v, path, "alias *%s refers to no anchor; define &%s on the value you want to reuse", name, name)
				return nil, false
			}
			n = target
		default:
			return n, true
		}
	}
	d.fail(n, path, "aliases nest more than %d deep; reference the anchored value directly", maxAliasHops)
	return nil, false
}

func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

// describe names what a node is, for "must be X, not Y" messages.
func describe(n ast.Node) string {
	switch v := n.(type) {
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode:
		return strconv.Quote(clip(v.Value))
	case *ast.LiteralNode:
		return "a block of text"
	case *ast.BoolNode:
		return "the boolean " + v.GetToken().Value
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "the number " + n.GetToken().Value
	}
	return "a " + n.Type().String()
}

// scalarText is the text of a scalar, as written; numbers and booleans keep
// their spelling so that "version: 2" reads as "2".
func scalarText(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true
		}
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, true
	}
	return "", false
}

// keyText is the text of a mapping key; complex keys are refused.
func (d *decoder) keyText(k ast.MapKeyNode, path string) (string, bool) {
	var n ast.Node = k
	if tag, ok := n.(*ast.TagNode); ok {
		n = tag.Value
	}
	if s, ok := scalarText(n); ok {
		return s, true
	}
	if isNull(n) {
		d.failAt(nodePos(k), path, "a key is empty; write key: value")
		return "", false
	}
	d.failAt(nodePos(k), path, "keys must be plain words, not %s", describe(n))
	return "", false
}

func isMergeKey(k ast.MapKeyNode) bool {
	if k == nil {
		return false
	}
	if _, ok := k.(*ast.MergeKeyNode); ok {
		return true
	}
	return k.IsMergeKey()
}

// entry is one key: value of a mapping, after merges (<<: *base) are expanded.
type entry struct {
	key   string
	keyAt pos
	value ast.Node
	use   *useSite // the <<: *alias it was merged through, if any
}

// entries lists a mapping's keys in file order. Keys merged with "<<" come
// first where the merge is written; keys written in the mapping itself win
// over merged ones, and earlier merges win over later ones (YAML 1.1 merge).
func (d *decoder) entries(m *ast.MappingNode, path string) []entry {
	explicit := map[string]bool{}
	for _, mv := range m.Values {
		if mv == nil || mv.Key == nil || isMergeKey(mv.Key) {
			continue
		}
		if k, ok := scalarText(mv.Key); ok {
			explicit[k] = true
		}
	}
	var out []entry
	seen := map[string]bool{}
	for _, mv := range m.Values {
		if mv == nil {
			continue
		}
		if mv.Key == nil {
			d.failAt(nodePos(mv), path, "a key is missing; write key: value")
			continue
		}
		if isMergeKey(mv.Key) {
			for _, src := range d.mergeSources(mv.Value, path) {
				for _, e := range d.mergedEntries(src.m, path) {
					if explicit[e.key] || seen[e.key] {
						continue
					}
					seen[e.key] = true
					if e.use == nil {
						e.use = src.use
					}
					out = append(out, e)
				}
			}
			continue
		}
		k, ok := d.keyText(mv.Key, path)
		if !ok {
			continue
		}
		out = append(out, entry{key: k, keyAt: nodePos(mv.Key), value: mv.Value})
	}
	return out
}

// mergedEntries is entries of a merge source, expanded once per mapping.
func (d *decoder) mergedEntries(m *ast.MappingNode, path string) []entry {
	if es, done := d.merged[m]; done {
		if es == nil {
			d.fail(m, path, "<< merges a mapping into itself; merge a different anchor")
		}
		return es
	}
	d.merged[m] = nil
	es := d.entries(m, path)
	if es == nil {
		es = []entry{}
	}
	d.merged[m] = es
	return es
}

// mergeSource is one mapping "<<:" merges, and the alias naming it.
type mergeSource struct {
	m   *ast.MappingNode
	use *useSite
}

// mergeSources is what "<<:" merges: one mapping or a list of them.
func (d *decoder) mergeSources(n ast.Node, path string) []mergeSource {
	use := aliasUse(n)
	n, ok := d.deref(n, path)
	if !ok {
		return nil
	}
	switch v := n.(type) {
	case *ast.MappingNode:
		return []mergeSource{{v, use}}
	case *ast.SequenceNode:
		var out []mergeSource
		for _, item := range v.Values {
			use := aliasUse(item)
			item, ok := d.deref(item, path)
			if m, isMap := item.(*ast.MappingNode); ok && isMap {
				out = append(out, mergeSource{m, use})
			} else if ok {
				d.fail(item, path, "<< merges mappings only; write <<: *anchor or <<: [*a, *b]")
			}
		}
		return out
	}
	if !isNull(n) {
		d.fail(n, path, "<< merges mappings only; write <<: *anchor or <<: [*a, *b]")
	}
	return nil
}

// mapping derefs n and requires a mapping; null gives (nil, true).
func (d *decoder) mapping(n ast.Node, path, what string) (*ast.MappingNode, bool) {
	n, ok := d.deref(n, path)
	if !ok {
		return nil, false
	}
	if isNull(n) {
		return nil, true
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.fail(n, path, "must be %s, not %s", what, describe(n))
		return nil, false
	}
	return m, true
}

// decodeRoot decodes the document body into s.
func (d *decoder) decodeRoot(body ast.Node, s *Scenario) {
	d.collectAnchors(body, 0)
	d.pos.val[""] = nodePos(body)
	if n, ok := d.deref(body, ""); ok && !isNull(n) {
		if _, isMap := n.(*ast.MappingNode); !isMap {
			d.fail(n, "", "this is not a scenario: the top level must be keys such as name:, services:, traffic:, not %s", describe(n))
			return
		}
	}
	m, ok := d.mapping(body, "", "a mapping of keys (name:, services:, traffic:, ...)")
	if !ok || m == nil {
		return
	}
	d.decodeStruct(m, reflect.ValueOf(s).Elem(), "")
}

// field is one key of a struct, from its yaml tag.
type field struct {
	key   string
	index int
}

// yamlFields lists a struct's keys in declaration order; Scenario's services
// (tagged "-" because they are a mapping decoded by hand) is included.
func yamlFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if t == scenarioType && f.Name == "Services" {
			key = "services"
		}
		if key == "-" || key == "" {
			continue
		}
		out = append(out, field{key: key, index: i})
	}
	return out
}

func keysOf(fields []field) []string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	return keys
}

func (d *decoder) decodeStruct(m *ast.MappingNode, v reflect.Value, path string) {
	fields := d.fields(v.Type())
	for _, e := range d.entries(m, path) {
		restore := d.enter(e.use)
		d.decodeEntry(e, fields, v, path)
		restore()
	}
}

// decodeEntry decodes one key: value of a struct.
func (d *decoder) decodeEntry(e entry, fields []field, v reflect.Value, path string) {
	p := child(path, e.key)
	idx := -1
	for _, f := range fields {
		if f.key == e.key {
			idx = f.index
			break
		}
	}
	if idx < 0 {
		d.failAt(e.keyAt, path, "unknown key %q; %s", e.key, suggest(e.key, keysOf(fields)))
		return
	}
	d.pos.key[p] = d.here(e.keyAt)
	if v.Type() == scenarioType && e.key == "services" {
		d.decodeServices(e.value, v.Addr().Interface().(*Scenario), p)
		return
	}
	d.decode(e.value, v.Field(idx), p, e.key)
}

// decodeServices reads the services mapping, keeping file order.
func (d *decoder) decodeServices(n ast.Node, s *Scenario, path string) {
	d.pos.val[path] = nodePos(n)
	m, ok := d.mapping(n, path, "a mapping of service name to its spec (gateway: {fixture: httpsvc})")
	if !ok || m == nil {
		return
	}
	for _, e := range d.entries(m, path) {
		restore := d.enter(e.use)
		d.decodeService(e, s, path)
		restore()
	}
	if d.lazy != nil && d.lazy.target == m {
		d.decodeLazyServices(s, path)
	}
}

// decodeService decodes one entry of services:.
func (d *decoder) decodeService(e entry, s *Scenario, path string) {
	p := child(path, e.key)
	if _, dup := d.pos.key[p]; dup {
		d.failAt(e.keyAt, p, "service %q is defined twice; give each service a unique name", e.key)
		return
	}
	d.pos.key[p] = d.here(e.keyAt)
	svc := &Service{Name: e.key}
	s.Services = append(s.Services, svc)
	d.decode(e.value, reflect.ValueOf(svc).Elem(), p, e.key)
}

// decode reads node n into v; key is the key that names it ("" for list items).
func (d *decoder) decode(n ast.Node, v reflect.Value, path, key string) {
	restore := d.enter(aliasUse(n))
	defer restore()
	d.pos.val[path] = d.here(nodePos(n))
	n, ok := d.deref(n, path)
	if !ok || isNull(n) {
		return
	}
	t := v.Type()
	switch {
	case t == durationType:
		d.decodeDuration(n, v, path, key)
	case t.Kind() == reflect.String:
		s, ok := scalarText(n)
		if !ok {
			d.fail(n, path, "must be a single value, not %s; write %s: value", describe(n), keyOr(key, path))
			return
		}
		v.SetString(s)
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		d.decodeInt(n, v, path, key)
	case t.Kind() == reflect.Float64:
		d.decodeFloat(n, v, path, key)
	case t.Kind() == reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.fail(n, path, "must be true or false, not %s", describe(n))
			return
		}
		v.SetBool(b.Value)
	case t.Kind() == reflect.Slice:
		d.decodeList(n, v, path, key)
	case t.Kind() == reflect.Map:
		d.decodeMap(n, v, path)
	case t.Kind() == reflect.Pointer:
		elem := reflect.New(t.Elem())
		d.decode(n, elem.Elem(), path, key)
		v.Set(elem)
	case t.Kind() == reflect.Struct:
		m, ok := n.(*ast.MappingNode)
		if !ok {
			keys := keysOf(yamlFields(t))
			d.fail(n, path, "must be a mapping with keys %s, not %s", strings.Join(keys, ", "), describe(n))
			return
		}
		d.decodeStruct(m, v, path)
	default:
		// Only reachable if types.go grows a field kind the decoder does not know.
		d.fail(n, path, "cannot be read (unsupported field type %s)", t)
	}
}

func (d *decoder) decodeDuration(n ast.Node, v reflect.Value, path, key string) {
	switch x := n.(type) {
	case *ast.StringNode:
		if x.Value == "never" && key == "restart_after" {
			v.SetInt(int64(Never))
			return
		}
		dur, err := time.ParseDuration(strings.TrimSpace(x.Value))
		if err != nil {
			hint := "write e.g. 250ms, 5s or 1m30s"
			if key == "restart_after" {
				hint += ", or never"
			}
			d.fail(n, path, "%q is not a duration; %s", x.Value, hint)
			return
		}
		v.SetInt(int64(dur))
	case *ast.IntegerNode:
		switch i := x.Value.(type) {
		case int64:
			if i == 0 {
				return
			}
		case uint64:
			if i == 0 {
				return
			}
		}
		d.fail(n, path, "%s has no unit; write e.g. %ss (units: ms, s, m, h)", x.GetToken().Value, x.GetToken().Value)
	case *ast.FloatNode:
		d.fail(n, path, "%s has no unit; write e.g. %ss (units: ms, s, m, h)", x.GetToken().Value, x.GetToken().Value)
	default:
		d.fail(n, path, "must be a duration such as 5s, not %s", describe(n))
	}
}

func (d *decoder) decodeInt(n ast.Node, v reflect.Value, path, key string) {
	x, ok := n.(*ast.IntegerNode)
	if !ok && d.numberLike(n, v, path, key) { // numbers.go: 1e3, 99999999999999999999, 5%
		return
	}
	if !ok {
		// 2.0 is a whole number too.
		if f, isFloat := n.(*ast.FloatNode); isFloat && f.Value == math.Trunc(f.Value) && math.Abs(f.Value) < 1<<53 &&
			!v.OverflowInt(int64(f.Value)) {
			v.SetInt(int64(f.Value))
			return
		}
		d.fail(n, path, "must be a whole number, not %s; write e.g. %s: 2", describe(n), key)
		return
	}
	var i int64
	switch val := x.Value.(type) {
	case int64:
		i = val
	case uint64:
		if val > math.MaxInt64 {
			d.fail(n, path, "%s is too large; %s is a whole number from %d to %d", clip(x.GetToken().Value), key, minOf(v), maxOf(v))
			return
		}
		i = int64(val)
	default:
		d.fail(n, path, "must be a whole number, not %s", describe(n))
		return
	}
	if v.OverflowInt(i) {
		d.fail(n, path, "%s is too large; %s is a whole number from %d to %d", clip(x.GetToken().Value), key, minOf(v), maxOf(v))
		return
	}
	v.SetInt(i)
}

func (d *decoder) decodeFloat(n ast.Node, v reflect.Value, path, key string) {
	switch x := n.(type) {
	case *ast.FloatNode:
		v.SetFloat(x.Value)
	case *ast.IntegerNode:
		switch val := x.Value.(type) {
		case int64:
			v.SetFloat(float64(val))
		case uint64:
			v.SetFloat(float64(val))
		}
	case *ast.InfinityNode, *ast.NanNode:
		d.fail(n, path, "must be a finite number, not %s", describe(n))
	default:
		if d.numberLike(n, v, path, key) { // numbers.go: 1e3, 5%
			return
		}
		d.fail(n, path, "must be a number, not %s; write e.g. %s: %s", describe(n), key, exampleNumber(key))
	}
}

func exampleNumber(key string) string {
	switch key {
	case "rate":
		return "100"
	case "toxicity", "max_error_rate":
		return "0.5"
	case "min":
		return "0.99"
	}
	return "1"
}

func (d *decoder) decodeList(n ast.Node, v reflect.Value, path, key string) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		if s, isScalar := scalarText(n); isScalar && v.Type().Elem().Kind() == reflect.String {
			d.fail(n, path, "must be a list, not %s; write %s: [%s]", describe(n), key, s)
		} else {
			d.fail(n, path, "must be a list (one \"- item\" per line), not %s", describe(n))
		}
		return
	}
	out := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
	for i, item := range seq.Values {
		p := fmt.Sprintf("%s[%d]", path, i)
		elem := out.Index(i)
		if elem.Kind() == reflect.Pointer {
			// Every entry of a list of specs exists, even if written empty,
			// so that later code never meets a nil and validation can say
			// what the entry lacks.
			elem.Set(reflect.New(elem.Type().Elem()))
			d.decode(item, elem.Elem(), p, "")
			continue
		}
		d.decode(item, elem, p, "")
	}
	v.Set(out)
}

func (d *decoder) decodeMap(n ast.Node, v reflect.Value, path string) {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.fail(n, path, "must be a mapping (KEY: value), not %s", describe(n))
		return
	}
	out := reflect.MakeMap(v.Type())
	for _, e := range d.entries(m, path) {
		restore := d.enter(e.use)
		p := child(path, e.key)
		d.pos.key[p] = d.here(e.keyAt)
		val := reflect.New(v.Type().Elem()).Elem()
		d.decode(e.value, val, p, e.key)
		out.SetMapIndex(reflect.ValueOf(e.key), val)
		restore()
	}
	v.Set(out)
}

// keyOr is the key to show in "write key: value" hints; list items have none.
func keyOr(key, path string) string {
	if key != "" {
		return key
	}
	return "- " + path[strings.LastIndex(path, ".")+1:]
}
