package gguf

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
)

// typeOf returns the GGUF value type that a Go value is written as, and
// for arrays the element type; ok is false for Go types GGUF has no type for.
func typeOf(v any) (t, elem valueType, ok bool) {
	switch v.(type) {
	case uint8:
		return typeUint8, 0, true
	case int8:
		return typeInt8, 0, true
	case uint16:
		return typeUint16, 0, true
	case int16:
		return typeInt16, 0, true
	case uint32:
		return typeUint32, 0, true
	case int32:
		return typeInt32, 0, true
	case float32:
		return typeFloat32, 0, true
	case bool:
		return typeBool, 0, true
	case string:
		return typeString, 0, true
	case uint64:
		return typeUint64, 0, true
	case int64:
		return typeInt64, 0, true
	case float64:
		return typeFloat64, 0, true
	case []uint8:
		return typeArray, typeUint8, true
	case []int8:
		return typeArray, typeInt8, true
	case []uint16:
		return typeArray, typeUint16, true
	case []int16:
		return typeArray, typeInt16, true
	case []uint32:
		return typeArray, typeUint32, true
	case []int32:
		return typeArray, typeInt32, true
	case []float32:
		return typeArray, typeFloat32, true
	case []bool:
		return typeArray, typeBool, true
	case []string:
		return typeArray, typeString, true
	case []uint64:
		return typeArray, typeUint64, true
	case []int64:
		return typeArray, typeInt64, true
	case []float64:
		return typeArray, typeFloat64, true
	case []any:
		return typeArray, typeArray, true
	}
	return 0, 0, false
}

// typeName names the GGUF type of v for messages ("UINT32", "[STRING]",
// or the Go type when GGUF has none).
func typeName(v any) string {
	t, elem, ok := typeOf(v)
	switch {
	case !ok:
		return fmt.Sprintf("Go %T", v)
	case t == typeArray:
		return "[" + elem.String() + "]"
	}
	return t.String()
}

// encoder appends little-endian GGUF primitives to a buffer.
type encoder struct{ buf []byte }

func (e *encoder) u8(v uint8)   { e.buf = append(e.buf, v) }
func (e *encoder) u16(v uint16) { e.buf = binary.LittleEndian.AppendUint16(e.buf, v) }
func (e *encoder) u32(v uint32) { e.buf = binary.LittleEndian.AppendUint32(e.buf, v) }
func (e *encoder) u64(v uint64) { e.buf = binary.LittleEndian.AppendUint64(e.buf, v) }

func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// value appends v's type id and encoding; it fails for Go types GGUF
// cannot hold.
func (e *encoder) value(v any, depth int) error {
	t, _, ok := typeOf(v)
	if !ok {
		return fmt.Errorf("value of Go type %T has no GGUF type (use uint8..uint64, int8..int64, float32, float64, bool, string, a slice of one of these, or []any of slices): %w", v, format.ErrUnsupported)
	}
	e.u32(uint32(t))
	return e.payload(v, depth)
}

// payload appends v's encoding without its type id.
func (e *encoder) payload(v any, depth int) error {
	switch x := v.(type) {
	case uint8:
		e.u8(x)
	case int8:
		e.u8(uint8(x))
	case uint16:
		e.u16(x)
	case int16:
		e.u16(uint16(x))
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case float32:
		e.u32(math.Float32bits(x))
	case bool:
		if x {
			e.u8(1)
		} else {
			e.u8(0)
		}
	case string:
		e.str(x)
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float64:
		e.u64(math.Float64bits(x))
	case []uint8:
		appendArray(e, typeUint8, x, e.u8)
	case []int8:
		appendArray(e, typeInt8, x, func(v int8) { e.u8(uint8(v)) })
	case []uint16:
		appendArray(e, typeUint16, x, e.u16)
	case []int16:
		appendArray(e, typeInt16, x, func(v int16) { e.u16(uint16(v)) })
	case []uint32:
		appendArray(e, typeUint32, x, e.u32)
	case []int32:
		appendArray(e, typeInt32, x, func(v int32) { e.u32(uint32(v)) })
	case []float32:
		appendArray(e, typeFloat32, x, func(v float32) { e.u32(math.Float32bits(v)) })
	case []bool:
		appendArray(e, typeBool, x, func(v bool) { e.payload(v, depth) })
	case []string:
		appendArray(e, typeString, x, e.str)
	case []uint64:
		appendArray(e, typeUint64, x, e.u64)
	case []int64:
		appendArray(e, typeInt64, x, func(v int64) { e.u64(uint64(v)) })
	case []float64:
		appendArray(e, typeFloat64, x, func(v float64) { e.u64(math.Float64bits(v)) })
	case []any:
		return e.nested(x, depth+1)
	default:
		return fmt.Errorf("value of Go type %T has no GGUF type: %w", v, format.ErrUnsupported)
	}
	return nil
}

// nested appends the payload of an array of arrays: element type ARRAY,
// the count, then each element's own array payload.
func (e *encoder) nested(x []any, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("arrays nested more than %d deep: %w", maxNesting, format.ErrUnsupported)
	}
	e.u32(uint32(typeArray))
	e.u64(uint64(len(x)))
	for i, el := range x {
		if depth+1 > maxNesting { // the element is one level deeper
			return fmt.Errorf("arrays nested more than %d deep: %w", maxNesting, format.ErrUnsupported)
		}
		if t, _, ok := typeOf(el); !ok || t != typeArray {
			return fmt.Errorf("element %d of an array of arrays is %s, not an array: %w", i, typeName(el), format.ErrUnsupported)
		}
		if err := e.payload(el, depth); err != nil {
			return err
		}
	}
	return nil
}

// appendArray appends an array header (element type, count) and elements.
func appendArray[T any](e *encoder, elem valueType, x []T, put func(T)) {
	e.u32(uint32(elem))
	e.u64(uint64(len(x)))
	for _, v := range x {
		put(v)
	}
}
