package convert

import (
	"math"
	"reflect"
	"testing"
)

// TestTypedNonFiniteAndNested: values JSON cannot hold (NaN with its
// payload, ±Inf, in scalars and arrays) and arrays of arrays survive the
// typed-string form bit for bit (GGUF → safetensors → GGUF dropped them).
func TestTypedNonFiniteAndNested(t *testing.T) {
	nan32 := math.Float32frombits(0x7fc00123)
	nan64 := math.Float64frombits(0xfff8000000000abc)
	for _, v := range []any{
		nan32, float32(math.Inf(1)), float32(math.Inf(-1)), float32(1e-5),
		nan64, math.Inf(-1), 0.1,
		[]float32{1, nan32, float32(math.Inf(-1))},
		[]float64{nan64, math.Inf(1), -0.5},
		[]any{[]uint8{1, 2}, []string{"a"}, []any{[]float32{nan32}}, []any{}},
	} {
		enc, ok := encodeTyped(v)
		if !ok {
			t.Errorf("encodeTyped(%#v) refused", v)
			continue
		}
		got, err := decodeTyped(enc)
		if err != nil {
			t.Errorf("decodeTyped(%q): %v", enc, err)
			continue
		}
		if !sameBits(got, v) {
			t.Errorf("%q decodes to %#v, want %#v", enc, got, v)
		}
	}
}

// sameBits compares values, floats by their bit patterns.
func sameBits(a, b any) bool {
	switch x := a.(type) {
	case float32:
		y, ok := b.(float32)
		return ok && math.Float32bits(x) == math.Float32bits(y)
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case []float32:
		return sameElems(x, b)
	case []float64:
		return sameElems(x, b)
	case []any:
		return sameElems(x, b)
	}
	return reflect.DeepEqual(a, b)
}

// sameElems reports whether b is a []T of x's length whose elements are
// sameBits as x's.
func sameElems[T any](x []T, b any) bool {
	y, ok := b.([]T)
	if !ok || len(x) != len(y) {
		return false
	}
	for i := range x {
		if !sameBits(x[i], y[i]) {
			return false
		}
	}
	return true
}
