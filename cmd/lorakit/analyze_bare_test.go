package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestAmplificationBareSafetensorsBase: analyze amplification finds base
// weights in a directory holding only model.safetensors (no config.json),
// as merge does, and its deterministic figures equal those of the same
// adapter and base in llama.cpp's GGUF form (GPT-2's Conv1D weights are
// stored transposed in the Hugging Face form, which the resolver undoes).
func TestAmplificationBareSafetensorsBase(t *testing.T) {
	fx := sharedPath(t, "fixtures")
	dir := t.TempDir()
	hf, peft := filepath.Join(dir, "hf"), filepath.Join(dir, "peft")
	for _, args := range [][]string{
		{"convert", filepath.Join(fx, "gpt2-f32.gguf"), "--to", "hf", "-o", hf},
		{"convert", filepath.Join(fx, "gpt2-lora-r4.gguf"), "--to", "peft", "-o", peft},
	} {
		if _, errs, code := lorakit(t, args...); code != 0 {
			t.Fatalf("lorakit %v: %s", args, errs)
		}
	}
	entries, _ := os.ReadDir(hf)
	for _, e := range entries {
		if e.Name() != "model.safetensors" {
			os.Remove(filepath.Join(hf, e.Name()))
		}
	}
	type row struct {
		Name        string  `json:"name"`
		WFrobenius  float64 `json:"w_frobenius"`
		DWFrobenius float64 `json:"dw_frobenius"`
		ProjDW      float64 `json:"proj_dw"`
	}
	amp := func(args ...string) []row {
		t.Helper()
		out, errs, code := lorakit(t, append([]string{"analyze", "amplification", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("analyze amplification %v: exit %d: %s", args, code, errs)
		}
		var rep struct {
			Modules []row `json:"modules"`
			Skipped []any `json:"skipped"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Skipped) != 0 {
			t.Errorf("analyze amplification %v skipped %v", args, rep.Skipped)
		}
		return rep.Modules
	}
	bare := amp(peft, "--base", hf)
	ref := amp(filepath.Join(fx, "gpt2-lora-r4.gguf"), "--base", filepath.Join(fx, "gpt2-f32.gguf"))
	if len(bare) == 0 || len(bare) != len(ref) {
		t.Fatalf("%d modules against the bare directory, %d against the GGUF", len(bare), len(ref))
	}
	// relTol: the same float32 data in another orientation; float64 sums
	// in another order differ in the last few bits.
	const relTol = 1e-9
	for i := range bare {
		for _, f := range [][2]float64{{bare[i].WFrobenius, ref[i].WFrobenius}, {bare[i].DWFrobenius, ref[i].DWFrobenius}, {bare[i].ProjDW, ref[i].ProjDW}} {
			if math.Abs(f[0]-f[1]) > relTol*math.Abs(f[1]) {
				t.Errorf("module %s (%s): %v against the bare directory, %v against the GGUF", bare[i].Name, ref[i].Name, f[0], f[1])
			}
		}
	}
}
