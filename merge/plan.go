package merge

import (
	"context"
	"fmt"
	"slices"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/resolve"
)

// Plan is a merge worked out before anything is written: the adapters are
// read and checked against the base, and every output tensor's name, dtype
// and shape and the output metadata are known, so that a format.Sink can
// be created for them (a Sink declares all of that up front). Write then
// streams the merged tensors into the Sink one at a time.
//
// A Plan reads the base's tensors through the Source it was made from,
// which must stay open until the last Write returns.
type Plan struct {
	b        *base
	ops      tensorOps
	infos    []format.TensorInfo
	md       format.Metadata
	merged   []MergedTensor
	bytes    int64
	progress func(done, total int, name string)
}

// NewPlan plans the merge of inputs into base, a GGUF or safetensors
// checkpoint already open (llama.cpp names for GGUF, Hugging Face names for
// safetensors, as the container has them). Output tensors keep the base's
// names, order and dtypes, or take opt.DType as Merge does for the base's
// container; opt.Force and opt.Split are Merge's alone. A llama.cpp LoRA
// adapter on a safetensors base is renamed from its own architecture (no
// config.json is at hand). NewPlan does not close base.
func NewPlan(base format.Source, inputs []Input, opt Options) (*Plan, error) {
	if err := checkInputs(inputs); err != nil {
		return nil, err
	}
	b, err := sourceBase(base)
	if err != nil {
		return nil, err
	}
	return newPlan(b, inputs, opt)
}

// checkInputs refuses a merge without adapters.
func checkInputs(inputs []Input) error {
	if len(inputs) == 0 {
		return fmt.Errorf("merge: no adapter given: %w", format.ErrNotFound)
	}
	return nil
}

// newPlan reads the inputs and plans their merge into the opened base b.
func newPlan(b *base, inputs []Input, opt Options) (*Plan, error) {
	ops, err := planOps(b, inputs)
	if err != nil {
		return nil, err
	}
	infos, err := outputInfos(b, ops, opt.DType)
	if err != nil {
		return nil, err
	}
	p := &Plan{b: b, ops: ops, infos: infos, md: b.Src.Metadata().Clone(), progress: opt.Progress}
	if b.Kind == resolve.KindGGUF && opt.DType.Valid() {
		if ft, ok := fileType[opt.DType]; ok {
			p.md.Set("general.file_type", ft)
		}
	}
	for _, t := range infos {
		if o := ops[t.Name]; len(o) > 0 {
			mt := MergedTensor{Name: t.Name, DType: t.DType.String()}
			for _, x := range o {
				mt.By = append(mt.By, x.who)
			}
			p.merged = append(p.merged, mt)
		}
		n, _ := t.NumBytes()
		p.bytes += n
	}
	return p, nil
}

// Tensors returns the output tensors in the order Write writes them: the
// infos to create the Sink with.
func (p *Plan) Tensors() []format.TensorInfo { return slices.Clone(p.infos) }

// Metadata returns the output metadata (the base's, with
// general.file_type updated when a GGUF base is cast with Options.DType):
// the metadata to create the Sink with.
func (p *Plan) Metadata() format.Metadata { return p.md.Clone() }

// Write streams the merged tensors into sink, which must have been created
// with Tensors and Metadata, and closes it; on any error, or when ctx is
// cancelled (checked between tensors), it aborts sink instead. Each call
// writes the whole merge again.
func (p *Plan) Write(ctx context.Context, sink format.Sink) (*Report, error) {
	if err := p.streamer(ctx).write(sink, p.infos); err != nil {
		return nil, err
	}
	return p.report(""), nil
}

// streamer returns a streamer over the plan's tensors.
func (p *Plan) streamer(ctx context.Context) *streamer {
	return newStreamer(ctx, p.b, p.ops, len(p.infos), p.progress)
}

// report says what writing the plan to out did.
func (p *Plan) report(out string) *Report {
	return &Report{Base: p.b.Path, Output: out, Format: p.b.Kind, Tensors: len(p.infos), Merged: slices.Clone(p.merged), Bytes: p.bytes}
}

// fileType is llama.cpp's general.file_type (llama_ftype) for a --dtype.
var fileType = map[format.DType]uint32{
	format.F32: 0, format.F16: 1, format.Q4_0: 2, format.Q4_1: 3, format.Q8_0: 7,
	format.Q5_0: 8, format.Q5_1: 9, format.Q2_K: 10, format.Q3_K: 12, format.Q4_K: 15,
	format.Q5_K: 17, format.Q6_K: 18, format.IQ4_NL: 25, format.BF16: 32,
}

// outputInfos plans each output tensor's dtype and checks it can be
// written.
func outputInfos(b *base, ops tensorOps, want format.DType) ([]format.TensorInfo, error) {
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
