package quantize

import (
	"fmt"
	"regexp"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf/quant"
)

// Tensor is one tensor of a Plan: what it is in the input and what it
// becomes.
type Tensor struct {
	// In is the tensor as stored in the input.
	In format.TensorInfo
	// Name is its name in the output: In.Name, or with its block
	// renumbered after --prune-layers.
	Name string
	// Out is its type in the output (In.DType when it is copied).
	Out format.DType
	// Wanted is the type the mixture rules asked for, when a fallback
	// replaced it because the rows are not a whole number of its blocks;
	// Invalid otherwise.
	Wanted format.DType
	// Kept reports a tensor that --keep left in its input type.
	Kept bool
	// Importance is the per-column importance (Cols x experts values)
	// that weights its quantizer, or nil.
	Importance []float32
	// InBytes and OutBytes are the sizes of its data in the input and in
	// the output.
	InBytes, OutBytes int64
}

// Info is the tensor as the output declares it.
func (t Tensor) Info() format.TensorInfo {
	return format.TensorInfo{Name: t.Name, DType: t.Out, Shape: t.In.Shape}
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
// would: the tensors in its processing order (without pruned blocks), each
// with its type and importance data, and the metadata. It reads no tensor
// data. Whatever llama-quantize refuses is refused here, before anything
// is written: a type that needs importance data without it
// (ErrImatrixRequired), an importance entry of the wrong size (ErrShape),
// non-finite importance values. Whether each type can be encoded is
// checked by Write (see CheckCodecs).
func NewPlan(src format.Source, opt Options) (*Plan, error) {
	if !opt.Preset.Base.Valid() {
		return nil, fmt.Errorf("quantize: no quantization type given: %w", format.ErrUnsupported)
	}
	if opt.KeepSplit {
		return nil, fmt.Errorf("quantize: --keep-split: split GGUF inputs are not read yet: %w", format.ErrUnsupported)
	}
	imp, impMD, err := prepareImportance(&opt)
	if err != nil {
		return nil, err
	}
	infos := append([]format.TensorInfo(nil), src.Tensors()...)
	sortLlamaQuantize(infos)
	kept, newNames, blocks := pruneLayers(infos, opt.PruneLayers)
	sel := newSelector(&opt, readHParams(src.Metadata(), infosNames(infos)), newNames, imp != nil)
	md := outputMetadata(src.Metadata(), opt.Preset, append(append(format.Metadata(nil), opt.OverrideKV...), impMD...))
	if len(opt.PruneLayers) > 0 {
		if arch, ok := src.Metadata().String("general.architecture"); ok {
			md.Delete(arch + ".block_count")
			md = append(md, format.KV{Key: arch + ".block_count", Value: uint32(blocks)})
		}
	}
	plan := &Plan{Preset: opt.Preset, Tensors: make([]Tensor, len(kept)), Metadata: md}
	for i, t := range kept {
		renamed := t
		renamed.Name = newNames[i]
		pt, err := planTensor(sel, renamed, opt.Keep)
		if err != nil {
			return nil, err
		}
		pt.In, pt.Name = t, newNames[i]
		if err := attachImportance(&pt, imp, &opt); err != nil {
			return nil, err
		}
		plan.Tensors[i] = pt
	}
	for i, used := range sel.used {
		if !used {
			opt.warn("--tensor-type %s=%v matched no tensor", opt.TensorTypes[i].Pattern, opt.TensorTypes[i].Type)
		}
	}
	return plan, nil
}

// attachImportance finds the importance data of a tensor that is
// converted (llama-quantize looks it up, and checks its size, for every
// tensor whose type changes), and refuses a type that needs it when there
// is none.
func attachImportance(pt *Tensor, imp importance, opt *Options) error {
	if pt.Out == pt.In.DType {
		return nil // copied: llama-quantize looks nothing up
	}
	needs := requiresImatrix(pt.Name, pt.Out, opt.Preset.FileType)
	if imp == nil {
		switch {
		case needs && opt.dryRun:
			opt.warn("tensor %s: type %v will require an importance matrix", pt.Name, pt.Out)
		case needs:
			return fmt.Errorf("tensor %q: type %v: %w", pt.Name, pt.Out, ErrImatrixRequired)
		}
		return nil
	}
	w, found, err := imp.lookup(format.TensorInfo{Name: pt.Name, Shape: pt.In.Shape}, pt.In.Name)
	if err != nil {
		return err
	}
	if !found {
		opt.warn("did not find importance data for %s", pt.Name)
	}
	if w == nil && needs {
		return fmt.Errorf("missing importance matrix for tensor %q in a very low-bit quantization (%v): %w", pt.Name, pt.Out, ErrImatrixRequired)
	}
	pt.Importance = w
	return nil
}

// infosNames lists the names of infos.
func infosNames(infos []format.TensorInfo) []string {
	names := make([]string, len(infos))
	for i, t := range infos {
		names[i] = t.Name
	}
	return names
}

// CheckCodecs returns an error naming the first tensor whose conversion
// has no codec (a type whose quantizer or dequantizer lorakit lacks), or
// whose type can only be made with importance data it does not have.
func (p *Plan) CheckCodecs() error {
	for _, t := range p.Tensors {
		if t.Out == t.In.DType {
			continue
		}
		if !format.CanDecode(t.In.DType) {
			return fmt.Errorf("tensor %q: cannot convert %v to %v: %w", t.Name, t.In.DType, t.Out, format.ErrUnsupported)
		}
		if !format.CanEncode(t.Out) && !quant.CanQuantizeWeighted(t.Out) {
			return fmt.Errorf("tensor %q: no encoder for %v: %w", t.Name, t.Out, format.ErrUnsupported)
		}
		if t.Out.IsBlock() && t.Importance == nil && !quant.CanQuantize(t.Out) {
			// ggml asserts here (IQ1_S, IQ2_XXS, IQ2_XS given to the token
			// embedding or output, which llama-quantize does not check).
			return fmt.Errorf("tensor %q: %v cannot be made without importance data: %w", t.Name, t.Out, ErrImatrixRequired)
		}
	}
	return nil
}

// planTensor chooses the output type of t.
func planTensor(sel *selector, t format.TensorInfo, keep *regexp.Regexp) (Tensor, error) {
	in, err := t.NumBytes()
	if err != nil {
		return Tensor{}, err
	}
	c, err := sel.choose(t)
	if err != nil {
		return Tensor{}, err
	}
	pt := Tensor{In: t, Name: t.Name, Out: c.got, InBytes: in}
	if c.want != c.got {
		pt.Wanted = c.want
	}
	switch {
	case keep != nil && keep.MatchString(t.Name):
		pt.Out, pt.Wanted, pt.Kept = t.DType, format.Invalid, true
	case t.DType.IsInt():
		pt.Out, pt.Wanted = t.DType, format.Invalid // integer tables are never quantized
	}
	if pt.OutBytes, err = pt.Info().NumBytes(); err != nil {
		return Tensor{}, err
	}
	return pt, nil
}

// outputMetadata is llama-quantize's KV list: the input's, without the
// split keys, with general.quantization_version and general.file_type
// removed from their places and appended, in that order, then each
// override (a key that exists moves to the end, as gguf_set_val does).
func outputMetadata(md format.Metadata, p Preset, overrides format.Metadata) format.Metadata {
	out := md.Clone()
	for _, k := range append(splitKeys, keyQuantVersion, keyFileType) {
		out.Delete(k)
	}
	out = append(out,
		format.KV{Key: keyQuantVersion, Value: uint32(quantVersion)},
		format.KV{Key: keyFileType, Value: uint32(p.FileType)})
	for _, kv := range overrides {
		out.Delete(kv.Key)
		out = append(out, kv)
	}
	return out
}
