package gguf

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
)

// value reads one metadata value of type t; depth counts enclosing arrays.
func (d *decoder) value(t valueType, depth int) (any, error) {
	switch t {
	case typeString:
		return d.str()
	case typeArray:
		return d.array(depth + 1)
	}
	if t >= numValueTypes {
		return nil, fmt.Errorf("invalid value type %d: %w", uint32(t), format.ErrFormat)
	}
	b, err := d.next(int(t.size()))
	if err != nil {
		return nil, err
	}
	return scalar(t, b), nil
}

// scalar decodes a fixed-size value of type t from b.
func scalar(t valueType, b []byte) any {
	le := binary.LittleEndian
	switch t {
	case typeUint8:
		return b[0]
	case typeInt8:
		return int8(b[0])
	case typeUint16:
		return le.Uint16(b)
	case typeInt16:
		return int16(le.Uint16(b))
	case typeUint32:
		return le.Uint32(b)
	case typeInt32:
		return int32(le.Uint32(b))
	case typeFloat32:
		return math.Float32frombits(le.Uint32(b))
	case typeBool:
		return b[0] != 0 // as ggml reads it: any non-zero byte is true
	case typeUint64:
		return le.Uint64(b)
	case typeInt64:
		return int64(le.Uint64(b))
	case typeFloat64:
		return math.Float64frombits(le.Uint64(b))
	}
	panic("gguf: scalar called with " + t.String()) // unreachable: callers check t
}

// array reads an array value (element type, count, elements) as the typed
// slice format.Metadata documents.
func (d *decoder) array(depth int) (any, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("arrays nested more than %d deep: %w", maxNesting, format.ErrUnsupported)
	}
	et, err := d.u32()
	if err != nil {
		return nil, err
	}
	t := valueType(et)
	if t >= numValueTypes {
		return nil, fmt.Errorf("array of invalid value type %d: %w", et, format.ErrFormat)
	}
	n, err := d.count(t.size())
	if err != nil {
		return nil, fmt.Errorf("array of %v: %w", t, err)
	}
	switch t {
	case typeUint8:
		return fixedArray(d, n, t, func(b []byte) uint8 { return b[0] })
	case typeInt8:
		return fixedArray(d, n, t, func(b []byte) int8 { return int8(b[0]) })
	case typeUint16:
		return fixedArray(d, n, t, binary.LittleEndian.Uint16)
	case typeInt16:
		return fixedArray(d, n, t, func(b []byte) int16 { return int16(binary.LittleEndian.Uint16(b)) })
	case typeUint32:
		return fixedArray(d, n, t, binary.LittleEndian.Uint32)
	case typeInt32:
		return fixedArray(d, n, t, func(b []byte) int32 { return int32(binary.LittleEndian.Uint32(b)) })
	case typeFloat32:
		return fixedArray(d, n, t, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) })
	case typeBool:
		return fixedArray(d, n, t, func(b []byte) bool { return b[0] != 0 })
	case typeUint64:
		return fixedArray(d, n, t, binary.LittleEndian.Uint64)
	case typeInt64:
		return fixedArray(d, n, t, func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) })
	case typeFloat64:
		return fixedArray(d, n, t, func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) })
	case typeString:
		return growArray(n, d.str)
	default: // typeArray
		if d.nested += n; d.nested > maxNestedArrays {
			return nil, fmt.Errorf("more than %d arrays inside arrays: %w", maxNestedArrays, format.ErrUnsupported)
		}
		return growArray(n, func() (any, error) { return d.array(depth + 1) })
	}
}

// fixedArray reads n elements of a fixed-size type. count has checked that
// n elements fit in the file, so the slice is bounded by the file size.
func fixedArray[T any](d *decoder, n int64, t valueType, conv func([]byte) T) ([]T, error) {
	out := make([]T, n)
	size := int(t.size())
	per := windowSize / size // elements per window-sized read
	for i := int64(0); i < n; {
		k := int(min(int64(per), n-i))
		b, err := d.next(k * size)
		if err != nil {
			return nil, err
		}
		for j := range k {
			out[i+int64(j)] = conv(b[j*size:])
		}
		i += int64(k)
	}
	return out, nil
}

// growArray reads n variable-size elements. The slice grows as elements
// are read rather than trusting n for its capacity up front.
func growArray[T any](n int64, read func() (T, error)) ([]T, error) {
	out := make([]T, 0, min(n, 1<<12))
	for range n {
		v, err := read()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
