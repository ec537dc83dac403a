package release

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/resolve"
)

// baseInfo is what the card and the Modelfile carry from the base.
type baseInfo struct {
	hfDir        bool
	name         string // general.name, or the base's file name
	arch         string
	license      string
	chatTemplate string
	stops        []string // end-of-generation token texts
}

// describeBase reads the base's name, architecture, license, chat template
// and end-of-generation tokens: from GGUF metadata, or from a Hugging Face
// directory's config.json and tokenizer_config.json.
func describeBase(b *resolve.Base) baseInfo {
	info := baseInfo{hfDir: b.Kind == resolve.KindHFDir, name: filepath.Base(filepath.Clean(b.Path))}
	if info.hfDir {
		var cfg struct {
			ModelType string `json:"model_type"`
		}
		readJSON(filepath.Join(b.Path, "config.json"), &cfg)
		info.arch = cfg.ModelType
		var tc struct {
			ChatTemplate any `json:"chat_template"`
			EOS          any `json:"eos_token"`
		}
		readJSON(filepath.Join(b.Path, "tokenizer_config.json"), &tc)
		info.chatTemplate, _ = tc.ChatTemplate.(string)
		if raw, err := os.ReadFile(filepath.Join(b.Path, "chat_template.jinja")); err == nil {
			info.chatTemplate = string(raw)
		}
		info.license = cardLicense(filepath.Join(b.Path, "README.md"))
		switch e := tc.EOS.(type) {
		case string:
			info.stops = append(info.stops, e)
		case map[string]any:
			if s, ok := e["content"].(string); ok {
				info.stops = append(info.stops, s)
			}
		}
		return info
	}
	md := b.Src.Metadata()
	if s, ok := md.String("general.name"); ok && s != "" {
		info.name = s
	}
	info.arch, _ = md.String("general.architecture")
	info.license, _ = md.String("general.license")
	info.fromGGUF(md)
	return info
}

// fromGGUF fills the chat template and the end-of-generation tokens from
// GGUF metadata, where they are not known yet.
func (info *baseInfo) fromGGUF(md format.Metadata) {
	if info.chatTemplate == "" {
		info.chatTemplate, _ = md.String("tokenizer.chat_template")
	}
	if len(info.stops) > 0 {
		return
	}
	tokens, _ := md.Get("tokenizer.ggml.tokens")
	toks, _ := tokens.([]string)
	seen := map[int64]bool{}
	for _, k := range []string{"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"} {
		if id, ok := md.Int(k); ok && id >= 0 && id < int64(len(toks)) && !seen[id] {
			seen[id] = true
			info.stops = append(info.stops, toks[id])
		}
	}
}

// hubID reports whether s names a Hugging Face Hub repository ("gpt2",
// "Qwen/Qwen2.5-0.5B-Instruct") rather than a path on this machine.
func hubID(s string) bool {
	if s == "" || filepath.IsAbs(s) || strings.HasPrefix(s, ".") || strings.Count(s, "/") > 1 {
		return false
	}
	_, err := os.Stat(s)
	return err != nil
}

// cardLicense reads "license: X" from the YAML front matter of a model
// card ("" when there is none).
func cardLicense(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	front, _, ok := strings.Cut(strings.TrimPrefix(string(raw), "---\n"), "\n---")
	if !ok || !strings.HasPrefix(string(raw), "---\n") {
		return ""
	}
	for _, line := range strings.Split(front, "\n") {
		if v, ok := strings.CutPrefix(line, "license:"); ok {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}

func readJSON(path string, v any) {
	if raw, err := os.ReadFile(path); err == nil {
		json.Unmarshal(raw, v)
	}
}
