package quantize

import (
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// FileType is llama.cpp's llama_ftype: the general.file_type a quantized
// GGUF file records.
type FileType uint32

// The llama_ftype values of the presets lorakit implements.
const (
	FileTypeF32    FileType = 0
	FileTypeF16    FileType = 1
	FileTypeQ4_0   FileType = 2
	FileTypeQ4_1   FileType = 3
	FileTypeQ8_0   FileType = 7
	FileTypeQ5_0   FileType = 8
	FileTypeQ5_1   FileType = 9
	FileTypeQ2_K   FileType = 10
	FileTypeQ3_K_S FileType = 11
	FileTypeQ3_K_M FileType = 12
	FileTypeQ3_K_L FileType = 13
	FileTypeQ4_K_S FileType = 14
	FileTypeQ4_K_M FileType = 15
	FileTypeQ5_K_S FileType = 16
	FileTypeQ5_K_M FileType = 17
	FileTypeQ6_K   FileType = 18
	FileTypeIQ4_NL FileType = 25
	FileTypeBF16   FileType = 32
)

// Preset is a llama-quantize target: its name, the file type it records
// and the base type its tensors get before the mixture rules.
type Preset struct {
	Name     string
	FileType FileType
	Base     format.DType
}

// String returns the preset's name ("Q4_K_M").
func (p Preset) String() string { return p.Name }

// quantized reports whether the preset's base type is a block type (the
// mixture rules and fallbacks apply only then, as ggml_is_quantized says).
func (p Preset) quantized() bool { return p.Base.IsBlock() }

// presets lists every preset, in llama-quantize's order of file types.
var presets = []Preset{
	{"F32", FileTypeF32, format.F32},
	{"F16", FileTypeF16, format.F16},
	{"Q4_0", FileTypeQ4_0, format.Q4_0},
	{"Q4_1", FileTypeQ4_1, format.Q4_1},
	{"Q8_0", FileTypeQ8_0, format.Q8_0},
	{"Q5_0", FileTypeQ5_0, format.Q5_0},
	{"Q5_1", FileTypeQ5_1, format.Q5_1},
	{"Q2_K", FileTypeQ2_K, format.Q2_K},
	{"Q3_K_S", FileTypeQ3_K_S, format.Q3_K},
	{"Q3_K_M", FileTypeQ3_K_M, format.Q3_K},
	{"Q3_K_L", FileTypeQ3_K_L, format.Q3_K},
	{"Q4_K_S", FileTypeQ4_K_S, format.Q4_K},
	{"Q4_K_M", FileTypeQ4_K_M, format.Q4_K},
	{"Q5_K_S", FileTypeQ5_K_S, format.Q5_K},
	{"Q5_K_M", FileTypeQ5_K_M, format.Q5_K},
	{"Q6_K", FileTypeQ6_K, format.Q6_K},
	{"IQ4_NL", FileTypeIQ4_NL, format.IQ4_NL},
	{"BF16", FileTypeBF16, format.BF16},
}

// aliases are llama-quantize's shorthands: a K type without a size letter
// means its _M mix.
var aliases = map[string]string{
	"Q3_K": "Q3_K_M",
	"Q4_K": "Q4_K_M",
	"Q5_K": "Q5_K_M",
}

// Presets returns every preset ParsePreset knows.
func Presets() []Preset { return append([]Preset(nil), presets...) }

// ParsePreset parses a llama-quantize type name, case-insensitively: a
// preset (Q4_K_M, Q8_0, BF16, ...) or a ggml type, which means the preset
// llama-quantize gives that name (q4_k is Q4_K_M, q6_k is Q6_K, f16 F16).
// An unknown name gives an error wrapping format.ErrUnsupported that lists
// the known ones.
func ParsePreset(s string) (Preset, error) {
	name := strings.ToUpper(strings.TrimSpace(s))
	if a, ok := aliases[name]; ok {
		name = a
	}
	for _, p := range presets {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.Name
	}
	return Preset{}, fmt.Errorf("quantization type %q: %w (known: %s)", s, format.ErrUnsupported, strings.Join(names, " "))
}
