package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/lorakit/lorakit/internal/atomicfile"
)

// SaveHF writes v as the tokenizer files of a Hugging Face model
// directory: tokenizer.json and tokenizer_config.json, each atomically
// (see atomicfile.Create for force).
func SaveHF(dir string, v *Vocab, force bool) error {
	if err := SaveTokenizerJSON(filepath.Join(dir, "tokenizer.json"), v, force); err != nil {
		return err
	}
	path := filepath.Join(dir, "tokenizer_config.json")
	f, err := atomicfile.Create(path, force)
	if err != nil {
		return err
	}
	if err := WriteTokenizerConfig(f, v); err != nil {
		f.Abort()
		return fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	return f.Commit()
}

// WriteTokenizerConfig writes v's tokenizer_config.json: the special
// tokens by text, add_bos_token / add_eos_token, the chat template, and
// added_tokens_decoder with every added token's flags, as transformers
// saves a PreTrainedTokenizerFast.
func WriteTokenizerConfig(w io.Writer, v *Vocab) error {
	if err := v.Validate(); err != nil {
		return err
	}
	type added struct {
		Content    string `json:"content"`
		LStrip     bool   `json:"lstrip"`
		Normalized bool   `json:"normalized"`
		RStrip     bool   `json:"rstrip"`
		SingleWord bool   `json:"single_word"`
		Special    bool   `json:"special"`
	}
	cfg := map[string]any{
		"add_bos_token":                v.AddBOS,
		"add_eos_token":                v.AddEOS,
		"clean_up_tokenization_spaces": false,
		"tokenizer_class":              "PreTrainedTokenizerFast",
	}
	dec := map[string]added{}
	for id, t := range v.Tokens {
		typ := v.Type(id)
		if typ != Control && typ != UserDefined && typ != Unknown {
			continue
		}
		fl, ok := v.Added[id]
		if !ok {
			fl.Normalized = typ == UserDefined
		}
		dec[fmt.Sprint(id)] = added{t, fl.LStrip, fl.Normalized, fl.RStrip, fl.SingleWord, typ != UserDefined}
	}
	cfg["added_tokens_decoder"] = dec
	for _, s := range []struct {
		key string
		id  int
	}{{"bos_token", v.BOS}, {"eos_token", v.EOS}, {"unk_token", v.UNK}, {"pad_token", v.PAD}} {
		if s.id >= 0 {
			cfg[s.key] = v.Tokens[s.id]
		} else {
			cfg[s.key] = nil
		}
	}
	if v.ChatTemplate != "" {
		cfg["chat_template"] = v.ChatTemplate
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(cfg); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
