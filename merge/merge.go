package merge

import (
	"context"
	"fmt"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/atomicfile"
	"github.com/lorakit/lorakit/resolve"
)

// Options control Merge.
type Options struct {
	// DType, when valid, overrides each tensor's stored type as convert
	// does: every tensor but integer ones, merged or not, quantized ones
	// included (in GGUF, 1-D tensors stay F32).
	// Invalid keeps every tensor's type: quantized tensors that are merged
	// are requantized to their own type.
	DType format.DType
	// Force replaces an existing output (never an input).
	Force bool
	// Split, when enabled, writes a GGUF base's merge as a llama-gguf-split
	// set of shards.
	Split format.SplitLimits
	// Progress, if set, is called after each tensor is written.
	Progress func(done, total int, name string)
}

// Report says what Merge did.
type Report struct {
	// Base and Output are the paths read and written.
	Base   string `json:"base"`
	Output string `json:"output"`
	// Format is the container: "gguf", "safetensors" or "hf".
	Format string `json:"format"`
	// Tensors counts every tensor written, changed or not.
	Tensors int `json:"tensors"`
	// Merged lists the tensors the adapters changed, in file order.
	Merged []MergedTensor `json:"merged"`
	// Bytes is the size of all tensor data written.
	Bytes int64 `json:"bytes"`
}

// MergedTensor is one changed tensor.
type MergedTensor struct {
	Name  string `json:"name"`
	DType string `json:"dtype"` // as stored, in the base and the output
	// By names each update applied to it ("adapter X: module Y").
	By []string `json:"by"`
}

// Merge writes base with the inputs' updates applied to out, in the base's
// container (a GGUF file, a safetensors file, or a Hugging Face directory
// whose other files are copied and whose shards are kept as they are),
// one tensor at a time. ctx is checked between tensors; on any error or
// cancellation no output is left and the inputs are untouched.
func Merge(ctx context.Context, basePath string, inputs []Input, out string, opt Options) (*Report, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("merge: no adapter given: %w", format.ErrNotFound)
	}
	b, err := openBase(basePath)
	if err != nil {
		return nil, err
	}
	defer b.Src.Close()
	if b.Kind != resolve.KindHFDir { // atomicfile.WriteDir checks directories
		if err := atomicfile.CheckOutput(out, opt.Force); err != nil {
			return nil, err
		}
	}
	ops, err := planOps(b, inputs)
	if err != nil {
		return nil, err
	}
	infos, err := outputInfos(b, ops, opt.DType)
	if err != nil {
		return nil, err
	}
	rep := &Report{Base: basePath, Output: out, Format: b.Kind, Tensors: len(infos)}
	for _, t := range infos {
		if o := ops[t.Name]; len(o) > 0 {
			mt := MergedTensor{Name: t.Name, DType: t.DType.String()}
			for _, x := range o {
				mt.By = append(mt.By, x.who)
			}
			rep.Merged = append(rep.Merged, mt)
		}
		n, _ := t.NumBytes()
		rep.Bytes += n
	}
	s := newStreamer(ctx, b, ops, len(infos), opt.Progress)
	md := b.Src.Metadata().Clone()
	switch b.Kind {
	case resolve.KindHFDir:
		if opt.Split.Enabled() {
			return nil, fmt.Errorf("%s: only GGUF output is split into llama-gguf-split shards: %w", out, format.ErrUnsupported)
		}
		err = writeHFDir(s, out, infos, md, opt.Force)
	default:
		if b.Kind == resolve.KindGGUF && opt.DType.Valid() {
			if ft, ok := fileType[opt.DType]; ok {
				md.Set("general.file_type", ft)
			}
		}
		var sink format.Sink
		if sink, err = format.Create(b.Kind, out, infos, md, format.CreateOptions{Force: opt.Force, Split: opt.Split}); err == nil {
			err = s.write(sink, infos)
		}
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// fileType is llama.cpp's general.file_type (llama_ftype) for a --dtype.
var fileType = map[format.DType]uint32{
	format.F32: 0, format.F16: 1, format.Q4_0: 2, format.Q4_1: 3, format.Q8_0: 7,
	format.Q5_0: 8, format.Q5_1: 9, format.Q2_K: 10, format.Q3_K: 12, format.Q4_K: 15,
	format.Q5_K: 17, format.Q6_K: 18, format.IQ4_NL: 25, format.BF16: 32,
}

// outputInfos plans each output tensor's dtype and checks it can be
// written.
func outputInfos(b *base, ops plan, want format.DType) ([]format.TensorInfo, error) {
	container := "safetensors"
	if b.Kind == resolve.KindGGUF {
		container = "gguf"
	}
	src := b.Src.Tensors()
	infos := make([]format.TensorInfo, len(src))
	for i, t := range src {
		dt := convert.CastTarget(t, container, want)
		if dt.IsBlock() && dt != t.DType {
			// A block type only fits rows of whole blocks; others fall back
			// as llama-quantize does (1-D: F32, else F16).
			if len(t.Shape) < 2 || t.Shape[len(t.Shape)-1]%int64(dt.BlockSize()) != 0 {
				dt = format.F16
				if len(t.Shape) < 2 {
					dt = format.F32
				}
			}
		}
		changed := dt != t.DType || len(ops[t.Name]) > 0
		if changed && !format.CanEncode(dt) {
			hint := ""
			if dt == t.DType {
				hint = "; choose another type with --dtype"
			}
			return nil, fmt.Errorf("tensor %q: lorakit cannot encode %v%s: %w", t.Name, dt, hint, format.ErrUnsupported)
		}
		if changed && !format.CanDecode(t.DType) {
			return nil, fmt.Errorf("tensor %q: lorakit cannot decode %v: %w", t.Name, t.DType, format.ErrUnsupported)
		}
		infos[i] = format.TensorInfo{Name: t.Name, DType: dt, Shape: t.Shape}
	}
	return infos, nil
}
