package convert

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// typedPrefix marks a safetensors __metadata__ key that holds a typed GGUF
// value as a string.
const typedPrefix = "gguf:"

// typedNames names the metadata types a string-only container can carry.
// Arrays of arrays are not among them.
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
// ok is false for types it cannot carry and for NaN or infinite floats.
func encodeTyped(v any) (string, bool) {
	name, ok := typedNames[reflect.TypeOf(v)]
	if !ok {
		return "", false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return name + ":" + string(b), true
}

// decodeTyped reads encodeTyped's form back into the Go type it names.
func decodeTyped(s string) (any, error) {
	name, data, _ := strings.Cut(s, ":")
	t, ok := typedTypes[name]
	if !ok {
		return nil, fmt.Errorf("typed metadata %q: unknown type %q: %w", s, name, format.ErrFormat)
	}
	p := reflect.New(t)
	if err := json.Unmarshal([]byte(data), p.Interface()); err != nil {
		return nil, fmt.Errorf("typed metadata %q: %v: %w", name, err, format.ErrFormat)
	}
	return p.Elem().Interface(), nil
}
