package convert

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// typedPrefix marks a safetensors __metadata__ key that holds a typed GGUF
// value as a string.
const typedPrefix = "gguf:"

// typedNames names the metadata types a string-only container can carry
// (arrays of arrays are typedNested).
var typedNames = map[reflect.Type]string{
	reflect.TypeFor[uint8](): "u8", reflect.TypeFor[int8](): "i8",
	reflect.TypeFor[uint16](): "u16", reflect.TypeFor[int16](): "i16",
	reflect.TypeFor[uint32](): "u32", reflect.TypeFor[int32](): "i32",
	reflect.TypeFor[uint64](): "u64", reflect.TypeFor[int64](): "i64",
	reflect.TypeFor[float32](): "f32", reflect.TypeFor[float64](): "f64",
	reflect.TypeFor[bool]():    "bool",
	reflect.TypeFor[[]uint8](): "[u8]", reflect.TypeFor[[]int8](): "[i8]",
	reflect.TypeFor[[]uint16](): "[u16]", reflect.TypeFor[[]int16](): "[i16]",
	reflect.TypeFor[[]uint32](): "[u32]", reflect.TypeFor[[]int32](): "[i32]",
	reflect.TypeFor[[]uint64](): "[u64]", reflect.TypeFor[[]int64](): "[i64]",
	reflect.TypeFor[[]float32](): "[f32]", reflect.TypeFor[[]float64](): "[f64]",
	reflect.TypeFor[[]bool](): "[bool]", reflect.TypeFor[[]string](): "[str]",
}

// typedTypes is typedNames the other way round.
var typedTypes = func() map[string]reflect.Type {
	m := make(map[string]reflect.Type, len(typedNames))
	for t, n := range typedNames {
		m[n] = t
	}
	return m
}()

// encodeTyped writes a typed metadata value as "TYPE:JSON" — "u32:3",
// "f32:1e-05", `[str]:["a","b"]` — so it survives a string-only container.
// Floats that JSON cannot hold are written as strings with their bits
// ("f32:\"nan:0x7fc00000\"", "inf", "-inf"), and arrays of arrays as
// `[arr]:[...]`, a JSON array of their elements' own typed strings, so
// every value GGUF holds comes back bit for bit. ok is false only for a Go
// type no GGUF value has.
func encodeTyped(v any) (string, bool) {
	if arr, ok := v.([]any); ok {
		elems := make([]string, len(arr))
		for i, e := range arr {
			enc, ok := encodeTyped(e)
			if !ok {
				return "", false
			}
			elems[i] = enc
		}
		b, _ := json.Marshal(elems)
		return typedNested + ":" + string(b), true
	}
	name, ok := typedNames[reflect.TypeOf(v)]
	if !ok {
		return "", false
	}
	var b []byte
	var err error
	switch f := v.(type) {
	case float32:
		b, err = json.Marshal(jsonFloat{float64(f), 32})
	case float64:
		b, err = json.Marshal(jsonFloat{f, 64})
	case []float32:
		b, err = json.Marshal(jsonFloats(f, 32))
	case []float64:
		b, err = json.Marshal(jsonFloats(f, 64))
	default:
		b, err = json.Marshal(v)
	}
	if err != nil {
		return "", false
	}
	return name + ":" + string(b), true
}

// typedNested names an array of arrays (GGUF allows them; ggml reads none).
const typedNested = "[arr]"

// jsonFloat is a float of the given width as JSON: a number when finite,
// else a string naming it ("inf", "-inf", "nan:0xBITS").
type jsonFloat struct {
	v    float64
	bits int
}

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	switch {
	case math.IsInf(f.v, 1):
		return []byte(`"inf"`), nil
	case math.IsInf(f.v, -1):
		return []byte(`"-inf"`), nil
	case math.IsNaN(f.v):
		if f.bits == 32 {
			return []byte(fmt.Sprintf(`"nan:%#08x"`, math.Float32bits(float32(f.v)))), nil
		}
		return []byte(fmt.Sprintf(`"nan:%#016x"`, math.Float64bits(f.v))), nil
	}
	return []byte(strconv.FormatFloat(f.v, 'g', -1, f.bits)), nil
}

func jsonFloats[T float32 | float64](v []T, bits int) []jsonFloat {
	out := make([]jsonFloat, len(v))
	for i, x := range v {
		out[i] = jsonFloat{float64(x), bits}
	}
	return out
}

// parseJSONFloat reads one element jsonFloat wrote, at the given width.
func parseJSONFloat(raw json.RawMessage, bits int) (float64, error) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return strconv.ParseFloat(string(raw), bits)
	}
	switch {
	case s == "inf":
		return math.Inf(1), nil
	case s == "-inf":
		return math.Inf(-1), nil
	case strings.HasPrefix(s, "nan:0x"):
		u, err := strconv.ParseUint(s[len("nan:0x"):], 16, bits)
		if err != nil {
			return 0, err
		}
		if bits == 32 {
			if f := math.Float32frombits(uint32(u)); f != f {
				return float64(f), nil
			}
		} else if f := math.Float64frombits(u); f != f {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%q is not a float", s)
}

// decodeTyped reads encodeTyped's form back into the Go type it names.
func decodeTyped(s string) (any, error) {
	name, data, _ := strings.Cut(s, ":")
	bad := func(err error) (any, error) {
		return nil, fmt.Errorf("typed metadata %q: %v: %w", clip(s), err, format.ErrFormat)
	}
	switch name {
	case typedNested:
		var elems []string
		if err := json.Unmarshal([]byte(data), &elems); err != nil {
			return bad(err)
		}
		out := make([]any, len(elems))
		for i, e := range elems {
			v, err := decodeTyped(e)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case "f32", "f64", "[f32]", "[f64]":
		return decodeFloats(name, data, bad)
	}
	t, ok := typedTypes[name]
	if !ok {
		return nil, fmt.Errorf("typed metadata %q: unknown type %q: %w", clip(s), name, format.ErrFormat)
	}
	p := reflect.New(t)
	if err := json.Unmarshal([]byte(data), p.Interface()); err != nil {
		return bad(err)
	}
	return p.Elem().Interface(), nil
}

// decodeFloats reads a float scalar or array, non-finite values included.
func decodeFloats(name, data string, bad func(error) (any, error)) (any, error) {
	bits := 64
	if strings.Contains(name, "32") {
		bits = 32
	}
	var raws []json.RawMessage
	if strings.HasPrefix(name, "[") {
		if err := json.Unmarshal([]byte(data), &raws); err != nil {
			return bad(err)
		}
	} else {
		raws = []json.RawMessage{json.RawMessage(data)}
	}
	vals := make([]float64, len(raws))
	for i, r := range raws {
		v, err := parseJSONFloat(r, bits)
		if err != nil {
			return bad(err)
		}
		vals[i] = v
	}
	switch name {
	case "f32":
		return float32(vals[0]), nil
	case "f64":
		return vals[0], nil
	case "[f32]":
		out := make([]float32, len(vals))
		for i, v := range vals {
			out[i] = float32(v)
		}
		return out, nil
	}
	return vals, nil
}

// clip shortens a metadata string echoed in an error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
