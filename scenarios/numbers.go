package scenarios

import (
	"math"
	"math/big"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// The YAML parser reads some numbers as strings: an exponent without a
// sign or dot (1e3), and whole numbers beyond 64 bits. A plain (unquoted)
// scalar that spells a number is read as one here, and one that is too
// large or a percentage gets a message that says so.
var (
	wholeNumber = regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`)
	expNumber   = regexp.MustCompile(`^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$`)
	percentage  = regexp.MustCompile(`^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*%$`)
)

// plainText is the text of an unquoted string scalar.
func plainText(n ast.Node) (string, bool) {
	s, ok := n.(*ast.StringNode)
	if !ok || s.GetToken() == nil || s.GetToken().Type != token.StringType {
		return "", false
	}
	return strings.TrimSpace(s.Value), true
}

// numberLike handles a plain string where an int or float field is: it
// sets v and returns true, or reports why it cannot and returns true, or
// returns false when the text is no kind of number (the caller says so).
func (d *decoder) numberLike(n ast.Node, v reflect.Value, path, key string) bool {
	text, ok := plainText(n)
	if !ok {
		return false
	}
	isInt := v.Kind() == reflect.Int || v.Kind() == reflect.Int64
	switch {
	case percentage.MatchString(text):
		num := strings.TrimSpace(strings.TrimSuffix(text, "%"))
		f, _ := strconv.ParseFloat(num, 64)
		if isInt {
			d.fail(n, path, "%s is a percentage; write the number alone: %s: %s", text, key, num)
		} else {
			d.fail(n, path, "%s is a percentage; write it as a ratio from 0 to 1: %s: %s", text, key, strconv.FormatFloat(f/100, 'g', -1, 64))
		}
		return true
	case wholeNumber.MatchString(text):
		b, ok := new(big.Int).SetString(strings.ReplaceAll(text, "_", ""), 10)
		if !ok {
			return false
		}
		if isInt {
			d.fail(n, path, "%s is too large; %s is a whole number from %d to %d", clip(text), key, minOf(v), maxOf(v))
			return true
		}
		f, _ := new(big.Float).SetInt(b).Float64()
		v.SetFloat(f)
		return true
	case expNumber.MatchString(text):
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) {
			d.fail(n, path, "%s is too large for a number", clip(text))
			return true
		}
		if !isInt {
			v.SetFloat(f)
			return true
		}
		if f != math.Trunc(f) || math.Abs(f) >= 1<<53 || v.OverflowInt(int64(f)) {
			d.fail(n, path, "%s is not a whole number from %d to %d; write e.g. %s: 2", text, minOf(v), maxOf(v), key)
			return true
		}
		v.SetInt(int64(f))
		return true
	}
	return false
}

func maxOf(v reflect.Value) int64 {
	if v.Type().Bits() == 32 {
		return math.MaxInt32
	}
	return math.MaxInt64
}

func minOf(v reflect.Value) int64 { return -maxOf(v) - 1 }
