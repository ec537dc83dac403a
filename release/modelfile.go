package release

import (
	"fmt"
	"slices"
	"strings"
)

// chatFamily is a chat format recognised in a Jinja chat template by its
// markers, with the ollama TEMPLATE that renders the same prompt and the
// text that ends a turn.
type chatFamily struct {
	name     string
	markers  []string // all must occur in the chat template
	template string
	stop     string
}

// chatFamilies are tried in order; the first whose markers all occur wins.
var chatFamilies = []chatFamily{
	{"Llama 3", []string{"<|start_header_id|>", "<|eot_id|>"}, `{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>

{{ .Content }}<|eot_id|>
{{- end }}<|start_header_id|>assistant<|end_header_id|>

`, "<|eot_id|>"},
	{"ChatML", []string{"<|im_start|>", "<|im_end|>"}, `{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
`, "<|im_end|>"},
	{"Gemma", []string{"<start_of_turn>", "<end_of_turn>"}, `{{- range .Messages }}<start_of_turn>{{ if eq .Role "assistant" }}model{{ else }}{{ .Role }}{{ end }}
{{ .Content }}<end_of_turn>
{{ end }}<start_of_turn>model
`, "<end_of_turn>"},
	{"Phi-3", []string{"<|user|>", "<|end|>", "<|assistant|>"}, `{{- range .Messages }}<|{{ .Role }}|>
{{ .Content }}<|end|>
{{ end }}<|assistant|>
`, "<|end|>"},
	{"Mistral / Llama 2", []string{"[INST]", "[/INST]"}, `{{- range .Messages }}{{ if eq .Role "user" }}[INST] {{ .Content }} [/INST]{{ else if eq .Role "assistant" }}{{ .Content }}</s>{{ end }}{{ end }}`, "</s>"},
}

// familyOf returns the chat family of a Jinja chat template, or nil.
func familyOf(tmpl string) *chatFamily {
	for i, f := range chatFamilies {
		ok := tmpl != ""
		for _, m := range f.markers {
			ok = ok && strings.Contains(tmpl, m)
		}
		if ok {
			return &chatFamilies[i]
		}
	}
	return nil
}

// modelfile writes an ollama Modelfile: FROM the last quantization asked
// for (the merged F16/BF16 when there is none), TEMPLATE translated from the
// base's chat template where its family is recognised, and PARAMETER stop
// for each end-of-generation token.
func modelfile(man *Manifest, info baseInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# ollama Modelfile for %s, written by lorakit release.\n# ollama create %s -f Modelfile\n", man.Name, man.Name)
	from := ""
	for _, m := range man.Models {
		if strings.HasSuffix(m, ".gguf") {
			from = m // models are listed merged first, then each quantization
		}
	}
	fmt.Fprintf(&b, "FROM ./%s\n", from)
	stops := slices.Clone(info.stops)
	switch f := familyOf(info.chatTemplate); {
	case f != nil:
		fmt.Fprintf(&b, "# TEMPLATE: the base's chat template is %s's format.\nTEMPLATE \"\"\"%s\"\"\"\n", f.name, f.template)
		stops = append(stops, f.stop)
	case info.chatTemplate != "":
		b.WriteString("# The base's chat template is of no family lorakit translates; ollama reads it from the GGUF.\n")
	default:
		b.WriteString("# The base has no chat template: a completion model.\n")
	}
	seen := map[string]bool{}
	for _, s := range stops {
		if s != "" && !seen[s] {
			seen[s] = true
			fmt.Fprintf(&b, "PARAMETER stop %q\n", s)
		}
	}
	return b.String()
}
