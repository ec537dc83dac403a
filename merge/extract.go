package merge

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/resolve"
)

// ExtractOptions control Extract. Exactly one of Rank and Energy is set.
type ExtractOptions struct {
	// Rank is the rank of every module.
	Rank int
	// Energy in (0, 1] picks each module's rank: the smallest k whose
	// singular values hold that share of ‖ΔW‖²_F (at most MaxRank).
	Energy float64
	// MaxRank bounds Energy's ranks (default 64).
	MaxRank int
	// Targets selects tensors by name (full match); nil takes every 2-D
	// floating-point weight except embeddings.
	Targets *regexp.Regexp
	// PowerIters and Oversample tune the randomized SVD (defaults 2, 10).
	PowerIters, Oversample int
	// Seed drives the random sketch (results are deterministic per seed).
	Seed uint64
	// Progress, if set, is called after each module.
	Progress func(done, total int, name string)
}

// ModuleReport describes one extracted module.
type ModuleReport struct {
	// Module is the adapter module written; Tensor and Shape are the base
	// tensor whose difference it approximates, Rank the rank it got.
	Module string  `json:"module"`
	Tensor string  `json:"tensor"`
	Shape  []int64 `json:"shape"`
	Rank   int     `json:"rank"`
	// Energy is the share of ‖ΔW‖²_F the rank keeps; RelError is
	// ‖ΔW − B·A‖_F / ‖ΔW‖_F = √(1 − Energy).
	Energy   float64 `json:"energy"`
	RelError float64 `json:"rel_error"`
}

// ExtractResult is what Extract returns.
type ExtractResult struct {
	// Adapter approximates tuned − base (write it with lora.Write).
	Adapter *lora.Adapter
	// Modules describes each extracted module, in the base's tensor order.
	Modules []ModuleReport
	// NotExtracted names the tensors that differ between base and tuned
	// but were not selected (norms, biases, embeddings, non-targets): the
	// adapter does not carry their change.
	NotExtracted []string
}

// defaultSkip are tensors the default selection leaves out: embeddings
// and the tied head (mergekit saves those whole or as embedding LoRAs).
var defaultSkip = regexp.MustCompile(`(^|\.)(wte|wpe|embed_tokens|token_embd|position_embd|embed_positions)\.weight$`)

// Extract returns the LoRA adapter that best approximates tuned − base per
// module (mergekit-extract-lora): a truncated SVD ΔW ≈ U·S·Vᵀ gives
// B = U·√S (out, r) and A = √S·Vᵀ (r, in) with alpha = r (scale 1);
// per-module ranks go to rank_pattern/alpha_pattern. GPT-2 Conv1D weights
// (stored (in, out)) give fan_in_fan_out modules. Tensors that differ but
// are not extracted (norms, biases, embeddings) are returned by name so
// the caller can warn. base and tuned are paths (GGUF files, safetensors
// files or Hugging Face directories); ExtractSources takes checkpoints
// already open.
func Extract(ctx context.Context, basePath, tunedPath string, opt ExtractOptions) (*ExtractResult, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	b, err := openBase(basePath)
	if err != nil {
		return nil, err
	}
	defer b.Src.Close()
	t, err := openBase(tunedPath)
	if err != nil {
		return nil, err
	}
	defer t.Src.Close()
	return extract(ctx, b, t, opt)
}

// ExtractSources is Extract on two checkpoints already open: GGUF or
// safetensors Sources with the same tensors. Messages name them by their
// container. It does not close them.
func ExtractSources(ctx context.Context, base, tuned format.Source, opt ExtractOptions) (*ExtractResult, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	b, err := sourceBase(base)
	if err != nil {
		return nil, err
	}
	t, err := sourceBase(tuned)
	if err != nil {
		return nil, err
	}
	return extract(ctx, b, t, opt)
}

// check refuses options that do not pick exactly one of Rank and Energy
// or are out of range.
func (opt ExtractOptions) check() error {
	if (opt.Rank > 0) == (opt.Energy > 0) {
		return fmt.Errorf("extract: give a rank or an energy share, not both or neither: %w", format.ErrInvalidOption)
	}
	if opt.Energy > 1 || math.IsNaN(opt.Energy) || opt.Rank < 0 {
		return fmt.Errorf("extract: energy %g / rank %d out of range: %w", opt.Energy, opt.Rank, format.ErrInvalidOption)
	}
	return nil
}

// extract is Extract on the opened base b and tuned checkpoint t.
func extract(ctx context.Context, b, t *base, opt ExtractOptions) (*ExtractResult, error) {
	maxRank := opt.Rank
	if opt.Energy > 0 {
		maxRank = opt.MaxRank
		if maxRank <= 0 {
			maxRank = 64
		}
	}
	svdOpt := svdOptions{oversample: 10, powerIters: 2, seed: opt.Seed}
	if opt.Oversample > 0 {
		svdOpt.oversample = opt.Oversample
	}
	if opt.PowerIters > 0 {
		svdOpt.powerIters = opt.PowerIters
	}
	tuned := map[string]format.TensorInfo{}
	for _, ti := range t.Src.Tensors() {
		tuned[ti.Name] = ti
	}
	var selected []format.TensorInfo
	var skipped []string
	for _, bi := range b.Src.Tensors() {
		ti, ok := tuned[bi.Name]
		if !ok {
			return nil, fmt.Errorf("extract: tensor %q of base %s is missing from %s: %w", bi.Name, b.Name(), t.Name(), format.ErrNotFound)
		}
		if !format.SameShape(bi.Shape, ti.Shape) {
			return nil, fmt.Errorf("extract: tensor %q is %v in base %s but %v in %s: %w", bi.Name, bi.Shape, b.Name(), ti.Shape, t.Name(), format.ErrShape)
		}
		take := len(bi.Shape) == 2 && !bi.DType.IsInt() && format.CanDecode(bi.DType) && format.CanDecode(ti.DType)
		if opt.Targets != nil {
			take = take && opt.Targets.MatchString(bi.Name)
		} else {
			take = take && strings.HasSuffix(bi.Name, ".weight") && !defaultSkip.MatchString(bi.Name)
		}
		if take {
			selected = append(selected, bi)
		} else if differs(b.Src, t.Src, bi.Name) {
			skipped = append(skipped, bi.Name)
		}
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("extract: no 2-D weight of %s matches the targets: %w", b.Name(), format.ErrNotFound)
	}
	out := &lora.Adapter{Kind: lora.KindPEFT, DType: format.F32}
	if b.Kind == resolve.KindGGUF {
		out.Kind = lora.KindGGUF
		if b.Arch != nil {
			out.Arch = b.Arch.Name
		}
	}
	var reps []ModuleReport
	var bufB, bufT []float32
	for i, info := range selected {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rows, cols := int(info.Shape[0]), int(info.Shape[1])
		var err error
		bufB, err = decodeInto(bufB, b.Src, info)
		if err == nil {
			bufT, err = decodeInto(bufT, t.Src, tuned[info.Name])
		}
		if err != nil {
			return nil, err
		}
		d := bufT
		for j := range d {
			d[j] -= bufB[j]
		}
		if k := firstNonFinite(d); k >= 0 {
			return nil, fmt.Errorf("extract: tensor %q: non-finite difference at %d: %w", info.Name, k, format.ErrFormat)
		}
		total := sumSquares(d)
		format.Release(b.Src, info.Name)
		format.Release(t.Src, info.Name)
		if total == 0 {
			continue // unchanged
		}
		k := min(maxRank, rows, cols)
		f, err := truncatedSVD(d, rows, cols, k, svdOpt)
		if err != nil {
			return nil, fmt.Errorf("extract: tensor %q: %w", info.Name, err)
		}
		if opt.Energy > 0 {
			k = min(k, rankForEnergy(f.S, total, opt.Energy))
		}
		k = min(k, len(f.S))
		share, rel := keptEnergy(f.S, k, total)
		m := extractedModule(b, info.Name, rows, cols, k, f)
		out.Modules = append(out.Modules, m)
		reps = append(reps, ModuleReport{Module: m.Name, Tensor: info.Name, Shape: info.Shape, Rank: k, Energy: share, RelError: rel})
		if opt.Progress != nil {
			opt.Progress(i+1, len(selected), info.Name)
		}
	}
	if len(out.Modules) == 0 {
		return nil, fmt.Errorf("extract: %s and %s do not differ in any selected tensor: %w", b.Name(), t.Name(), format.ErrNotFound)
	}
	r := 0
	for _, m := range out.Modules {
		r = max(r, m.Rank)
	}
	out.Config = lora.NewConfig(r, float64(r))
	out.Config.BaseModel = b.Path
	if err := out.SyncConfig(); err != nil {
		return nil, err
	}
	return &ExtractResult{Adapter: out, Modules: reps, NotExtracted: skipped}, nil
}

// extractedModule builds the module for tensor name (rows, cols) from its
// truncated SVD, in nn.Linear orientation.
func extractedModule(b *base, name string, rows, cols, k int, f *factors) *lora.Module {
	f = f.truncate(k)
	m := &lora.Module{Name: strings.TrimSuffix(name, ".weight"), Rank: k, Alpha: float64(k)}
	fam, conv1D := hfArch(b, name)
	if b.Kind != resolve.KindGGUF && conv1D {
		// Stored (in, out) = U·S·Vᵀ, so ΔW = V·S·Uᵀ: B from V, A from U.
		m.FanInFanOut, m.In, m.Out = true, rows, cols
		f = &factors{U: f.V, V: f.U, S: f.S}
	} else {
		m.In, m.Out = cols, rows
	}
	m.B, m.A = toModuleFactors(f, k, m.Out, m.In, 0.5)
	if b.Kind != resolve.KindGGUF && fam != nil && fam.PEFTPrefix != "" && !strings.HasPrefix(m.Name, fam.PEFTPrefix) {
		m.Name = fam.PEFTPrefix + m.Name // PEFT sees GPT2LMHeadModel's "transformer."
	}
	return m
}

// hfArch returns the architecture table an HF tensor name belongs to (the
// base's, from config.json's model_type, or else any table whose names
// match) and whether the tensor is stored (in, out), as GPT-2's Conv1D.
func hfArch(b *base, name string) (*arch.Family, bool) {
	fams := []*arch.Family{b.Arch}
	if b.Arch == nil {
		fams = nil
		for _, n := range arch.Names() {
			if f, err := arch.Lookup(n); err == nil {
				fams = append(fams, f)
			}
		}
	}
	for _, f := range fams {
		if _, tn, ok := f.GGUFName(name); ok {
			return f, tn.Transform == arch.Transpose
		}
	}
	return b.Arch, false
}

// decodeInto decodes a tensor into buf (grown as needed).
func decodeInto(buf []float32, src format.Source, info format.TensorInfo) ([]float32, error) {
	n, err := info.NumElements()
	if err != nil {
		return nil, err
	}
	if int64(cap(buf)) < n {
		buf = make([]float32, n)
	}
	buf = buf[:n]
	data, err := src.TensorData(info.Name)
	if err != nil {
		return nil, err
	}
	rows, cols, err := matrixDims(info)
	if err != nil {
		return nil, err
	}
	rowBytes, err := info.DType.RowBytes(int64(cols))
	if err != nil {
		return nil, err
	}
	if err := decodeRows(buf, data, rows, cols, rowBytes, info.DType); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", info.Name, err)
	}
	return buf, nil
}

// differs reports whether a tensor's bytes differ between two sources.
func differs(a, b format.Source, name string) bool {
	x, err1 := a.TensorData(name)
	y, err2 := b.TensorData(name)
	return err1 != nil || err2 != nil || string(x) != string(y)
}
