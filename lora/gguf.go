package lora

import (
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/gguf" // registers the GGUF driver
	"github.com/lorakit/lorakit/internal/transpose"
)

// llama.cpp LoRA GGUF conventions (src/llama-adapter.cpp).
const (
	ggufSufA      = ".weight.lora_a"
	ggufSufB      = ".weight.lora_b"
	ggufTokenEmbd = "token_embd" // A and B are stored flipped for it
	keyArch       = "general.architecture"
	keyType       = "general.type"
	keyFileType   = "general.file_type"
	keyAdapter    = "adapter.type"
	keyAlpha      = "adapter.lora.alpha"
)

// ReadGGUF reads a llama.cpp LoRA adapter GGUF (general.type "adapter",
// adapter.type "lora"). Tensors <name>.weight.lora_a, ne [in, r], are A
// (r x in); .lora_b, ne [r, out], are B (out x r). For token_embd llama.cpp
// stores A transposed (ne [r, n_vocab]); it is transposed back here, so A
// is always (Rank x In). Each module's scale is alpha/rank with its own
// rank, and alpha 0 means scale 1, as llama.cpp applies it.
func ReadGGUF(path string) (*Adapter, error) {
	src, err := openContainer(path, "gguf")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	a, err := ggufFromSource(src, path)
	if err != nil {
		return nil, err
	}
	return a, nil
}

func ggufFromSource(src format.Source, path string) (*Adapter, error) {
	fail := func(err error) (*Adapter, error) { return nil, fmt.Errorf("lora: %s: %w", path, err) }
	md := src.Metadata()
	if t, _ := md.String(keyType); t != "adapter" {
		return fail(fmt.Errorf("general.type is %q, not \"adapter\": %w", t, format.ErrFormat))
	}
	if t, _ := md.String(keyAdapter); t != "lora" {
		return fail(fmt.Errorf("adapter.type %q: only LoRA adapters are supported: %w", t, format.ErrUnsupported))
	}
	alpha := 0.0 // llama.cpp reads a missing alpha as 0
	if v, ok := md.Get(keyAlpha); ok {
		f, isNum := md.Float(keyAlpha)
		if !isNum {
			return fail(fmt.Errorf("%s is a %T, want float32: %w", keyAlpha, v, format.ErrFormat))
		}
		alpha = f
	}
	a := &Adapter{Kind: KindGGUF, Path: path}
	a.Arch, _ = md.String(keyArch)
	for _, kv := range md {
		switch kv.Key {
		case keyArch, keyType, keyAdapter, keyAlpha, keyFileType:
		default:
			a.Metadata = append(a.Metadata, kv)
		}
	}
	bRank := map[*Module]int{}
	for _, info := range src.Tensors() {
		mod, isA := strings.CutSuffix(info.Name, ggufSufA)
		mod, isB := strings.CutSuffix(mod, ggufSufB)
		if !isA && !isB {
			t, err := copyTensor(src, info)
			if err != nil {
				return fail(err)
			}
			a.Saved = append(a.Saved, t)
			continue
		}
		m := a.Module(mod)
		if m == nil {
			m = &Module{Name: mod, Embedding: mod == ggufTokenEmbd}
			a.Modules = append(a.Modules, m)
		}
		if err := setGGUFPart(src, info, m, isA, bRank); err != nil {
			return fail(fmt.Errorf("module %q: %w", mod, err))
		}
		if isA && a.DType == format.Invalid {
			a.DType = info.DType
		}
	}
	for _, m := range a.Modules {
		if err := checkHalves(m, bRank[m], "lora_a", "lora_b"); err != nil {
			return fail(err)
		}
		m.Alpha = alpha
		if alpha == 0 {
			m.Alpha = float64(m.Rank) // scale 1
		}
	}
	a.Config = NewConfig(commonRank(a.Modules), alpha)
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// expertMatrices returns the expert count (0 for a 2-D tensor) and the
// dimensions of each expert's matrix of a 2-D or 3-D LoRA tensor.
func expertMatrices(info format.TensorInfo) (experts, rows, cols int, err error) {
	if len(info.Shape) != 3 {
		rows, cols, err = matrix2D(info)
		return 0, rows, cols, err
	}
	if info.Shape[0] <= 0 || info.Shape[1] <= 0 || info.Shape[2] <= 0 {
		return 0, 0, 0, fmt.Errorf("tensor %q: shape %v, want a non-empty stack of matrices: %w", info.Name, info.Shape, format.ErrShape)
	}
	return int(info.Shape[0]), int(info.Shape[1]), int(info.Shape[2]), nil
}

// setGGUFPart decodes lora_a or lora_b into m: (r, in) and (out, r), or
// per expert (E, r, in) and (E, out, r) for stacked experts (ne [in, r, E]
// and [r, out, E]).
func setGGUFPart(src format.Source, info format.TensorInfo, m *Module, isA bool, bRank map[*Module]int) error {
	experts, rows, cols, err := expertMatrices(info)
	if err != nil {
		return err
	}
	if experts > 0 && m.Embedding {
		return fmt.Errorf("tensor %q: token_embd cannot be stacked over experts, shape %v: %w", info.Name, info.Shape, format.ErrShape)
	}
	if (m.A != nil || m.B != nil) && experts != m.Experts {
		return fmt.Errorf("tensor %q: shape %v: lora_a and lora_b disagree on the expert count (%d and %d): %w", info.Name, info.Shape, m.Experts, experts, format.ErrShape)
	}
	m.Experts = experts
	vals, err := readFloats(src, info)
	if err != nil {
		return err
	}
	if isA {
		if m.A != nil {
			return fmt.Errorf("tensor %q given twice: %w", info.Name, format.ErrFormat)
		}
		if m.Embedding { // stored (n_vocab, r)
			m.A, m.Rank, m.In = transpose.Of(vals, rows, cols), cols, rows
		} else { // (r, in)
			m.A, m.Rank, m.In = vals, rows, cols
		}
		return nil
	}
	if m.B != nil {
		return fmt.Errorf("tensor %q given twice: %w", info.Name, format.ErrFormat)
	}
	m.B, m.Out, bRank[m] = vals, rows, cols // (out, r)
	return nil
}

// WriteGGUF writes the adapter as a llama.cpp LoRA GGUF: general.architecture
// (Adapter.Arch, required), general.type "adapter", adapter.type "lora",
// adapter.lora.alpha (float32), the kept Metadata and general.file_type,
// then <name>.weight.lora_a / .lora_b per module, names as in a.Modules.
//
// llama.cpp scales every tensor by one alpha over that tensor's rank, so all
// modules must share Alpha and use plain alpha/r scaling: call FoldScale
// first otherwise. DoRA, lora_B biases and full tensors other than *_norm
// vectors cannot be expressed and are refused.
func WriteGGUF(a *Adapter, path string, opts WriteOptions) error {
	fail := func(err error) error { return fmt.Errorf("lora: %s: %w", path, err) }
	dt, err := outDType(opts.DType)
	if err != nil {
		return err
	}
	if a.Arch == "" {
		return fail(fmt.Errorf("the base architecture (general.architecture) is unknown: %w", format.ErrUnsupported))
	}
	if err := a.Validate(); err != nil {
		return err
	}
	alpha, err := ggufAlpha(a)
	if err != nil {
		return fail(err)
	}
	md := format.Metadata{
		{Key: keyArch, Value: a.Arch},
		{Key: keyType, Value: "adapter"},
		{Key: keyAdapter, Value: "lora"},
		{Key: keyAlpha, Value: float32(alpha)},
	}
	md = append(md, a.Metadata...)
	md.Set(keyFileType, uint32(fileType(dt)))
	var ts []outTensor
	for _, m := range a.Modules {
		r, in, out := int64(m.Rank), int64(m.In), int64(m.Out)
		aInfo := format.TensorInfo{Name: m.Name + ggufSufA, DType: dt, Shape: []int64{r, in}}
		bInfo := format.TensorInfo{Name: m.Name + ggufSufB, DType: dt, Shape: []int64{out, r}}
		aVals := m.A
		switch {
		case m.Experts > 0: // ne [in, r, E] and [r, out, E]
			e := int64(m.Experts)
			aInfo.Shape, bInfo.Shape = []int64{e, r, in}, []int64{e, out, r}
		case m.Name == ggufTokenEmbd:
			aInfo.Shape, aVals = []int64{in, r}, transpose.Of(m.A, m.Rank, m.In)
		}
		ts = append(ts, outTensor{info: aInfo, vals: aVals}, outTensor{info: bInfo, vals: m.B})
	}
	for _, t := range a.Saved {
		if !strings.HasSuffix(t.Name, "_norm.weight") && !strings.HasSuffix(t.Name, "_norm.bias") && !strings.HasPrefix(t.Name, "cls.") {
			// cls.*: an encoder's classification head (modules_to_save) under
			// llama.cpp's model names; lorakit reads it back, llama.cpp's
			// adapter loader refuses tensors other than lora_a/lora_b.
			return fail(fmt.Errorf("full tensor %q (modules_to_save) cannot be carried by a llama.cpp LoRA adapter; merge it into the base with lorakit merge: %w", t.Name, format.ErrUnsupported))
		}
		ts = append(ts, outTensor{info: format.TensorInfo{Name: t.Name, DType: t.DType, Shape: t.Shape}, raw: t.Data})
	}
	if err := writeTensors("gguf", path, ts, md, opts.Force); err != nil {
		return fail(err)
	}
	return nil
}

// ggufAlpha finds the one alpha llama.cpp will apply to every module.
func ggufAlpha(a *Adapter) (float64, error) {
	alpha := 0.0
	for i, m := range a.Modules {
		switch {
		case m.Magnitude != nil:
			return 0, fmt.Errorf("module %q is DoRA, which a llama.cpp LoRA adapter cannot express; merge it into the base with lorakit merge: %w", m.Name, format.ErrUnsupported)
		case m.Bias != nil:
			return 0, fmt.Errorf("module %q has a lora_B bias, which llama.cpp does not apply; merge it with lorakit merge: %w", m.Name, format.ErrUnsupported)
		case m.Embedding && m.Name != ggufTokenEmbd:
			return 0, fmt.Errorf("module %q is an embedding adapter, which llama.cpp supports only on %s: %w", m.Name, ggufTokenEmbd, format.ErrUnsupported)
		case m.RSLoRA:
			return 0, fmt.Errorf("module %q uses rsLoRA (alpha/sqrt(r)); llama.cpp applies alpha/r: fold the scales first (Adapter.FoldScale): %w", m.Name, format.ErrUnsupported)
		case i > 0 && m.Alpha != alpha:
			return 0, fmt.Errorf("modules %q and %q have alphas %v and %v; llama.cpp applies one alpha: fold the scales first (Adapter.FoldScale): %w",
				a.Modules[0].Name, m.Name, alpha, m.Alpha, format.ErrUnsupported)
		}
		alpha = m.Alpha
	}
	return alpha, nil
}

// fileType is llama.cpp's general.file_type for an all-dt adapter
// (LLAMA_FTYPE_ALL_F32 0, MOSTLY_F16 1, MOSTLY_BF16 32, MOSTLY_Q8_0 7).
func fileType(dt format.DType) int {
	switch dt {
	case format.F16:
		return 1
	case format.BF16:
		return 32
	case format.Q8_0:
		return 7
	}
	return 0
}
