package quantize

import (
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/imatrix"
)

// Options control NewPlan, Write and File. The fields after Keep are
// llama-quantize's options, with its semantics.
type Options struct {
	// Preset is the target (see ParsePreset). Required.
	Preset Preset
	// Keep, if set, keeps the tensors whose name it matches in their
	// input type. The other tensors get the types they would get without
	// it: the mixture counters still see the kept tensors.
	Keep *regexp.Regexp

	// Imatrix is the importance matrix (--imatrix): its per-column means
	// weight the quantizers, and its presence changes some mixtures.
	Imatrix *imatrix.Matrix
	// ImatrixFile is the file name recorded as quantize.imatrix.file.
	ImatrixFile string
	// IncludeWeights and ExcludeWeights (--include-weights,
	// --exclude-weights; not both) keep or drop the importance entries
	// whose name contains one of the strings.
	IncludeWeights, ExcludeWeights []string
	// TensorTypes (--tensor-type) give the types of the tensors their
	// patterns match, first match first, in place of the mixture.
	TensorTypes []TensorType
	// OutputTensorType and TokenEmbeddingType (--output-tensor-type,
	// --token-embedding-type), when valid, are the types of output.weight
	// and token_embd.weight.
	OutputTensorType, TokenEmbeddingType format.DType
	// Pure (--pure) gives every quantized tensor the preset's base type.
	Pure bool
	// LeaveOutputTensor (--leave-output-tensor) keeps output.weight as it
	// is.
	LeaveOutputTensor bool
	// OverrideKV (--override-kv) sets metadata keys (see ParseOverrideKV).
	OverrideKV []format.KV
	// PruneLayers (--prune-layers) drops the listed blocks and renumbers
	// the others.
	PruneLayers []int
	// KeepSplit (--keep-split) writes one output shard per input shard of
	// a GGUF input, as llama-quantize does (see Plan.Shards): OUT.gguf
	// becomes OUT-0000k-of-0000n.gguf. Not with Split.
	KeepSplit bool

	// Force replaces an existing output (never an input).
	Force bool
	// Split, when enabled, writes a llama-gguf-split set of shards.
	Split format.SplitLimits
	// Progress, if set, is called after each tensor is written.
	Progress func(done, total int, name string)
	// Warn, if set, receives warnings (a --tensor-type pattern that
	// matches no tensor, a tensor without importance data).
	Warn func(msg string)

	// dryRun (PlanFile) turns a missing importance matrix into a warning,
	// as llama-quantize --dry-run does.
	dryRun bool
}

// warn reports msg through o.Warn.
func (o *Options) warn(format string, args ...any) {
	if o.Warn != nil {
		o.Warn(fmt.Sprintf(format, args...))
	}
}

// TensorType is one --tensor-type rule.
type TensorType struct {
	Pattern *regexp.Regexp
	Type    format.DType
}

// ParseTensorType parses a --tensor-type argument PATTERN=TYPE as
// llama-quantize does: the pattern is lower-cased and searched for
// anywhere in a tensor name (std::regex_search; Go's RE2 syntax, which
// agrees with ECMAScript on the patterns people write, and refuses
// backreferences and lookarounds with an error); TYPE is a ggml type name,
// case-insensitively.
func ParseTensorType(s string) (TensorType, error) {
	pat, typ, ok := strings.Cut(s, "=")
	switch {
	case !ok:
		return TensorType{}, fmt.Errorf("--tensor-type %q: want PATTERN=TYPE: %w", s, format.ErrInvalidOption)
	case pat == "":
		return TensorType{}, fmt.Errorf("--tensor-type %q: missing tensor name: %w", s, format.ErrInvalidOption)
	case typ == "":
		return TensorType{}, fmt.Errorf("--tensor-type %q: missing quantization type: %w", s, format.ErrInvalidOption)
	}
	re, err := regexp.Compile(strings.ToLower(pat))
	if err != nil {
		return TensorType{}, fmt.Errorf("--tensor-type %q: %v: %w", s, err, format.ErrInvalidOption)
	}
	dt, err := parseGGMLType(typ)
	if err != nil {
		return TensorType{}, fmt.Errorf("--tensor-type %q: %w", s, err)
	}
	return TensorType{re, dt}, nil
}

// parseGGMLType parses a ggml type name case-insensitively, refusing
// types a GGUF tensor cannot have.
func parseGGMLType(s string) (format.DType, error) {
	dt, err := format.ParseDType(s)
	if err != nil {
		return format.Invalid, err
	}
	if _, ok := dt.GGMLType(); !ok {
		return format.Invalid, fmt.Errorf("%v is not a ggml type: %w", dt, format.ErrUnsupported)
	}
	return dt, nil
}

// ParseGGMLType parses the type of --output-tensor-type and
// --token-embedding-type: a ggml type name, case-insensitively.
func ParseGGMLType(s string) (format.DType, error) { return parseGGMLType(s) }

// ParseOverrideKV parses --override-kv KEY=TYPE:VALUE as llama.cpp does,
// typed as llama-quantize writes it: int:N becomes a uint32 of |N| (as
// llama-quantize stores integers), float:X a float32, bool:true|false a
// bool, str:S a string of at most 127 bytes. Keys are shorter than 128
// bytes.
func ParseOverrideKV(s string) (format.KV, error) {
	key, val, ok := strings.Cut(s, "=")
	if !ok || len(key) >= 128 || key == "" {
		return format.KV{}, fmt.Errorf("--override-kv %q: want KEY=TYPE:VALUE with a key under 128 bytes: %w", s, format.ErrInvalidOption)
	}
	typ, v, _ := strings.Cut(val, ":")
	bad := func(why string) (format.KV, error) {
		return format.KV{}, fmt.Errorf("--override-kv %q: %s: %w", s, why, format.ErrInvalidOption)
	}
	switch typ {
	case "int":
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return bad("not an integer")
		}
		if n < 0 {
			n = -n
		}
		if n > math.MaxUint32 {
			return bad("does not fit the uint32 llama-quantize writes")
		}
		return format.KV{Key: key, Value: uint32(n)}, nil
	case "float":
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return bad("not a number")
		}
		return format.KV{Key: key, Value: float32(x)}, nil
	case "bool":
		if v != "true" && v != "false" {
			return bad("want true or false")
		}
		return format.KV{Key: key, Value: v == "true"}, nil
	case "str":
		if len(v) > 127 {
			return bad("value longer than 127 bytes")
		}
		return format.KV{Key: key, Value: v}, nil
	}
	return bad("type must be int, float, bool or str")
}

// ParsePruneLayers parses --prune-layers L0,L1,...: non-negative block
// numbers, returned sorted and without repeats.
func ParsePruneLayers(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("--prune-layers: invalid layer id %q: %w", f, format.ErrInvalidOption)
		}
		out = append(out, n)
	}
	sort.Ints(out)
	uniq := out[:0]
	for i, n := range out {
		if i == 0 || n != out[i-1] {
			uniq = append(uniq, n)
		}
	}
	return uniq, nil
}

// ReadTensorTypes reads a --tensor-type-file: PATTERN=TYPE arguments
// separated by spaces or newlines, each parsed as ParseTensorType does.
func ReadTensorTypes(path string) ([]TensorType, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("--tensor-type-file: %w: %w", err, format.ErrNotFound)
		}
		return nil, fmt.Errorf("--tensor-type-file: %w", err)
	}
	var out []TensorType
	for _, f := range strings.Fields(string(b)) {
		tt, err := ParseTensorType(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, tt)
	}
	return out, nil
}
