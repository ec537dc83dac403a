package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/internal/mmap"
	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/resolve"
)

// Status says how a release tensor relates to its re-derivation.
type Status string

// Tensor statuses. BitExact and Rounding are explained; the others offend.
const (
	BitExact   Status = "bit-exact"  // byte for byte what lorakit derives
	Rounding   Status = "rounding"   // within the dtype's rounding (see Note)
	Different  Status = "different"  // beyond rounding (MaxAbs, MaxRel)
	NotMerged  Status = "not-merged" // equals the base: an adapter's update is missing
	Missing    Status = "missing"    // in the base, absent from the release
	Unexpected Status = "unexpected" // in the release, absent from the base
	Failed     Status = "failed"     // could not be derived or compared (Note says why)
)

// Explained reports whether a status accounts for the tensor.
func (s Status) Explained() bool { return s == BitExact || s == Rounding }

// Options control Verify.
type Options struct {
	// Base is the base checkpoint the release was made from.
	Base string
	// Adapters are the adapters merged into it, each with its scale. None:
	// the release should be the base itself, cast or quantized.
	Adapters []merge.Input
	// Logits, when positive, also compares the next-token logits of the
	// release with the base running the adapters at run time on that many
	// prompts (see Logits; informative: it does not decide OK).
	Logits int
	// Progress, if set, is called after each tensor.
	Progress func(done, total int, name string)
}

// TensorResult is the verdict on one release tensor.
type TensorResult struct {
	Name   string  `json:"name"`
	DType  string  `json:"dtype"`
	Status Status  `json:"status"`
	MaxAbs float64 `json:"max_abs,omitempty"`
	MaxRel float64 `json:"max_rel,omitempty"`
	// Merged names the updates the adapters make to the tensor.
	Merged []string `json:"merged,omitempty"`
	Note   string   `json:"note,omitempty"`
}

// Report is the outcome of Verify.
type Report struct {
	Release  string         `json:"release"`
	Base     string         `json:"base"`
	Adapters []string       `json:"adapters"`
	Tensors  []TensorResult `json:"tensors"`
	Metadata []MetaResult   `json:"metadata"`
	// Logits is the logits comparison, when asked for.
	Logits *LogitsReport `json:"logits,omitempty"`
	// Offending names every tensor and metadata item not explained.
	Offending []string `json:"offending"`
	// OK: everything is explained.
	OK bool `json:"ok"`
}

// Verify re-derives every tensor of the release at path (a GGUF file or
// the first shard of a split set, a safetensors file, a Hugging Face
// directory) from the base and adapters with merge's kernels and codecs,
// streaming one tensor at a time, and reports on each tensor and on the
// metadata carried from the base. Errors are for inputs that cannot be
// read; a release that does not match is a Report with OK false.
func Verify(ctx context.Context, path string, opt Options) (*Report, error) {
	rel, ggufNamed, err := openRelease(path, opt.Base)
	if err != nil {
		return nil, err
	}
	defer rel.Close()
	open := resolve.Open
	if ggufNamed {
		open = resolve.OpenGGUFView // a GGUF release of a Hugging Face base
	}
	b, err := open(opt.Base)
	if err != nil {
		return nil, err
	}
	if b.GGUFNames() != ggufNamed {
		b.Close()
		return nil, fmt.Errorf("release %s names its tensors as %s but the base %s as %s; convert one to the other's form first: %w",
			path, naming(ggufNamed), opt.Base, naming(b.GGUFNames()), format.ErrUnsupported)
	}
	d, err := merge.Derive(b, opt.Adapters)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	rep := &Report{Release: path, Base: opt.Base, Adapters: []string{}, Tensors: []TensorResult{}, Offending: []string{}}
	for _, in := range opt.Adapters {
		rep.Adapters = append(rep.Adapters, fmt.Sprintf("%s:%g", in.Path, in.Scale))
	}
	seen := map[string]bool{}
	infos := rel.Tensors()
	for i, t := range infos {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		seen[t.Name] = true
		r := tensor(d, rel, t)
		rep.add(r)
		if opt.Progress != nil {
			opt.Progress(i+1, len(infos), t.Name)
		}
	}
	var missing []string
	for _, t := range d.Base().Src.Tensors() {
		if !seen[t.Name] && !droppedOnPurpose(t.Name, rel) {
			missing = append(missing, t.Name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		rep.add(TensorResult{Name: name, Status: Missing, Merged: d.Updates(name), Note: "in the base but not in the release"})
	}
	for _, m := range checkMetadata(d.Base(), rel, path) {
		rep.Metadata = append(rep.Metadata, m)
		if !m.Status.Explained() {
			rep.Offending = append(rep.Offending, "metadata "+m.Key)
		}
	}
	if opt.Logits > 0 {
		if rep.Logits, err = Logits(path, opt.Base, opt.Adapters, opt.Logits); err != nil {
			return nil, err
		}
	}
	rep.OK = len(rep.Offending) == 0
	return rep, nil
}

func (rep *Report) add(r TensorResult) {
	rep.Tensors = append(rep.Tensors, r)
	if !r.Status.Explained() {
		rep.Offending = append(rep.Offending, r.Name)
	}
}

// droppedOnPurpose: rope_freqs.weight is computed, not stored, by Hugging
// Face models, so a conversion between the two may drop it.
func droppedOnPurpose(name string, rel format.Source) bool {
	return name == "rope_freqs.weight" && rel.Format() != "gguf"
}

// tensor verifies one release tensor against the derivation.
func tensor(d *merge.Derivation, rel format.Source, t format.TensorInfo) TensorResult {
	res := TensorResult{Name: t.Name, DType: t.DType.String(), Merged: d.Updates(t.Name)}
	defer format.Release(rel, t.Name)
	defer d.Release(t.Name)
	b, ok := d.Base().Info(t.Name)
	if !ok {
		res.Status, res.Note = Unexpected, "the base has no such tensor"
		return res
	}
	if !format.SameShape(b.Shape, t.Shape) {
		res.Status, res.Note = Different, fmt.Sprintf("shape %v, the base's is %v", t.Shape, b.Shape)
		return res
	}
	got, err := rel.TensorData(t.Name)
	if err != nil {
		return failed(res, err)
	}
	c, err := compareDerived(d, t, got, d.Tensor)
	if err != nil {
		return failed(res, err)
	}
	res.MaxAbs, res.MaxRel = c.maxAbs, c.maxRel
	switch {
	case c.exact:
		res.Status = BitExact
	case c.within:
		res.Status, res.Note = Rounding, c.note
	default:
		res.Status = Different
		if len(res.Merged) > 0 {
			if u, err := compareDerived(d, t, got, d.Unmerged); err == nil && u.within {
				res.Status, res.Note = NotMerged, "equals the base's tensor: the adapter's update is missing"
			}
		}
	}
	return res
}

// compareDerived compares a release tensor with what derive gives for it
// (the merge, or the base alone).
func compareDerived(d *merge.Derivation, t format.TensorInfo, got []byte, derive func(string, format.DType) ([]byte, error)) (comparison, error) {
	want, err := derive(t.Name, t.DType)
	if err != nil {
		return comparison{}, err
	}
	if !t.DType.IsBlock() {
		return compareFloat(t, got, want)
	}
	if mmap.EqualReleasing(got, want) {
		return comparison{exact: true, within: true}, nil
	}
	want = append([]byte(nil), want...) // derive's buffer is reused below
	raw, err := derive(t.Name, format.F32)
	if err != nil {
		return comparison{}, err
	}
	n, _ := t.NumElements()
	x := make([]float32, n)
	if err := format.ToFloat32(x, raw, format.F32); err != nil {
		return comparison{}, err
	}
	return compareBlocks(t, got, want, x)
}

func failed(res TensorResult, err error) TensorResult {
	res.Status, res.Note = Failed, err.Error()
	return res
}

// openRelease opens the release: a GGUF file or split set, a safetensors
// file or a Hugging Face directory. It reports whether the release names
// its tensors as llama.cpp does: a GGUF does, and so is a Hugging Face
// directory released from a base with llama.cpp names (GGUF, llama2.c),
// seen through its llama.cpp-named view (exact layout transforms).
func openRelease(path, base string) (format.Source, bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, false, fmt.Errorf("release %s: %w: %w", path, format.ErrNotFound, err)
		}
		return nil, false, fmt.Errorf("release %s: %w", path, err)
	}
	if st.IsDir() {
		if bst, err := os.Stat(base); err == nil && !bst.IsDir() && convert.IsHFDir(path) {
			if kind, err := format.Detect(base); err == nil && (kind == "gguf" || kind == "llama2c") {
				src, _, err := convert.OpenModel(path, "")
				return src, true, err
			}
		}
		src, err := safetensors.OpenDir(path)
		return src, false, err
	}
	src, err := format.Open(path)
	if err != nil {
		return nil, false, err
	}
	return src, src.Format() == "gguf", nil
}

func naming(gguf bool) string {
	if gguf {
		return "llama.cpp (GGUF)"
	}
	return "Hugging Face"
}
