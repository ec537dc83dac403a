package format

import (
	"fmt"
	"strings"
)

// DType is an element type: a plain scalar type (F32, BF16, I8, ...) or a
// ggml block type (Q4_0, Q6_K, ...), whose elements are stored in blocks of
// BlockSize values taking BlockBytes bytes.
type DType uint8

// The element types either format knows. The zero value is Invalid.
const (
	Invalid DType = iota
	F64
	F32
	F16
	BF16
	F8_E4M3
	F8_E5M2
	I64
	I32
	I16
	I8
	U64
	U32
	U16
	U8
	BOOL
	Q4_0
	Q4_1
	Q5_0
	Q5_1
	Q8_0
	Q8_1
	Q2_K
	Q3_K
	Q4_K
	Q5_K
	Q6_K
	Q8_K
	IQ2_XXS
	IQ2_XS
	IQ3_XXS
	IQ1_S
	IQ4_NL
	IQ3_S
	IQ2_S
	IQ4_XS
	IQ1_M
	TQ1_0
	TQ2_0
	MXFP4
	numDTypes
)

// noGGML marks a dtype that GGUF cannot store.
const noGGML = -1

// traits is one row of the trait table.
type traits struct {
	name       string // canonical name, also the safetensors name for scalar types
	safetensor bool   // storable in safetensors
	ggmlID     int    // ggml_type id, or noGGML
	blockSize  int    // elements per block (1 for scalar types)
	blockBytes int    // bytes per block
	isFloat    bool   // a scalar floating-point type
	isInt      bool   // a scalar integer (or bool) type
}

// table is the single source of truth for every DType. ggml ids and block
// layouts are those of ggml's ggml.h / ggml-common.h.
var table = [numDTypes]traits{
	Invalid: {name: "INVALID", ggmlID: noGGML},
	F64:     {"F64", true, 28, 1, 8, true, false},
	F32:     {"F32", true, 0, 1, 4, true, false},
	F16:     {"F16", true, 1, 1, 2, true, false},
	BF16:    {"BF16", true, 30, 1, 2, true, false},
	F8_E4M3: {"F8_E4M3", true, noGGML, 1, 1, true, false},
	F8_E5M2: {"F8_E5M2", true, noGGML, 1, 1, true, false},
	I64:     {"I64", true, 27, 1, 8, false, true},
	I32:     {"I32", true, 26, 1, 4, false, true},
	I16:     {"I16", true, 25, 1, 2, false, true},
	I8:      {"I8", true, 24, 1, 1, false, true},
	U64:     {"U64", true, noGGML, 1, 8, false, true},
	U32:     {"U32", true, noGGML, 1, 4, false, true},
	U16:     {"U16", true, noGGML, 1, 2, false, true},
	U8:      {"U8", true, noGGML, 1, 1, false, true},
	BOOL:    {"BOOL", true, noGGML, 1, 1, false, true},
	Q4_0:    {"Q4_0", false, 2, 32, 18, false, false},
	Q4_1:    {"Q4_1", false, 3, 32, 20, false, false},
	Q5_0:    {"Q5_0", false, 6, 32, 22, false, false},
	Q5_1:    {"Q5_1", false, 7, 32, 24, false, false},
	Q8_0:    {"Q8_0", false, 8, 32, 34, false, false},
	Q8_1:    {"Q8_1", false, 9, 32, 36, false, false},
	Q2_K:    {"Q2_K", false, 10, 256, 84, false, false},
	Q3_K:    {"Q3_K", false, 11, 256, 110, false, false},
	Q4_K:    {"Q4_K", false, 12, 256, 144, false, false},
	Q5_K:    {"Q5_K", false, 13, 256, 176, false, false},
	Q6_K:    {"Q6_K", false, 14, 256, 210, false, false},
	Q8_K:    {"Q8_K", false, 15, 256, 292, false, false},
	IQ2_XXS: {"IQ2_XXS", false, 16, 256, 66, false, false},
	IQ2_XS:  {"IQ2_XS", false, 17, 256, 74, false, false},
	IQ3_XXS: {"IQ3_XXS", false, 18, 256, 98, false, false},
	IQ1_S:   {"IQ1_S", false, 19, 256, 50, false, false},
	IQ4_NL:  {"IQ4_NL", false, 20, 32, 18, false, false},
	IQ3_S:   {"IQ3_S", false, 21, 256, 110, false, false},
	IQ2_S:   {"IQ2_S", false, 22, 256, 82, false, false},
	IQ4_XS:  {"IQ4_XS", false, 23, 256, 136, false, false},
	IQ1_M:   {"IQ1_M", false, 29, 256, 56, false, false},
	TQ1_0:   {"TQ1_0", false, 34, 256, 54, false, false},
	TQ2_0:   {"TQ2_0", false, 35, 256, 66, false, false},
	MXFP4:   {"MXFP4", false, 39, 32, 17, false, false},
}

// byGGML maps a ggml type id to a DType; built from table.
var byGGML = func() map[int]DType {
	m := make(map[int]DType)
	for dt := DType(1); dt < numDTypes; dt++ {
		if id := table[dt].ggmlID; id != noGGML {
			m[id] = dt
		}
	}
	return m
}()

// DTypes returns every valid DType, in enum order.
func DTypes() []DType {
	out := make([]DType, 0, numDTypes-1)
	for dt := DType(1); dt < numDTypes; dt++ {
		out = append(out, dt)
	}
	return out
}

// Valid reports whether dt is one of the defined types.
func (dt DType) Valid() bool { return dt > Invalid && dt < numDTypes }

func (dt DType) traits() traits {
	if !dt.Valid() {
		return table[Invalid]
	}
	return table[dt]
}

// String returns the canonical upper-case name ("F32", "Q4_K", ...).
func (dt DType) String() string {
	if !dt.Valid() {
		return fmt.Sprintf("DType(%d)", uint8(dt))
	}
	return table[dt].name
}

// BlockSize is the number of elements per block (1 for scalar types).
func (dt DType) BlockSize() int { return dt.traits().blockSize }

// BlockBytes is the number of bytes per block (the element size for scalar
// types).
func (dt DType) BlockBytes() int { return dt.traits().blockBytes }

// IsBlock reports whether dt is a ggml block (quantized) type.
func (dt DType) IsBlock() bool { return dt.Valid() && !dt.traits().isFloat && !dt.traits().isInt }

// IsFloat reports whether dt is a scalar floating-point type.
func (dt DType) IsFloat() bool { return dt.traits().isFloat }

// IsInt reports whether dt is a scalar integer or boolean type.
func (dt DType) IsInt() bool { return dt.traits().isInt }

// InSafetensors reports whether safetensors can store dt.
func (dt DType) InSafetensors() bool { return dt.Valid() && dt.traits().safetensor }

// GGMLType returns dt's ggml_type id; ok is false if GGUF cannot store dt.
func (dt DType) GGMLType() (id int, ok bool) {
	if !dt.Valid() || table[dt].ggmlID == noGGML {
		return 0, false
	}
	return table[dt].ggmlID, true
}

// FromGGMLType returns the DType with ggml_type id; ok is false for ids that
// ggml does not define (or has retired).
func FromGGMLType(id int) (DType, bool) {
	dt, ok := byGGML[id]
	return dt, ok
}

// ParseDType parses a dtype name, case-insensitively ("f16", "Q4_K", "bf16").
func ParseDType(s string) (DType, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	for dt := DType(1); dt < numDTypes; dt++ {
		if table[dt].name == u {
			return dt, nil
		}
	}
	return Invalid, fmt.Errorf("dtype %q: %w", s, ErrUnsupported)
}

// RowBytes returns the bytes taken by n elements of dt. It fails when n is
// not a whole number of blocks or the size overflows.
func (dt DType) RowBytes(n int64) (int64, error) {
	if !dt.Valid() {
		return 0, fmt.Errorf("dtype %v: %w", dt, ErrUnsupported)
	}
	t := table[dt]
	if n < 0 || n%int64(t.blockSize) != 0 {
		return 0, fmt.Errorf("%d elements is not a whole number of %v blocks of %d: %w", n, dt, t.blockSize, ErrShape)
	}
	blocks := n / int64(t.blockSize)
	if blocks > maxBytes/int64(t.blockBytes) {
		return 0, fmt.Errorf("%d elements of %v: size overflows: %w", n, dt, ErrFormat)
	}
	return blocks * int64(t.blockBytes), nil
}
