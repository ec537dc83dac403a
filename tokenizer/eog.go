package tokenizer

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/lorakit/lorakit/format"
)

// ApplyGenerationConfig reads the eos_token_id of a generation_config.json
// (an id or a list of ids). Every listed id ends generation (EOG); each is
// also named to llama.cpp: "<|eom_id|>" as EOM, an end-of-turn token as
// EOT, and an id that llama.cpp would not recognise by its text as EOT or
// EOM while those are free. A malformed file or an id out of range wraps
// format.ErrFormat; name is used in errors.
func (v *Vocab) ApplyGenerationConfig(data []byte, name string) error {
	var cfg struct {
		EOS json.RawMessage `json:"eos_token_id"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("tokenizer: %s: %v: %w", name, jsonErr(data, err), format.ErrFormat)
	}
	if len(cfg.EOS) == 0 || string(cfg.EOS) == "null" {
		return nil
	}
	var ids []int
	var one int
	if err := json.Unmarshal(cfg.EOS, &one); err == nil {
		ids = []int{one}
	} else if err := json.Unmarshal(cfg.EOS, &ids); err != nil {
		return fmt.Errorf("tokenizer: %s: eos_token_id %s is not an id or a list of ids: %w", name, cfg.EOS, format.ErrFormat)
	}
	for _, id := range ids {
		if id < 0 || id >= len(v.Tokens) {
			return fmt.Errorf("tokenizer: %s: eos_token_id %d out of range for %d tokens: %w", name, id, len(v.Tokens), format.ErrFormat)
		}
	}
	if v.EOS < 0 && len(ids) > 0 {
		v.EOS = ids[0]
	}
	for _, id := range ids {
		if !slices.Contains(v.EOG, id) {
			v.EOG = append(v.EOG, id)
		}
	}
	for _, id := range ids {
		text := v.Tokens[id]
		switch {
		case id == v.EOT || id == v.EOM:
		case slices.Contains(eotTexts, text):
			if v.EOT < 0 { // also when it is EOS: llama.cpp then needs no guess
				v.EOT = id
			}
		case id == v.EOS:
		case text == "<|eom_id|>":
			if v.EOM < 0 {
				v.EOM = id
			}
		case slices.Contains(eogTexts, text):
			// llama.cpp adds it to its end-of-generation set by its text.
		case v.EOT < 0:
			v.EOT = id
		case v.EOM < 0:
			v.EOM = id
		}
	}
	return nil
}

// eotTexts are the end-of-turn tokens lorakit names as EOT, and eogTexts
// the texts llama.cpp puts in its end-of-generation set by themselves
// (llama-vocab.cpp).
var (
	eotTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<EOT>", "<|EOT|>"}
	eogTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
		"<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
		"<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>"}
)
