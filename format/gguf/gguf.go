package gguf

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// File-level constants of the GGUF format (ggml's gguf.h).
const (
	// Magic is the first four bytes of every GGUF file.
	Magic = "GGUF"
	// Version is the version the Writer produces. The Reader accepts 2 and 3.
	Version = 3
	// DefaultAlignment is the data alignment when general.alignment is absent.
	DefaultAlignment = 32
	// MaxNameLen is the longest tensor name ggml accepts, in bytes
	// (GGML_MAX_NAME is 64, including the terminating NUL).
	MaxNameLen = 63
	// MaxDims is the most dimensions a GGUF tensor can have (GGML_MAX_DIMS).
	MaxDims = 4
	// KeyAlignment is the metadata key of the data alignment, a UINT32 that
	// must be a non-zero power of two.
	KeyAlignment = "general.alignment"
)

// ErrNameTooLong reports a tensor name longer than MaxNameLen bytes. It
// wraps format.ErrFormat, so errors.Is matches both.
var ErrNameTooLong = fmt.Errorf("tensor name longer than %d bytes: %w", MaxNameLen, format.ErrFormat)

// maxNesting bounds how deeply arrays of arrays may nest. ggml rejects any
// nesting; the GGUF spec allows it, so lorakit reads a few levels and keeps
// hostile files from recursing without bound.
const maxNesting = 8

// maxNestedArrays bounds the arrays inside arrays one file may hold in
// all. An empty array costs 12 bytes of file and several times that in
// memory, so a sparse file of empty nested arrays would otherwise take
// gigabytes; ggml reads none at all.
const maxNestedArrays = 1 << 16

// maxKVs bounds the metadata entries of a file (real files have tens to
// hundreds): each costs a map entry and a boxed value beyond its bytes.
const maxKVs = 1 << 20

// MaxWriteAlignment is the largest general.alignment the writer accepts:
// ggml reads any power of two, but each tensor is padded to it, so a
// hostile 2^31 would turn a small model into gigabytes of zeros. 64 KiB
// covers every page size in use.
const MaxWriteAlignment = 1 << 16

// valueType is a GGUF metadata value type (gguf_type).
type valueType uint32

// The GGUF metadata value types.
const (
	typeUint8 valueType = iota
	typeInt8
	typeUint16
	typeInt16
	typeUint32
	typeInt32
	typeFloat32
	typeBool
	typeString
	typeArray
	typeUint64
	typeInt64
	typeFloat64
	numValueTypes
)

var valueTypeNames = [numValueTypes]string{
	"UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32",
	"BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64",
}

func (t valueType) String() string {
	if t < numValueTypes {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("type %d", uint32(t))
}

// size is the encoded size of a fixed-size value, or the least number of
// bytes a value of that type can take (a string's 8-byte length, an array's
// 12-byte header).
func (t valueType) size() int64 {
	switch t {
	case typeUint8, typeInt8, typeBool:
		return 1
	case typeUint16, typeInt16:
		return 2
	case typeUint32, typeInt32, typeFloat32:
		return 4
	case typeUint64, typeInt64, typeFloat64, typeString:
		return 8
	case typeArray:
		return 12
	}
	return 0
}

// alignUp rounds x up to a multiple of a (a power of two).
func alignUp(x, a int64) int64 { return (x + a - 1) &^ (a - 1) }

// validAlignment reports whether a is an alignment ggml accepts.
func validAlignment(a uint32) bool { return a != 0 && a&(a-1) == 0 }
