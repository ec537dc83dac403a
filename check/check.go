package check

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/lorakit/lorakit/convert/quantize"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/resolve"
)

// Options control Check.
type Options struct {
	// Adapters to check, each with the scale it would be merged at.
	Adapters []merge.Input
	// Quants are the types survival is measured for; none: the base's own
	// type when it is quantized, else Q8_0.
	Quants []quantize.Preset
	// Module, if set, restricts the per-module report (and survival) to
	// modules whose name it matches.
	Module *regexp.Regexp
}

// Report is the pre-flight report.
type Report struct {
	Base string `json:"base"`
	Arch string `json:"architecture"`
	// BaseType is the base's quantization preset ("" for a float base).
	BaseType string   `json:"base_type,omitempty"`
	Quants   []string `json:"survival_types"`
	// VocabSize and EmbeddingRows: the tokenizer's size and the token
	// embedding's rows (0 when unknown).
	VocabSize     int64           `json:"vocab_size,omitempty"`
	EmbeddingRows int64           `json:"embedding_rows,omitempty"`
	TiedEmbedding bool            `json:"tied_embedding"`
	Adapters      []AdapterReport `json:"adapters"`
	// Untouched groups the base's 2-D weights no adapter updates, by kind
	// ("blk.N.ffn_up.weight" -> layers).
	Untouched []Group  `json:"untouched"`
	Warnings  []string `json:"warnings"`
	Blockers  []string `json:"blockers"`
	OK        bool     `json:"ok"`
}

// Group is a kind of base weight and how many layers have it.
type Group struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

// AdapterReport describes one adapter.
type AdapterReport struct {
	Path      string  `json:"path"`
	Kind      string  `json:"kind"`
	UserScale float64 `json:"user_scale"`
	BaseModel string  `json:"base_model,omitempty"`
	RSLoRA    bool    `json:"rslora"`
	DoRA      bool    `json:"dora"`
	Init      string  `json:"init_lora_weights,omitempty"`
	// Saved lists modules_to_save tensors and the base tensor each replaces.
	Saved   []string       `json:"modules_to_save,omitempty"`
	Modules []ModuleReport `json:"modules"`
}

// ModuleReport is one adapted module.
type ModuleReport struct {
	Name   string `json:"name"`
	Target string `json:"target,omitempty"`
	Shape  [2]int `json:"shape"` // ΔW: (out, in)
	Rank   int    `json:"rank"`
	// Alpha and Scale as the adapter defines them (rank_pattern,
	// alpha_pattern and rsLoRA resolved): Scale = Alpha/Rank, or
	// Alpha/√Rank with rsLoRA. Effective multiplies in the user scale.
	Alpha     float64 `json:"alpha"`
	Scale     float64 `json:"scale"`
	Effective float64 `json:"effective_scale"`
	// Pattern says where rank or alpha came from when not the defaults.
	Pattern string `json:"pattern,omitempty"`
	DoRA    bool   `json:"dora,omitempty"`
	// DeltaNorm is ‖ΔW‖_F (effective scale included), WNorm ‖W‖_F.
	DeltaNorm float64 `json:"delta_norm,omitempty"`
	WNorm     float64 `json:"w_norm,omitempty"`
	// Survival maps a quantization preset to what a release of this
	// tensor, with the type llama-quantize gives it under that preset,
	// keeps of the update.
	Survival map[string]Survival `json:"survival,omitempty"`
	Problem  string              `json:"problem,omitempty"`
}

// Survival is what a quantized release keeps of an update ΔW. With
// q = Q(W+ΔW) − Q(W), the change the quantized tensor actually applies:
//
//	Cosine = ⟨q, ΔW⟩ / (‖q‖‖ΔW‖)  how much of the applied change is the update:
//	                              1 all of it, 0 none (rounding noise only)
//	Ratio  = ‖q‖ / ‖ΔW‖           the size of the applied change; rounding noise
//	                              counts in it, so it exceeds 1 (and grows as the
//	                              type coarsens) where ΔW is below the step
//	Error  = ‖q − ΔW‖ / ‖ΔW‖      how far the applied change is from ΔW
//
// Rounding is unbiased, so q's projection on ΔW stays ΔW; what coarser
// types lose is the share of q that is ΔW rather than noise: Cosine falls
// and Error rises as the type coarsens.
type Survival struct {
	Type   string  `json:"type"` // the tensor's type under the preset
	Cosine float64 `json:"cosine"`
	Ratio  float64 `json:"ratio"`
	Error  float64 `json:"error"`
}

// Check opens the base and every adapter and reports, before anything is
// merged or converted, whether they fit and what the adapters do. Errors
// are for inputs that cannot be read (a malformed adapter is one); misfits
// are Blockers in the report, doubtful choices Warnings.
func Check(ctx context.Context, basePath string, opt Options) (*Report, error) {
	rep := &Report{Base: basePath, Adapters: []AdapterReport{}, Untouched: []Group{}, Warnings: []string{}, Blockers: []string{}}
	// A Hugging Face directory is seen as llama.cpp will hold it (names,
	// layouts), so that survival uses llama-quantize's per-tensor types.
	b, err := resolve.OpenGGUFView(basePath)
	if errors.Is(err, format.ErrUnsupported) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("base %s: %v; modules are matched by Hugging Face name and survival uses each preset's type without llama-quantize's per-tensor mixtures", basePath, err))
		b, err = resolve.Open(basePath)
	}
	if err != nil {
		return nil, err
	}
	defer b.Close()
	describe(b, rep)
	if p, ok := basePreset(b); ok {
		rep.BaseType = p.Name
	}
	quants, err := survivalTypes(b, opt.Quants)
	if err != nil {
		return nil, err
	}
	for _, q := range quants {
		rep.Quants = append(rep.Quants, q.Name)
	}
	types := plannedTypes(b, quants)
	touched := map[string]bool{}
	for _, in := range opt.Adapters {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		a, err := in.Load()
		if err != nil {
			return nil, err
		}
		ar, err := checkAdapter(ctx, b, a, in, opt, quants, types, touched, rep)
		if err != nil {
			return nil, err
		}
		rep.Adapters = append(rep.Adapters, ar)
	}
	rep.Untouched = untouched(b, touched)
	rep.OK = len(rep.Blockers) == 0
	return rep, nil
}

// describe fills the base's architecture, type, vocabulary and embedding.
func describe(b *resolve.Base, rep *Report) {
	if b.Arch != nil {
		rep.Arch = b.Arch.Name
	} else if s, ok := b.Src.Metadata().String("general.architecture"); ok {
		rep.Arch = s
	}
	md := b.Src.Metadata()
	if v, ok := md.Get("tokenizer.ggml.tokens"); ok {
		if toks, ok := v.([]string); ok {
			rep.VocabSize = int64(len(toks))
		}
	}
	var emb, out string
	for _, t := range b.Src.Tensors() {
		switch {
		case isEmbedding(t.Name):
			emb = t.Name
			rep.EmbeddingRows = t.Shape[0]
		case isHead(t.Name):
			out = t.Name
		}
	}
	rep.TiedEmbedding = emb != "" && out == ""
	if rep.VocabSize > 0 && rep.EmbeddingRows > 0 && rep.EmbeddingRows < rep.VocabSize {
		rep.Blockers = append(rep.Blockers, fmt.Sprintf("the tokenizer has %d tokens but the embedding only %d rows", rep.VocabSize, rep.EmbeddingRows))
	}
}

func isEmbedding(name string) bool {
	for _, s := range []string{"token_embd.weight", "embed_tokens.weight", "wte.weight", "word_embeddings.weight"} {
		if name == s || strings.HasSuffix(name, "."+s) {
			return true
		}
	}
	return false
}

func isHead(name string) bool {
	return name == "output.weight" || name == "lm_head.weight" || strings.HasSuffix(name, ".lm_head.weight")
}

// checkAdapter reports one adapter's modules and records what they touch.
func checkAdapter(ctx context.Context, b *resolve.Base, a *lora.Adapter, in merge.Input, opt Options,
	quants []quantize.Preset, types map[string]map[string]format.DType, touched map[string]bool, rep *Report) (AdapterReport, error) {
	ar := AdapterReport{Path: in.Path, Kind: string(a.Kind), UserScale: in.Scale, Modules: []ModuleReport{}}
	if c := a.Config; c != nil {
		ar.BaseModel, ar.RSLoRA, ar.DoRA = c.BaseModel, c.UseRSLoRA, c.UseDoRA
		if c.InitLoraWeights != nil {
			ar.Init = fmt.Sprint(c.InitLoraWeights)
		}
		if init := strings.ToLower(ar.Init); modifiedBase(init) {
			rep.Blockers = append(rep.Blockers, fmt.Sprintf("adapter %s: init_lora_weights %q initialises A and B from the base's own weights and trains against the base with that part subtracted; merged into the original base it is wrong (convert it with PEFT's path_initial_model_for_weight_conversion first)", in.Path, ar.Init))
		}
	}
	// What the adapter says, before Adapt folds scales for a GGUF base.
	before := make([]ModuleReport, len(a.Modules))
	for i, m := range a.Modules {
		before[i] = ModuleReport{Name: m.Name, Shape: [2]int{m.Out, m.In}, Rank: m.Rank, Alpha: m.Alpha, Scale: m.Scale(),
			Effective: in.Scale * m.Scale(), DoRA: m.Magnitude != nil, Pattern: pattern(a, m)}
		if m.Magnitude != nil {
			ar.DoRA = true
		}
		if m.RSLoRA {
			ar.RSLoRA = true
		}
	}
	if ar.DoRA {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("adapter %s uses DoRA: lorakit merge applies m·(W+ΔW)/‖W+ΔW‖; a llama.cpp LoRA GGUF cannot express it (merge, do not convert)", in.Path))
	}
	if err := b.Adapt(a, in.Path); err != nil {
		rep.Blockers = append(rep.Blockers, err.Error())
		ar.Modules = before
		return ar, nil
	}
	for i, m := range a.Modules {
		mr := before[i]
		if opt.Module != nil && !opt.Module.MatchString(mr.Name) {
			continue
		}
		t, err := b.Module(m)
		if err != nil {
			mr.Problem = err.Error()
			rep.Blockers = append(rep.Blockers, fmt.Sprintf("adapter %s: %v", in.Path, err))
			ar.Modules = append(ar.Modules, mr)
			continue
		}
		mr.Target = t.Tensor.Name
		touched[t.Tensor.Name] = true
		if isEmbedding(t.Tensor.Name) || isHead(t.Tensor.Name) {
			tieWarning(rep, in.Path, t.Tensor.Name)
		}
		if err := ctx.Err(); err != nil {
			return ar, err
		}
		if err := survival(b, t, m, in.Scale, quants, types[t.Tensor.Name], &mr); err != nil {
			mr.Problem = err.Error()
		}
		ar.Modules = append(ar.Modules, mr)
	}
	for _, s := range a.Saved {
		t, ok := b.Saved(s.Name)
		switch {
		case !ok:
			rep.Blockers = append(rep.Blockers, fmt.Sprintf("adapter %s: modules_to_save tensor %q has no base tensor to replace", in.Path, s.Name))
			ar.Saved = append(ar.Saved, s.Name+" -> (none)")
		case !format.SameShape(t.Shape, s.Shape):
			rep.Blockers = append(rep.Blockers, fmt.Sprintf("adapter %s: modules_to_save tensor %q is %v but base tensor %q is %v", in.Path, s.Name, s.Shape, t.Name, t.Shape))
			ar.Saved = append(ar.Saved, s.Name+" -> "+t.Name)
		default:
			touched[t.Name] = true
			ar.Saved = append(ar.Saved, s.Name+" -> "+t.Name)
			if isEmbedding(t.Name) || isHead(t.Name) {
				tieWarning(rep, in.Path, t.Name)
			}
		}
	}
	if len(a.Saved) > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("adapter %s carries %d modules_to_save tensors: merging replaces those base tensors whole (at scale 1 only); a llama.cpp LoRA GGUF cannot carry them", in.Path, len(a.Saved)))
	}
	return ar, nil
}

// modifiedBase: PEFT initialisations computed from the base's own weights
// (PiSSA, OLoRA, CorDA, LoftQ), after which the base is modified.
func modifiedBase(init string) bool {
	for _, p := range []string{"pissa", "olora", "corda", "loftq"} {
		if strings.HasPrefix(init, p) {
			return true
		}
	}
	return false
}

func tieWarning(rep *Report, adapter, tensor string) {
	msg := fmt.Sprintf("adapter %s changes %s", adapter, tensor)
	if rep.TiedEmbedding {
		msg += ", which the base ties to its output head: merging changes both the input embedding and the output logits"
	} else {
		msg += ": LoRA on embeddings or the output head is not applied by every runtime (llama.cpp applies it only merged)"
	}
	rep.Warnings = append(rep.Warnings, msg)
}

// pattern says where a module's rank or alpha came from when they differ
// from the config's defaults.
func pattern(a *lora.Adapter, m *lora.Module) string {
	if a.Config == nil {
		return ""
	}
	var parts []string
	if m.Rank != a.Config.R && a.Config.R != 0 {
		parts = append(parts, fmt.Sprintf("rank_pattern (r %d)", m.Rank))
	}
	if m.Alpha != a.Config.LoraAlpha && a.Config.LoraAlpha != 0 {
		parts = append(parts, fmt.Sprintf("alpha_pattern (alpha %g)", m.Alpha))
	}
	return strings.Join(parts, ", ")
}

// untouched groups the base's 2-D weights that no adapter updates.
func untouched(b *resolve.Base, touched map[string]bool) []Group {
	count := map[string]int{}
	for _, t := range b.Src.Tensors() {
		if len(t.Shape) != 2 || touched[t.Name] || !strings.HasSuffix(t.Name, ".weight") {
			continue
		}
		count[layerless(t.Name)]++
	}
	out := []Group{}
	for k, n := range count {
		out = append(out, Group{Kind: k, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// layerless replaces the layer index of a tensor name with N.
var layerIndex = regexp.MustCompile(`\.\d+\.`)

func layerless(name string) string { return layerIndex.ReplaceAllString(name, ".N.") }
