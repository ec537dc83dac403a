package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTokenize runs lorakit tokenize on the Llama 3 tokenizer directory and
// on a vocab-only GGUF converted from it, against the ids of Hugging Face's
// tokenizers.js (tokenizer/testdata/hfvectors/llama3.json).
func TestTokenize(t *testing.T) {
	dir := sharedPath(t, "data/tokenizers/llama3")
	data, err := os.ReadFile("../../tokenizer/testdata/hfvectors/llama3.json")
	if err != nil {
		t.Fatal(err)
	}
	var hv struct {
		Cases []struct {
			Text           string
			IDs            []int `json:"ids"`
			IDsWithSpecial []int `json:"ids_with_special"`
		}
	}
	if err := json.Unmarshal(data, &hv); err != nil {
		t.Fatal(err)
	}
	var special, plain = -1, -1
	for i, c := range hv.Cases {
		if strings.Contains(c.Text, "<|eot_id|>") {
			special = i
		}
		if strings.HasPrefix(c.Text, "def fib") {
			plain = i
		}
	}
	if special < 0 || plain < 0 {
		t.Fatal("hfvectors/llama3.json lacks the expected texts")
	}
	tmp := t.TempDir()
	ggufPath := filepath.Join(tmp, "llama3.gguf")
	if _, errs, code := lorakit(t, "convert", dir, "--vocab-only", "-o", ggufPath); code != 0 {
		t.Fatalf("convert --vocab-only: exit %d: %s", code, errs)
	}
	jsonl := filepath.Join(tmp, "in.jsonl")
	line, _ := json.Marshal(hv.Cases[plain].Text)
	os.WriteFile(jsonl, []byte(string(line)+"\n\n{\"text\": "+string(line)+"}\n"), 0o644)
	textFile := filepath.Join(tmp, "in.txt")
	os.WriteFile(textFile, []byte(hv.Cases[special].Text), 0o644)

	for _, src := range []string{dir, ggufPath, filepath.Join(dir, "tokenizer.json")} {
		t.Run(filepath.Base(src), func(t *testing.T) {
			c := hv.Cases[special]
			for _, tc := range []struct {
				args []string
				want []int
			}{
				{[]string{"--text", c.Text, "--special"}, c.IDsWithSpecial},
				{[]string{"--file", textFile, "--special", "--no-bos"}, c.IDs},
			} {
				out, errs, code := lorakit(t, append([]string{"tokenize", src, "--json"}, tc.args...)...)
				if code != 0 {
					t.Fatalf("tokenize %v: exit %d: %s", tc.args, code, errs)
				}
				var got tokenized
				if err := json.Unmarshal([]byte(out), &got); err != nil {
					t.Fatalf("tokenize --json output %q: %v", out, err)
				}
				if !slices.Equal(got.IDs, tc.want) || len(got.Pieces) != len(got.IDs) {
					t.Errorf("tokenize %v = %v (%d pieces), want %v", tc.args, got.IDs, len(got.Pieces), tc.want)
				}
			}
			// Without --special the tokens' text is plain text.
			out, _, code := lorakit(t, "tokenize", src, "--text", c.Text, "--no-bos")
			if code != 0 || strings.Contains(out, "128009") || strings.Contains(out, "128006") {
				t.Errorf("tokenize without --special = %q (exit %d), want no special ids", out, code)
			}
			out, errs, code := lorakit(t, "tokenize", src, "--jsonl", jsonl, "--no-bos")
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if code != 0 || len(lines) != 2 {
				t.Fatalf("tokenize --jsonl: exit %d, %d lines: %s", code, len(lines), errs)
			}
			for _, l := range lines {
				var got tokenized
				if err := json.Unmarshal([]byte(l), &got); err != nil || !slices.Equal(got.IDs, hv.Cases[plain].IDs) {
					t.Errorf("tokenize --jsonl line %q (%v), want ids %v", l, err, hv.Cases[plain].IDs)
				}
			}
		})
	}
}

func TestTokenizeBad(t *testing.T) {
	tmp := t.TempDir()
	badJSONL := filepath.Join(tmp, "bad.jsonl")
	os.WriteFile(badJSONL, []byte("\"ok\"\n[1, 2]\n"), 0o644)
	badTok := filepath.Join(tmp, "tokenizer.json")
	os.WriteFile(badTok, []byte(`{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\p{L}+"}, "behavior": "Isolated"}, {"type": "ByteLevel"}]}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`), 0o644)
	malformed := filepath.Join(tmp, "malformed", "tokenizer.json")
	os.MkdirAll(filepath.Dir(malformed), 0o755)
	os.WriteFile(malformed, []byte("{\n  \"model\": {\"type\": \"BPE\",\n  \"vocab\": {\"a\": 0,}}}"), 0o644)
	unknownMerge := filepath.Join(tmp, "merge", "tokenizer.json")
	os.MkdirAll(filepath.Dir(unknownMerge), 0o755)
	os.WriteFile(unknownMerge, []byte(`{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "b c"]}}`), 0o644)
	model := "../../tokenizer/testdata/tok512.model"
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"tokenize", model}, 2, "exactly one"},
		{[]string{"tokenize", model, "--text", "a", "--file", "x"}, 2, "exactly one"},
		{[]string{"tokenize", model, "--jsonl", badJSONL}, 1, "bad.jsonl: line 2"},
		{[]string{"tokenize", badTok, "--text", "a"}, 1, `tokenizer.json: pre_tokenizer step 0: Split regex "\\p{L}+"`},
		{[]string{"tokenize", filepath.Join(tmp, "missing.gguf"), "--text", "a"}, 1, "missing.gguf"},
		{[]string{"tokenize", malformed, "--text", "a"}, 1, "malformed/tokenizer.json: line 3 column 20"},
		{[]string{"tokenize", unknownMerge, "--text", "a"}, 1, `merge/tokenizer.json: model.merges[1] "b c": "c" is not in the vocab`},
	} {
		_, errs, code := lorakit(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) || (code == 1 && strings.Count(errs, "\n") != 1) {
			t.Errorf("lorakit %v: exit %d, stderr %q; want exit %d and one line with %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
}
