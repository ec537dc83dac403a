package arch

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// nameHints recognise a family in a base model's name or path, by its
// tokens (split at "-", "_", ".", "/" and spaces): "Qwen/Qwen2.5-0.5B"
// gives qwen2, "google/gemma-3-270m-it" gemma3, "gemma-2b" (Gemma 1) none.
var nameHints = []struct {
	family string
	seqs   [][]string // token sequences, "*x" a token ending in x
}{
	{"qwen3", [][]string{{"qwen3"}}},
	{"qwen2", [][]string{{"qwen2"}}},
	{"gemma3", [][]string{{"gemma3"}, {"gemma", "3"}}},
	{"gemma2", [][]string{{"gemma2"}, {"gemma", "2"}}},
	{"phi3", [][]string{{"phi3"}, {"phi", "3"}, {"phi4"}, {"phi", "4"}}},
	{"smollm3", [][]string{{"smollm3"}}},
	{"llama", [][]string{{"*llama"}, {"llama2"}, {"llama3"}, {"*mistral"}, {"ministral"}, {"mixtral"}, {"mistralai"}, {"smollm"}, {"smollm2"}}},
	{"gpt2", [][]string{{"gpt2"}, {"distilgpt2"}}},
}

var tokenSplit = regexp.MustCompile(`[-_./ \\]+`)

// HintFromName returns the family a base model's name points to, or ""
// when it names none (or, through different tokens, more than one).
func HintFromName(name string) string {
	toks := tokenSplit.Split(strings.ToLower(name), -1)
	found := ""
	for _, h := range nameHints {
		if hasSeq(toks, h.seqs) {
			if found != "" && found != h.family {
				return ""
			}
			found = h.family
		}
	}
	if found == "qwen3" && slices.ContainsFunc(toks, func(tok string) bool { return tok == "moe" || activeParams.MatchString(tok) }) {
		return "qwen3moe" // Qwen3-30B-A3B, Qwen3-MoE
	}
	return found
}

// activeParams is the "A3B" token of a MoE name (active parameters).
var activeParams = regexp.MustCompile(`^a\d+(\.\d+)?b$`)

// hasSeq reports whether toks contains one of seqs consecutively.
func hasSeq(toks []string, seqs [][]string) bool {
	for _, seq := range seqs {
		for i := 0; i+len(seq) <= len(toks); i++ {
			ok := true
			for j, want := range seq {
				tok := toks[i+j]
				if suffix, isSuffix := strings.CutPrefix(want, "*"); isSuffix {
					ok = ok && strings.HasSuffix(tok, suffix)
				} else {
					ok = ok && tok == want
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// FamiliesOfModules lists the families under which every module name (HF
// module paths as PEFT stores them, without "base_model.model.") maps to
// a GGUF tensor, sorted. Vision-tower modules of a multimodal adapter are
// not considered.
func FamiliesOfModules(modules []string) []string {
	var out []string
	for _, n := range Names() {
		f := families[n]
		all := len(modules) > 0
		for _, m := range modules {
			if VisionTensor(m + ".weight") {
				continue // a multimodal adapter's vision side says nothing of the text model
			}
			if _, ok := f.GGUF(m + ".weight"); !ok {
				all = false
				break
			}
		}
		if all {
			out = append(out, n)
		}
	}
	return out
}

// IdentifyAdapter names the family of a LoRA adapter from its module
// names and its base model's name (PEFT's base_model_name_or_path, mlx-lm's
// model). The name decides among the families whose tables hold every
// module; without a usable name only a single candidate is accepted: q/k
// adapters need llama.cpp's RoPE permutation for llama but not for Qwen or
// Gemma, and a llama.cpp adapter must name its base's architecture, so an
// ambiguity is refused with a request for --base or --arch, never settled
// by a default.
func IdentifyAdapter(modules []string, baseModel string) (*Family, error) {
	cands := FamiliesOfModules(modules)
	if len(cands) == 0 {
		sample := ""
		if len(modules) > 0 {
			sample = fmt.Sprintf(" (first module %q)", modules[0])
		}
		return nil, fmt.Errorf("adapter modules%s fit no architecture lorakit knows (%s): %w", sample, strings.Join(Names(), ", "), format.ErrUnsupported)
	}
	hint := HintFromName(baseModel)
	switch {
	case hint != "" && slices.Contains(cands, hint):
		return families[hint], nil
	case hint != "":
		return nil, fmt.Errorf("adapter base model %q is %s, but its modules fit only %s: %w; give --base or --arch",
			baseModel, hint, strings.Join(cands, ", "), format.ErrUnsupported)
	case len(cands) == 1:
		return families[cands[0]], nil
	}
	why := "the GGUF adapter must name its base's architecture"
	if ropeDiffers(modules, cands) {
		why = "q/k modules need llama.cpp's RoPE row permutation for some of them and not for others"
	}
	base := "no base model name"
	if baseModel != "" {
		base = fmt.Sprintf("base model %q names none of them", baseModel)
	}
	return nil, fmt.Errorf("adapter modules fit %s and %s (%s): %w; give --base (the base model) or --arch",
		strings.Join(cands, ", "), base, why, format.ErrUnsupported)
}

// ropeDiffers reports whether the candidate families disagree on the RoPE
// permutation of any module.
func ropeDiffers(modules []string, cands []string) bool {
	for _, m := range modules {
		seen := map[bool]bool{}
		for _, n := range cands {
			_, t, _ := families[n].GGUFName(m + ".weight")
			seen[t.Transform == RopeQ || t.Transform == RopeK] = true
		}
		if len(seen) > 1 {
			return true
		}
	}
	return false
}
