package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"gonum.org/v1/gonum/mat"
)

// twoLayers returns a rank-r adapter with q and v in layers 0 and 1.
func twoLayers(r int, seed uint64) []Module {
	rng := newRNG(seed)
	var mods []Module
	for l := range 2 {
		for _, p := range []string{"q_proj", "v_proj"} {
			mods = append(mods, Module{
				Name: fmt.Sprintf("base_model.model.model.layers.%d.self_attn.%s", l, p),
				A:    randn(rng, r, 24), B: randn(rng, 32, r), Alpha: 2 * float64(r), Scale: 2,
			})
		}
	}
	return mods
}

func testReport(t *testing.T) *Report {
	t.Helper()
	w, _ := decaying(t, 40, 32, 24)
	base := func(string) (Weight, error) { return DenseWeight(w), nil }
	rep, err := BuildReport(context.Background(), twoLayers(4, 1), twoLayers(8, 2), base, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep.AdapterA, rep.AdapterB, rep.Base = "r4", "r8", "base"
	return rep
}

func TestWriteReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "report")
	rep := testReport(t)
	if err := WriteReport(dir, rep, false); err != nil {
		t.Fatal(err)
	}
	// Sizes from the layout: panels of 3.2×2.4 in at 96 dpi; φ figures add
	// a 0.9 in colour bar; the amplification chart is 8×4 in.
	want := map[string][2]int{
		"spectra.png":                {614, 230}, // 2 layers side by side
		"phi-self_attn_q_proj-A.png": {701, 230}, // 2 layers + colour bar
		"phi-self_attn_q_proj-B.png": {701, 230},
		"phi-self_attn_v_proj-A.png": {701, 230},
		"phi-self_attn_v_proj-B.png": {701, 230},
		"amplification.png":          {768, 384},
	}
	if len(rep.Figures) != len(want) {
		t.Errorf("WriteReport wrote %d figures, want %d", len(rep.Figures), len(want))
	}
	for name, size := range want {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("figure %s: %v", name, err)
			continue
		}
		cfg, kind, err := image.DecodeConfig(f)
		f.Close()
		if err != nil || kind != "png" || cfg.Width != size[0] || cfg.Height != size[1] {
			t.Errorf("DecodeConfig(%s) = %s %d×%d, %v; want png %d×%d", name, kind, cfg.Width, cfg.Height, err, size[0], size[1])
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"## Rank recommendation", "## Spectrum", "## Subspace similarity", "## Amplification", "(spectra.png)", "layers.1.self_attn.v_proj"} {
		if !bytes.Contains(md, []byte(s)) {
			t.Errorf("report.md lacks %q", s)
		}
	}
	js, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js, &back); err != nil || len(back.Spectrum.Modules) != 4 || len(back.Similarity.Modules) != 4 || len(back.Amplification.Modules) != 4 {
		t.Errorf("report.json does not round-trip: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("WriteReport left %d entries beside the report, want only it", len(entries))
	}

	// An existing report is refused without force and replaced with it.
	if err := WriteReport(dir, rep, false); !errors.Is(err, format.ErrExists) {
		t.Errorf("WriteReport(existing) error = %v, want ErrExists", err)
	}
	os.WriteFile(filepath.Join(dir, "stale.png"), []byte("x"), 0o644)
	if err := WriteReport(dir, rep, true); err != nil {
		t.Fatalf("WriteReport(force) error = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "stale.png")); !os.IsNotExist(err) {
		t.Errorf("WriteReport(force) kept a file of the old report")
	}
	// A directory holding other things is never replaced.
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	if err := WriteReport(dir, rep, true); !errors.Is(err, format.ErrExists) {
		t.Errorf("WriteReport(force, foreign file) error = %v, want ErrExists", err)
	}
}

func TestWriteReportFailsCleanly(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "report")
	rep := testReport(t)
	rep.Spectrum.Modules[0].StableRank = math.NaN() // JSON cannot encode it
	if err := WriteReport(dir, rep, false); err == nil {
		t.Fatal("WriteReport(NaN) succeeded, want an error")
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 0 {
		t.Errorf("failed WriteReport left %v behind", entries)
	}
	file := filepath.Join(parent, "file")
	os.WriteFile(file, nil, 0o644)
	if err := WriteReport(file, testReport(t), true); !errors.Is(err, format.ErrExists) {
		t.Errorf("WriteReport(onto a file) error = %v, want ErrExists", err)
	}
}

func TestFiguresOfEdgeCases(t *testing.T) {
	// A zero update (nothing on a log axis), rank 1 (1×1 φ grid), a name
	// without a layer number, a single module: all must render.
	rng := newRNG(41)
	zero := Module{Name: "lm_head", A: randn(rng, 1, 10), B: mat.NewDense(12, 1, nil), Scale: 1}
	one := Module{Name: "blk.0.attn_q", A: randn(rng, 1, 10), B: randn(rng, 12, 1), Scale: 1}
	s, err := Spectra(context.Background(), []Module{zero, one})
	if err != nil {
		t.Fatal(err)
	}
	sim, err := Compare(context.Background(), []Module{one}, []Module{one}, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	amp := &Amplification{Modules: []ModuleAmplification{{Name: "lm_head", Rank: 1}}}
	rep := &Report{Spectrum: s, Similarity: sim, Amplification: amp}
	for _, f := range rep.figures() {
		var buf bytes.Buffer
		if err := f.WritePNG(&buf); err != nil {
			t.Errorf("%s: %v", f.File, err)
			continue
		}
		cfg, _, err := image.DecodeConfig(&buf)
		if err != nil || cfg.Width != f.Width || cfg.Height != f.Height {
			t.Errorf("%s: %d×%d, %v; want %d×%d", f.File, cfg.Width, cfg.Height, err, f.Width, f.Height)
		}
	}
}

func TestSplitName(t *testing.T) {
	for _, c := range []struct {
		name  string
		layer int
		kind  string
	}{
		{"base_model.model.model.layers.3.self_attn.q_proj", 3, "self_attn.q_proj"},
		{"blk.31.attn_v", 31, "attn_v"},
		{"base_model.model.transformer.h.0.attn.c_attn", 0, "attn.c_attn"},
		{"lm_head", -1, "lm_head"},
		{"x.07.y", -1, "x.07.y"},
		{"layers.5", -1, "layers.5"},
	} {
		l, k := splitName(c.name)
		if l != c.layer || k != c.kind {
			t.Errorf("splitName(%q) = %d, %q, want %d, %q", c.name, l, k, c.layer, c.kind)
		}
	}
	if got := fileSafe("self_attn.q/proj"); strings.ContainsAny(got, "./") {
		t.Errorf("fileSafe = %q, want no . or /", got)
	}
}
