package chat

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ardanlabs/jinja"
)

// tojsonFilter is the name under which lorakit's tojson is handed to the
// engine. github.com/ardanlabs/jinja v1.8.0 looks built-in filters up before
// the template's variables and its own tojson(indent=N) sorts keys and
// escapes '<', '>', '&' (Go's json.MarshalIndent), which changes Llama 3.x's
// tool prompts; so templates are compiled with their "| tojson" filters
// renamed to this variable (see renameFilter), and tojson is implemented here
// once for every form.
const tojsonFilter = "__lorakit_tojson"

// tojson is transformers' tojson filter: json.dumps(x, ensure_ascii=False,
// indent=indent, separators=separators, sort_keys=sort_keys). Keys keep their
// insertion order; with an indent, items are separated by "," and newlines.
func tojson(args []jinja.Value, kwargs map[string]jinja.Value) (jinja.Value, error) {
	if len(args) == 0 {
		return jinja.Undefined(), fmt.Errorf("tojson: no value")
	}
	o := jsonOpts{item: ", ", key: ": "}
	if v, ok := kwarg(args, kwargs, "indent", 1); ok && !v.IsNone() {
		switch {
		case v.IsInt():
			o.indent, o.pretty = strings.Repeat(" ", int(max(0, min(v.AsInt(), 64)))), true
		case v.IsString():
			o.indent, o.pretty = v.AsString(), true
		default:
			return jinja.Undefined(), fmt.Errorf("tojson: indent must be an integer or a string")
		}
		o.item = ","
	}
	if v, ok := kwargs["separators"]; ok && !v.IsNone() {
		if !v.IsList() || v.AsList().Len() != 2 || !v.AsList().Get(0).IsString() || !v.AsList().Get(1).IsString() {
			return jinja.Undefined(), fmt.Errorf("tojson: separators must be two strings")
		}
		o.item, o.key = v.AsList().Get(0).AsString(), v.AsList().Get(1).AsString()
	}
	if v, ok := kwargs["sort_keys"]; ok {
		o.sortKeys = v.IsTruthy()
	}
	if v, ok := kwargs["ensure_ascii"]; ok {
		o.ascii = v.IsTruthy()
	}
	var sb strings.Builder
	if err := o.encode(&sb, args[0], 0); err != nil {
		return jinja.Undefined(), err
	}
	return jinja.NewString(sb.String()), nil
}

// kwarg returns a keyword argument, or the positional one at index pos.
func kwarg(args []jinja.Value, kwargs map[string]jinja.Value, name string, pos int) (jinja.Value, bool) {
	if v, ok := kwargs[name]; ok {
		return v, true
	}
	if pos < len(args) {
		return args[pos], true
	}
	return jinja.Undefined(), false
}

type jsonOpts struct {
	item, key string // separators
	indent    string
	pretty    bool
	sortKeys  bool
	ascii     bool
}

func (o *jsonOpts) newline(sb *strings.Builder, depth int) {
	if o.pretty {
		sb.WriteByte('\n')
		for range depth {
			sb.WriteString(o.indent)
		}
	}
}

func (o *jsonOpts) encode(sb *strings.Builder, v jinja.Value, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("tojson: value nested deeper than %d", maxJSONDepth)
	}
	switch {
	case v.IsNone(), v.IsUndefined():
		sb.WriteString("null")
	case v.IsBool():
		sb.WriteString(strconv.FormatBool(v.AsBool()))
	case v.IsInt():
		sb.WriteString(strconv.FormatInt(v.AsInt(), 10))
	case v.IsFloat():
		return pyFloat(sb, v.AsFloat())
	case v.IsString():
		o.quote(sb, v.AsString())
	case v.IsList():
		items := v.AsList().Items
		sb.WriteByte('[')
		for i, it := range items {
			if i > 0 {
				sb.WriteString(o.item)
			}
			o.newline(sb, depth+1)
			if err := o.encode(sb, it, depth+1); err != nil {
				return err
			}
		}
		if len(items) > 0 {
			o.newline(sb, depth)
		}
		sb.WriteByte(']')
	case v.IsDict():
		d := v.AsDict()
		keys := d.OrderedKeys()
		if o.sortKeys {
			sort.Strings(keys)
		}
		sb.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				sb.WriteString(o.item)
			}
			o.newline(sb, depth+1)
			o.quote(sb, k)
			sb.WriteString(o.key)
			val, _ := d.Get(k)
			if err := o.encode(sb, val, depth+1); err != nil {
				return err
			}
		}
		if len(keys) > 0 {
			o.newline(sb, depth)
		}
		sb.WriteByte('}')
	default:
		return fmt.Errorf("tojson: a %s is not JSON serializable", v.String())
	}
	return nil
}

// quote writes s as Python's json.dumps does: '"', '\\' and control
// characters escaped, everything else as is (or \uXXXX with ensure_ascii).
func (o *jsonOpts) quote(sb *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	sb.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		case '\b':
			sb.WriteString(`\b`)
		case '\f':
			sb.WriteString(`\f`)
		default:
			switch {
			case r < 0x20 || (o.ascii && r > 0x7e):
				for _, u := range utf16Units(r) {
					sb.WriteString(`\u`)
					sb.WriteByte(hex[u>>12&0xf])
					sb.WriteByte(hex[u>>8&0xf])
					sb.WriteByte(hex[u>>4&0xf])
					sb.WriteByte(hex[u&0xf])
				}
			default:
				sb.WriteRune(r)
			}
		}
	}
	sb.WriteByte('"')
}

func utf16Units(r rune) []uint16 {
	if r == utf8.RuneError || r < 0x10000 {
		return []uint16{uint16(r)}
	}
	r -= 0x10000
	return []uint16{uint16(0xd800 + r>>10), uint16(0xdc00 + r&0x3ff)}
}

// pyFloat writes f as Python's float repr: the shortest digits that read
// back, positional between 1e-4 and 1e16 (always with a fraction digit),
// scientific otherwise ("1e+16", "1.5e-05").
func pyFloat(sb *strings.Builder, f float64) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		// json.dumps writes these as bare words, which are not JSON.
		switch {
		case math.IsNaN(f):
			sb.WriteString("NaN")
		case f > 0:
			sb.WriteString("Infinity")
		default:
			sb.WriteString("-Infinity")
		}
		return nil
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // like 1.5e-05, 1e+16
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if f != 0 && (exp < -4 || exp >= 16) {
		sb.WriteString(e)
		return nil
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	sb.WriteString(s)
	return nil
}

// renameFilter returns src with every use of the filter from ("| from" and
// "|from(...)") inside {{ }} and {% %} tags renamed to to. Text outside tags,
// comments, {% raw %} blocks and string literals inside tags are left alone.
func renameFilter(src, from, to string) string {
	var out strings.Builder
	i := 0
	for i < len(src) {
		j := strings.IndexByte(src[i:], '{')
		if j < 0 || i+j+1 >= len(src) {
			out.WriteString(src[i:])
			break
		}
		j += i
		out.WriteString(src[i:j])
		switch src[j+1] {
		case '#':
			end := strings.Index(src[j:], "#}")
			if end < 0 {
				out.WriteString(src[j:])
				return out.String()
			}
			out.WriteString(src[j : j+end+2])
			i = j + end + 2
		case '{', '%':
			closer := "}}"
			if src[j+1] == '%' {
				closer = "%}"
			}
			end := tagEnd(src, j+2, closer)
			tag := src[j:end]
			if src[j+1] == '%' && isRawTag(tag) {
				stop := rawEnd(src, end)
				out.WriteString(src[j:stop])
				i = stop
				continue
			}
			out.WriteString(renameInTag(tag, from, to))
			i = end
		default:
			out.WriteByte('{')
			i = j + 1
		}
	}
	return out.String()
}

// tagEnd returns the offset just past the closer of the tag whose body
// starts at i, skipping string literals; len(src) when unclosed.
func tagEnd(src string, i int, closer string) int {
	for i < len(src) {
		switch c := src[i]; {
		case c == '\'' || c == '"':
			i = stringEnd(src, i)
		case strings.HasPrefix(src[i:], closer):
			return i + len(closer)
		default:
			i++
		}
	}
	return len(src)
}

// stringEnd returns the offset just past the string literal opening at i.
func stringEnd(src string, i int) int {
	q := src[i]
	for i++; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case q:
			return i + 1
		}
	}
	return len(src)
}

func isRawTag(tag string) bool {
	return len(tag) >= 4 && strings.HasSuffix(tag, "%}") && tagBody(tag) == "raw"
}

// tagBody is the statement of a complete {% ... %} tag, trimmed.
func tagBody(tag string) string {
	return strings.Trim(tag[2:len(tag)-2], "-+ \t\r\n")
}

// rawEnd returns the offset just past the {% endraw %} after i.
func rawEnd(src string, i int) int {
	for {
		k := strings.Index(src[i:], "{%")
		if k < 0 {
			return len(src)
		}
		k += i
		end := tagEnd(src, k+2, "%}")
		if tag := src[k:end]; !strings.HasSuffix(tag, "%}") || len(tag) < 4 || tagBody(tag) == "endraw" {
			return end
		}
		i = end
	}
}

// renameInTag renames the filter in one tag (delimiters included).
func renameInTag(tag, from, to string) string {
	var out strings.Builder
	for i := 0; i < len(tag); {
		c := tag[i]
		if c == '\'' || c == '"' {
			e := stringEnd(tag, i)
			out.WriteString(tag[i:e])
			i = e
			continue
		}
		out.WriteByte(c)
		i++
		if c != '|' {
			continue
		}
		k := i
		for k < len(tag) && (tag[k] == ' ' || tag[k] == '\t' || tag[k] == '\n' || tag[k] == '\r') {
			k++
		}
		if strings.HasPrefix(tag[k:], from) && (k+len(from) == len(tag) || !isIdent(tag[k+len(from)])) {
			out.WriteString(tag[i:k])
			out.WriteString(to)
			i = k + len(from)
		}
	}
	return out.String()
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
