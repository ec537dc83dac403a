package quantize

import (
	"fmt"
	"regexp"

	"github.com/lorakit/lorakit/format"
)

// Options control NewPlan, Write and File.
type Options struct {
	// Preset is the target (see ParsePreset). Required.
	Preset Preset
	// Keep, if set, keeps the tensors whose name it matches in their
	// input type. The other tensors get the types they would get without
	// it: the mixture counters still see the kept tensors.
	Keep *regexp.Regexp
	// Force replaces an existing output (never an input).
	Force bool
	// Split, when enabled, writes a llama-gguf-split set of shards.
	Split format.SplitLimits
	// Progress, if set, is called after each tensor is written.
	Progress func(done, total int, name string)
}

// Tensor is one tensor of a Plan: what it is in the input and what it
// becomes.
type Tensor struct {
	// In is the tensor as stored in the input.
	In format.TensorInfo
	// Out is its type in the output (In.DType when it is copied).
	Out format.DType
	// Wanted is the type the mixture rules asked for, when a fallback
	// replaced it because the rows are not a whole number of its blocks;
	// Invalid otherwise.
	Wanted format.DType
	// Kept reports a tensor that --keep left in its input type.
	Kept bool
	// InBytes and OutBytes are the sizes of its data in the input and in
	// the output.
	InBytes, OutBytes int64
}

// Info is the tensor as the output declares it.
func (t Tensor) Info() format.TensorInfo {
	return format.TensorInfo{Name: t.In.Name, DType: t.Out, Shape: t.In.Shape}
}

// Plan is what quantizing a checkpoint writes: every tensor with its type,
// in output order, and the output metadata.
type Plan struct {
	Preset   Preset
	Tensors  []Tensor
	Metadata format.Metadata
}

// Totals returns the sizes of all tensor data in the input and the output.
func (p *Plan) Totals() (in, out int64) {
	for _, t := range p.Tensors {
		in += t.InBytes
		out += t.OutBytes
	}
	return in, out
}

// Fallbacks counts the tensors whose type was replaced by a fallback.
func (p *Plan) Fallbacks() int {
	n := 0
	for _, t := range p.Tensors {
		if t.Wanted.Valid() {
			n++
		}
	}
	return n
}

// The metadata keys llama-quantize sets or removes.
const (
	keyQuantVersion = "general.quantization_version"
	keyFileType     = "general.file_type"
	// quantVersion is GGML_QNT_VERSION.
	quantVersion = 2
)

// splitKeys are the keys of split files, which llama-quantize drops.
var splitKeys = []string{"split.no", "split.count", "split.tensors.count"}

// NewPlan decides what quantizing src with opt writes, as llama-quantize
// would: the tensors in its processing order, each with its type, and the
// metadata. It reads no tensor data. A tensor whose type cannot be written
// (no codec, or rows that no fallback fits) gives an error naming it.
func NewPlan(src format.Source, opt Options) (*Plan, error) {
	if !opt.Preset.Base.Valid() {
		return nil, fmt.Errorf("quantize: no quantization type given: %w", format.ErrUnsupported)
	}
	infos := append([]format.TensorInfo(nil), src.Tensors()...)
	sortLlamaQuantize(infos)
	names := make([]string, len(infos))
	for i, t := range infos {
		names[i] = t.Name
	}
	sel := newSelector(opt.Preset, readHParams(src.Metadata(), names), names)
	plan := &Plan{Preset: opt.Preset, Tensors: make([]Tensor, len(infos)), Metadata: outputMetadata(src.Metadata(), opt.Preset)}
	for i, t := range infos {
		pt, err := planTensor(sel, t, opt.Keep)
		if err != nil {
			return nil, err
		}
		plan.Tensors[i] = pt
	}
	return plan, nil
}

// planTensor chooses the output type of t and checks that it can be
// written.
func planTensor(sel *selector, t format.TensorInfo, keep *regexp.Regexp) (Tensor, error) {
	in, err := t.NumBytes()
	if err != nil {
		return Tensor{}, err
	}
	c, err := sel.choose(t)
	if err != nil {
		return Tensor{}, err
	}
	pt := Tensor{In: t, Out: c.got, InBytes: in}
	if c.want != c.got {
		pt.Wanted = c.want
	}
	switch {
	case keep != nil && keep.MatchString(t.Name):
		pt.Out, pt.Wanted, pt.Kept = t.DType, format.Invalid, true
	case t.DType.IsInt():
		pt.Out, pt.Wanted = t.DType, format.Invalid // integer tables are never quantized
	}
	if pt.Out != t.DType {
		if !format.CanDecode(t.DType) {
			return Tensor{}, fmt.Errorf("tensor %q: cannot convert %v to %v: %w", t.Name, t.DType, pt.Out, format.ErrUnsupported)
		}
		if !format.CanEncode(pt.Out) {
			return Tensor{}, fmt.Errorf("tensor %q: no encoder for %v: %w", t.Name, pt.Out, format.ErrUnsupported)
		}
	}
	if pt.OutBytes, err = pt.Info().NumBytes(); err != nil {
		return Tensor{}, err
	}
	return pt, nil
}

// outputMetadata is llama-quantize's KV list: the input's, without the
// split keys, with general.quantization_version and general.file_type
// removed from their places and appended, in that order.
func outputMetadata(md format.Metadata, p Preset) format.Metadata {
	out := md.Clone()
	for _, k := range append(splitKeys, keyQuantVersion, keyFileType) {
		out.Delete(k)
	}
	return append(out,
		format.KV{Key: keyQuantVersion, Value: uint32(quantVersion)},
		format.KV{Key: keyFileType, Value: uint32(p.FileType)})
}
