package release

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/verify"
)

// card writes the model card README.md: Hugging Face YAML front matter
// (base_model, base_model_relation, library_name, license where the base
// says, tags), what was merged at which scale with the adapters' training
// settings, the files, the verification and how to run it.
func card(dir string, man *Manifest, opt Options, info baseInfo, reps []*verify.Report) string {
	var b strings.Builder
	baseModel := info.name
	var adapters []*lora.Adapter
	for _, a := range man.Adapters {
		ad, err := lora.Open(a.Path)
		if err != nil {
			adapters = append(adapters, nil)
			continue
		}
		adapters = append(adapters, ad)
		if ad.Config != nil && hubID(ad.Config.BaseModel) {
			baseModel = ad.Config.BaseModel // the Hub id PEFT recorded
		}
	}
	relation := "merge"
	if len(man.Adapters) == 0 {
		relation = "quantized"
	}
	library := "gguf"
	if opt.HF {
		library = "transformers"
	}
	b.WriteString("---\n")
	fmt.Fprintf(&b, "base_model: %s\n", yamlString(baseModel))
	fmt.Fprintf(&b, "base_model_relation: %s\n", relation)
	fmt.Fprintf(&b, "library_name: %s\n", library)
	if info.license != "" {
		fmt.Fprintf(&b, "license: %s\n", yamlString(info.license))
	}
	b.WriteString("tags:\n- lorakit\n- gguf\n")
	if len(man.Adapters) > 0 {
		b.WriteString("- lora\n- merge\n")
	}
	if info.arch != "" {
		fmt.Fprintf(&b, "- %s\n", yamlString(info.arch))
	}
	b.WriteString("---\n\n")

	fmt.Fprintf(&b, "# %s\n\n", man.Name)
	if len(man.Adapters) > 0 {
		fmt.Fprintf(&b, "%s with %d LoRA adapter(s) merged into its weights (W' = W + Σ scale·s·B·A) by lorakit.\n\n", baseModel, len(man.Adapters))
		b.WriteString("## Adapters\n\n| adapter | scale | kind | rank | alpha | effective scale | targets |\n|---|---:|---|---:|---:|---:|---|\n")
		for i, a := range man.Adapters {
			ad := adapters[i]
			if ad == nil {
				fmt.Fprintf(&b, "| %s | %g | | | | | |\n", filepath.Base(a.Path), a.Scale)
				continue
			}
			rank, alpha, scale, targets := summary(ad)
			fmt.Fprintf(&b, "| %s | %g | %s | %s | %s | %s | %s |\n", filepath.Base(a.Path), a.Scale, ad.Kind, rank, alpha, scale, targets)
		}
		b.WriteString("\n")
	} else {
		fmt.Fprintf(&b, "%s, quantized by lorakit as llama.cpp's llama-quantize does.\n\n", baseModel)
	}
	b.WriteString("## Files\n\n| file | bytes |\n|---|---:|\n")
	names, _ := files(dir)
	for _, n := range names {
		if st, err := os.Stat(filepath.Join(dir, n)); err == nil {
			fmt.Fprintf(&b, "| %s | %d |\n", n, st.Size())
		}
	}
	fmt.Fprintf(&b, "| %s, %s, %s | |\n", CardFile, ModelfileFile, SumsFile)
	b.WriteString("\nsha256 of every file: `SHA256SUMS` (`sha256sum -c SHA256SUMS`).\n\n")

	b.WriteString("## Verification\n\n")
	b.WriteString("Every tensor of every file was re-derived from the base and the adapters by `lorakit verify` ")
	b.WriteString("(quantized tensors requantized with lorakit's ggml-exact codecs and compared byte for byte):\n\n")
	for _, r := range reps {
		exact, round := 0, 0
		for _, t := range r.Tensors {
			switch t.Status {
			case verify.BitExact:
				exact++
			case verify.Rounding:
				round++
			}
		}
		fmt.Fprintf(&b, "- `%s`: %d tensors, %d bit-exact, %d within the dtype's rounding; tokenizer and chat template carried from the base\n", r.Release, len(r.Tensors), exact, round)
	}
	b.WriteString("\nDetails: `verify.txt`, `verify.json`. Re-check at any time with `lorakit verify <this directory>`.\n\n")

	b.WriteString("## Use\n\n```sh\n")
	for _, m := range man.Models {
		if strings.HasSuffix(m, ".gguf") {
			fmt.Fprintf(&b, "llama-cli -m %s\n", m)
			break
		}
	}
	fmt.Fprintf(&b, "ollama create %s -f Modelfile\n```\n", man.Name)
	return b.String()
}

// summary describes an adapter's ranks, alphas, scales and targets (a
// range where modules differ).
func summary(a *lora.Adapter) (rank, alpha, scale, targets string) {
	var ranks, alphas, scales []float64
	mods := map[string]bool{}
	var order []string
	for _, m := range a.Modules {
		ranks = append(ranks, float64(m.Rank))
		alphas = append(alphas, m.Alpha)
		scales = append(scales, m.Scale())
		kind := m.Name
		if i := strings.LastIndexByte(kind, '.'); i >= 0 {
			kind = kind[i+1:]
		}
		if !mods[kind] {
			mods[kind] = true
			order = append(order, kind)
		}
	}
	return span(ranks), span(alphas), span(scales), strings.Join(order, ", ")
}

// span formats the range of vs ("8", or "4–16").
func span(vs []float64) string {
	if len(vs) == 0 {
		return ""
	}
	lo, hi := vs[0], vs[0]
	for _, v := range vs {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo == hi {
		return strconv.FormatFloat(lo, 'g', 6, 64)
	}
	return strconv.FormatFloat(lo, 'g', 6, 64) + "–" + strconv.FormatFloat(hi, 'g', 6, 64)
}

// yamlString quotes s for YAML when it is not a plain scalar.
func yamlString(s string) string {
	plain := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./", c)) {
			plain = false
		}
	}
	if plain {
		return s
	}
	return strconv.Quote(s)
}
