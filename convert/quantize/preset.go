package quantize

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// FileType is llama.cpp's llama_ftype: the general.file_type a quantized
// GGUF file records.
type FileType uint32

// The llama_ftype values of the presets lorakit implements (llama.h).
const (
	FileTypeF32     FileType = 0
	FileTypeF16     FileType = 1
	FileTypeQ4_0    FileType = 2
	FileTypeQ4_1    FileType = 3
	FileTypeQ8_0    FileType = 7
	FileTypeQ5_0    FileType = 8
	FileTypeQ5_1    FileType = 9
	FileTypeQ2_K    FileType = 10
	FileTypeQ3_K_S  FileType = 11
	FileTypeQ3_K_M  FileType = 12
	FileTypeQ3_K_L  FileType = 13
	FileTypeQ4_K_S  FileType = 14
	FileTypeQ4_K_M  FileType = 15
	FileTypeQ5_K_S  FileType = 16
	FileTypeQ5_K_M  FileType = 17
	FileTypeQ6_K    FileType = 18
	FileTypeIQ2_XXS FileType = 19
	FileTypeIQ2_XS  FileType = 20
	FileTypeQ2_K_S  FileType = 21
	FileTypeIQ3_XS  FileType = 22
	FileTypeIQ3_XXS FileType = 23
	FileTypeIQ1_S   FileType = 24
	FileTypeIQ4_NL  FileType = 25
	FileTypeIQ3_S   FileType = 26
	FileTypeIQ3_M   FileType = 27
	FileTypeIQ2_S   FileType = 28
	FileTypeIQ2_M   FileType = 29
	FileTypeIQ4_XS  FileType = 30
	FileTypeIQ1_M   FileType = 31
	FileTypeBF16    FileType = 32
	FileTypeTQ1_0   FileType = 36
	FileTypeTQ2_0   FileType = 37
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

// presets lists every preset, in llama-quantize's order of file types,
// with the default type llama_ftype_get_default_type gives each (the
// IQ2_S preset starts from IQ2_XS, IQ2_M from IQ2_S, IQ3_XS and IQ3_M from
// IQ3_S).
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
	{"IQ2_XXS", FileTypeIQ2_XXS, format.IQ2_XXS},
	{"IQ2_XS", FileTypeIQ2_XS, format.IQ2_XS},
	{"Q2_K_S", FileTypeQ2_K_S, format.Q2_K},
	{"IQ3_XS", FileTypeIQ3_XS, format.IQ3_S},
	{"IQ3_XXS", FileTypeIQ3_XXS, format.IQ3_XXS},
	{"IQ1_S", FileTypeIQ1_S, format.IQ1_S},
	{"IQ4_NL", FileTypeIQ4_NL, format.IQ4_NL},
	{"IQ3_S", FileTypeIQ3_S, format.IQ3_S},
	{"IQ3_M", FileTypeIQ3_M, format.IQ3_S},
	{"IQ2_S", FileTypeIQ2_S, format.IQ2_XS},
	{"IQ2_M", FileTypeIQ2_M, format.IQ2_S},
	{"IQ4_XS", FileTypeIQ4_XS, format.IQ4_XS},
	{"IQ1_M", FileTypeIQ1_M, format.IQ1_M},
	{"BF16", FileTypeBF16, format.BF16},
	{"TQ1_0", FileTypeTQ1_0, format.TQ1_0},
	{"TQ2_0", FileTypeTQ2_0, format.TQ2_0},
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
// preset (Q4_K_M, Q8_0, BF16, IQ2_M, ...) or a ggml type, which means the
// preset llama-quantize gives that name (q4_k is Q4_K_M, q6_k is Q6_K, f16
// F16), or, as llama-quantize also accepts, a file type number ("15").
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
	if n, err := strconv.Atoi(name); err == nil {
		for _, p := range presets {
			if int(p.FileType) == n {
				return p, nil
			}
		}
	}
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.Name
	}
	return Preset{}, fmt.Errorf("quantization type %q: %w (known: %s)", s, format.ErrUnsupported, strings.Join(names, " "))
}

// ParsePresets parses each of names with ParsePreset (a comma-separated
// flag split on its commas, say), in order; the first unknown name is the
// error.
func ParsePresets(names ...string) ([]Preset, error) {
	out := make([]Preset, 0, len(names))
	for _, n := range names {
		p, err := ParsePreset(n)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
