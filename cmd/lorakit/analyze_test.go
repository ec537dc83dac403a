package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestAnalyzeCommands(t *testing.T) {
	lora := sharedPath(t, "fixtures/llama-lora-r8.gguf")
	base := sharedPath(t, "fixtures/llama-f32.gguf")
	peft := sharedPath(t, "data/adapters/gpt2-tigrinya-peft-lora")

	out, errs, code := lorakit(t, "analyze", "spectrum", "--json", lora)
	if code != 0 {
		t.Fatalf("spectrum: exit %d: %s", code, errs)
	}
	var spec struct {
		Modules []struct {
			Name           string    `json:"name"`
			Rank           int       `json:"rank"`
			SingularValues []float64 `json:"singular_values"`
			NumericalRank  int       `json:"numerical_rank"`
		} `json:"modules"`
	}
	if err := json.Unmarshal([]byte(out), &spec); err != nil || len(spec.Modules) != 4 {
		t.Fatalf("spectrum JSON: %v, %d modules", err, len(spec.Modules))
	}
	for _, m := range spec.Modules {
		if m.Rank != 8 || len(m.SingularValues) != 8 || m.NumericalRank != 8 {
			t.Errorf("%s: rank %d, %d values, numerical rank %d; want 8, 8, 8 (random A, B)", m.Name, m.Rank, len(m.SingularValues), m.NumericalRank)
		}
	}

	// An adapter compared with itself, through another format, has φ = 1
	// on the diagonal: converting to GGUF kept every direction.
	dir := t.TempDir()
	conv := filepath.Join(dir, "peft.gguf")
	if _, errs, code := lorakit(t, "convert", peft, "-o", conv); code != 0 {
		t.Fatalf("convert: %s", errs)
	}
	img := filepath.Join(dir, "phi.png")
	out, errs, code = lorakit(t, "analyze", "similarity", "--json", "--module", `blk\.[01]\.`, "--png", img, peft, conv)
	if code != 0 {
		t.Fatalf("similarity: exit %d: %s", code, errs)
	}
	var sim struct {
		Modules []struct {
			Name      string  `json:"name"`
			PhiRight1 float64 `json:"phi_right_11"`
			PhiLeft1  float64 `json:"phi_left_11"`
		} `json:"modules"`
	}
	if err := json.Unmarshal([]byte(out), &sim); err != nil || len(sim.Modules) != 6 {
		t.Fatalf("similarity JSON: %v, %d modules, want 6", err, len(sim.Modules))
	}
	const phiTol = 1e-6 // float32 storage of A and B
	for _, m := range sim.Modules {
		if m.PhiRight1 < 1-phiTol || m.PhiLeft1 < 1-phiTol {
			t.Errorf("%s: φ(1,1) = %v / %v, want 1", m.Name, m.PhiRight1, m.PhiLeft1)
		}
	}
	checkPNG(t, img)

	rep := filepath.Join(dir, "report")
	if _, errs, code := lorakit(t, "analyze", "report", lora, "--base", base, "-o", rep); code != 0 {
		t.Fatalf("report: %s", errs)
	}
	for _, f := range []string{"report.md", "report.json", "spectra.png", "amplification.png"} {
		if _, err := os.Stat(filepath.Join(rep, f)); err != nil {
			t.Errorf("report lacks %s", f)
		}
	}
	checkPNG(t, filepath.Join(rep, "spectra.png"))
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width < 100 || cfg.Height < 100 {
		t.Errorf("%s: %dx%d, %v", path, cfg.Width, cfg.Height, err)
	}
}
