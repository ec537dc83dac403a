package main

// The audit's bad-data cases: files that parse but say something a
// converted model cannot be, which must fail rather than succeed silently.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditHFConfigValidated: HF → GGUF checks config.json as model.Load
// checks a GGUF (absurd counts, zero heads, a non-numeric epsilon that
// used to become the default) and refuses an index that names part of the
// checkpoint.
func TestAuditHFConfigValidated(t *testing.T) {
	src := sharedPath(t, "data/models/lm-buddy-tiny-gpt2-random")
	for _, c := range []struct {
		name, field string
		value       any
		mention     string
	}{
		{"a billion layers", "n_layer", 1e9, "block_count"},
		{"zero heads", "n_head", 0, "n_head"},
		{"non-numeric epsilon", "layer_norm_epsilon", "abc", "layer_norm_epsilon"},
		{"two layers, one stored", "n_layer", 2, "layer 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			for _, f := range []string{"config.json", "model.safetensors", "vocab.json", "merges.txt"} {
				copyFile(t, d, "data/models/lm-buddy-tiny-gpt2-random/"+f)
			}
			var cfg map[string]any
			raw, _ := os.ReadFile(filepath.Join(src, "config.json"))
			if err := json.Unmarshal(raw, &cfg); err != nil {
				t.Fatal(err)
			}
			cfg[c.field] = c.value
			raw, _ = json.Marshal(cfg)
			os.WriteFile(filepath.Join(d, "config.json"), raw, 0o644)
			out := filepath.Join(t.TempDir(), "out.gguf")
			args := []string{"convert", d, "-o", out}
			_, errs, code := lorakit(t, args...)
			checkFailure(t, args, errs, code, exitFail, c.mention)
			if _, err := os.Stat(out); err == nil {
				t.Error("a GGUF was written")
			}
		})
	}

	t.Run("index names one shard of several", func(t *testing.T) {
		hf := filepath.Join(t.TempDir(), "hf")
		if _, errs, code := lorakit(t, "convert", sharedPath(t, "fixtures/llama-f32.gguf"), "-o", hf, "--to", "hf", "--max-shard-size", "200000"); code != 0 {
			t.Fatalf("making shards: %s", errs)
		}
		idxPath := filepath.Join(hf, "model.safetensors.index.json")
		var idx struct {
			Metadata  map[string]any    `json:"metadata"`
			WeightMap map[string]string `json:"weight_map"`
		}
		raw, err := os.ReadFile(idxPath)
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(raw, &idx)
		shards := map[string]bool{}
		for _, f := range idx.WeightMap {
			shards[f] = true
		}
		if len(shards) < 2 {
			t.Fatalf("only %d shard(s) made", len(shards))
		}
		first := idx.WeightMap["model.embed_tokens.weight"]
		for name, f := range idx.WeightMap {
			if f != first {
				delete(idx.WeightMap, name)
			}
		}
		raw, _ = json.Marshal(idx)
		os.WriteFile(idxPath, raw, 0o644)
		out := filepath.Join(t.TempDir(), "out.gguf")
		args := []string{"convert", hf, "-o", out}
		_, errs, code := lorakit(t, args...)
		checkFailure(t, args, errs, code, exitFail, "layer")
		if !strings.Contains(errs, "shard") {
			t.Errorf("error %q does not point at a missing shard", errs)
		}
	})
}
