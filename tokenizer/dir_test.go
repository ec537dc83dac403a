package tokenizer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

func TestLoadDir(t *testing.T) {
	t.Run("gpt2 files + tokenizer_config", func(t *testing.T) {
		dir := filepath.Dir(sharedFile(t, "models/lm-buddy-tiny-gpt2-random/vocab.json"))
		v, err := LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		// tokenizer_config.json: bos = eos = <|endoftext|> (20), unk <unk>
		// (19), add_bos_token false.
		if v.Model != ModelGPT2 || v.Len() != 21 || v.BOS != 20 || v.EOS != 20 || v.UNK != 19 || v.AddBOS {
			t.Errorf("LoadDir = model %q, %d tokens, bos %d eos %d unk %d add_bos %t; want gpt2 21 20 20 19 false",
				v.Model, v.Len(), v.BOS, v.EOS, v.UNK, v.AddBOS)
		}
	})
	t.Run("sentencepiece + tokenizer_config", func(t *testing.T) {
		dir := t.TempDir()
		data, err := os.ReadFile("testdata/tok512.model")
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "tokenizer.model"), data, 0o644)
		os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"add_bos_token": false, "add_eos_token": true, "eos_token": {"content": "</s>"}, "pad_token": null, "bos_token_id": 1}`), 0o644)
		v, err := LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if v.AddBOS || !v.AddEOS || v.EOS != 2 || v.BOS != 1 || v.PAD != -1 {
			t.Errorf("LoadDir = add_bos %t add_eos %t eos %d bos %d pad %d; want false true 2 1 -1", v.AddBOS, v.AddEOS, v.EOS, v.BOS, v.PAD)
		}
	})
	t.Run("empty", func(t *testing.T) {
		if _, err := LoadDir(t.TempDir()); !errors.Is(err, format.ErrNotFound) {
			t.Errorf("LoadDir(empty) = %v, want ErrNotFound", err)
		}
	})
}

func TestApplyTokenizerConfigBad(t *testing.T) {
	v, err := LoadSentencePiece("testdata/tok512.model")
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []string{`{"add_bos_token": `, `{"bos_token_id": 512}`, `{"eos_token_id": "x"}`, `{"add_eos_token": 1}`} {
		if err := v.ApplyTokenizerConfig([]byte(cfg), "tokenizer_config.json"); !errors.Is(err, format.ErrFormat) {
			t.Errorf("ApplyTokenizerConfig(%s) = %v, want ErrFormat", cfg, err)
		}
	}
	if err := v.ApplyTokenizerConfig([]byte(`{"eos_token_id": [2, 5]}`), "config.json"); err != nil || v.EOS != 2 {
		t.Errorf("ApplyTokenizerConfig(eos list) = %v, eos %d; want nil, 2", err, v.EOS)
	}
}

func TestResize(t *testing.T) {
	v, err := LoadSentencePiece("testdata/tok512.model")
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Resize(511); !errors.Is(err, format.ErrShape) {
		t.Errorf("Resize(511) = %v, want ErrShape", err)
	}
	if err := v.Resize(514); err != nil {
		t.Fatal(err)
	}
	if v.Len() != 514 || v.Tokens[513] != "[PAD513]" || v.Type(512) != Unused || v.Score(513) != padScore {
		t.Errorf("after Resize(514): %d tokens, last %q type %d score %g", v.Len(), v.Tokens[513], v.Type(512), v.Score(513))
	}
	if err := v.Validate(); err != nil {
		t.Errorf("Validate after Resize = %v", err)
	}
}

func TestNewUnsupportedPre(t *testing.T) {
	v := byteVocab()
	v.Pre = "no-such-pre"
	if _, err := New(v); !errors.Is(err, format.ErrUnsupported) {
		t.Errorf("New(pre no-such-pre) = %v, want ErrUnsupported", err)
	}
}

// TestAddBOSDefaults: llama.cpp adds BOS for the llama-bpe type when a GGUF
// does not say; a Llama 3 vocabulary without BOS must therefore say so.
func TestAddBOSDefaults(t *testing.T) {
	md := format.Metadata{
		{Key: KeyModel, Value: "gpt2"}, {Key: KeyPre, Value: "llama-bpe"},
		{Key: KeyTokens, Value: []string{"a", "b", "<|begin_of_text|>"}},
		{Key: KeyBOS, Value: uint32(2)},
	}
	v, err := FromMetadata(md)
	if err != nil {
		t.Fatal(err)
	}
	if !v.AddBOS {
		t.Errorf("llama-bpe GGUF without add_bos_token: AddBOS false, want true (llama.cpp's default)")
	}
	v.AddBOS = false
	back, err := FromMetadata(v.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	if back.AddBOS {
		t.Errorf("AddBOS false lost through GGUF metadata")
	}
	md[1].Value = "qwen2"
	if v, err = FromMetadata(md); err != nil || v.AddBOS {
		t.Errorf("qwen2 GGUF without add_bos_token: AddBOS %t (%v), want false", v.AddBOS, err)
	}
}

// TestVocabMergesClass: a vocab.json + merges.txt directory takes its
// pre-tokenizer from tokenizer_config.json's class, as transformers' slow
// tokenizers do; an unknown class is refused, not guessed.
func TestVocabMergesClass(t *testing.T) {
	for _, tc := range []struct {
		cfg, pre string
		err      error
	}{
		{``, "gpt-2", nil},
		{`{"tokenizer_class": "GPT2Tokenizer"}`, "gpt-2", nil},
		{`{"tokenizer_class": "Qwen2Tokenizer"}`, "qwen2", nil},
		{`{"tokenizer_class": "BloomTokenizerFast"}`, "", format.ErrUnsupported},
		{`{"tokenizer_class": "GPT2Tokenizer", "add_prefix_space": true}`, "", format.ErrUnsupported},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "vocab.json"), []byte(`{"a": 0, "b": 1, "ab": 2}`), 0o644)
		os.WriteFile(filepath.Join(dir, "merges.txt"), []byte("#version: 0.2\na b\n"), 0o644)
		if tc.cfg != "" {
			os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(tc.cfg), 0o644)
		}
		os.WriteFile(filepath.Join(dir, "added_tokens.json"), []byte(`{"<|im_end|>": 3}`), 0o644)
		v, err := LoadDir(dir)
		if tc.err != nil {
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), "tokenizer_config.json") {
				t.Errorf("LoadDir(%s) = %v, want %v naming tokenizer_config.json", tc.cfg, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if v.Pre != tc.pre || v.Len() != 4 || v.Tokens[3] != "<|im_end|>" || v.Type(3) != Control {
			t.Errorf("LoadDir(%s): pre %q, %d tokens, token 3 %q type %d; want %q, 4, <|im_end|> control", tc.cfg, v.Pre, v.Len(), v.Tokens[3], v.Type(3), tc.pre)
		}
	}
}

// TestLlama31EndOfGeneration: Llama 3.1's generation_config.json lists
// <|end_of_text|>, <|eom_id|> and <|eot_id|>; with tokenizer_config's EOS
// <|eot_id|> the GGUF names <|eot_id|> as EOT and <|eom_id|> as EOM, and
// every id ends generation.
func TestLlama31EndOfGeneration(t *testing.T) {
	src := sharedFile(t, "tokenizers/llama3")
	dir := t.TempDir()
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
		if err := os.Symlink(filepath.Join(src, f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte(`{"bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009]}`), 0o644)
	v, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromMetadata(v.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	if back.EOS != 128009 || back.EOT != 128009 || back.EOM != 128008 {
		t.Errorf("eos %d eot %d eom %d, want 128009 128009 128008", back.EOS, back.EOT, back.EOM)
	}
	if got := v.EOGIDs(); !slices.Equal(got, []int{128009, 128008, 128001}) {
		t.Errorf("EOGIDs() = %v, want [128009 128008 128001]", got)
	}
}
