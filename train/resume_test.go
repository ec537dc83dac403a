package train

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/model"
)

// curve is a run's reproducible numbers: each record's step, losses, rate
// and gradient norm (timings excluded).
func curve(h []Record) [][5]float64 {
	out := make([][5]float64, len(h))
	for i, r := range h {
		out[i] = [5]float64{float64(r.Step), r.Loss, r.EvalLoss, r.LR, r.GradNorm}
	}
	return out
}

func sameBits(a, b [][5]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		for j := range a[i] {
			if math.Float64bits(a[i][j]) != math.Float64bits(b[i][j]) {
				return false
			}
		}
	}
	return true
}

func TestResumeReproducesLossCurve(t *testing.T) {
	cfg := tinyConfig()
	cfg.Steps, cfg.Accum, cfg.EvalEvery, cfg.CheckpointEvery, cfg.Clip = 9, 2, 3, 4, 1
	for _, c := range []struct {
		name    string
		dropout float64
		full    bool
	}{{"lora-dropout", 0.1, false}, {"full", 0, true}} {
		t.Run(c.name, func(t *testing.T) {
			cfg := cfg
			cfg.Dropout, cfg.Full = c.dropout, c.full
			if c.full {
				cfg.LR = 1e-3
			}
			opts := model.Options{FullFineTune: c.full}
			newTrainer := func(dir string, cfg Config) *Trainer {
				m, tok := loadStories(t, opts)
				tr, te := e2eExamples(t, tok, 256, 40, 8)
				tn, err := New(m, cfg, tr, te)
				if err != nil {
					t.Fatal(err)
				}
				tn.Dir = dir
				tn.Metadata = tok.Vocab().Metadata()
				return tn
			}
			second := checkResume(t, newTrainer, cfg, 5)
			dir := second.Dir
			if c.full {
				checkModelFile(t, filepath.Join(dir, FinalModelGGUF), second.Model())
			}
			if !c.full {
				for _, f := range []string{FinalAdapterGGUF, filepath.Join(FinalAdapterDir, "adapter_config.json"), filepath.Join(CheckpointDir, "adapter_model.safetensors")} {
					if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
						t.Errorf("output %s: %v", f, err)
					}
				}
			}
		})
	}
}

// checkModelFile checks that a full fine-tuning run's model.gguf carries a
// tokenizer and computes the trained model's logits, bit for bit.
func checkModelFile(t *testing.T, path string, trained *model.Model) {
	t.Helper()
	src, vocab, err := convert.OpenModel(path, "")
	if err != nil {
		t.Fatalf("OpenModel(%s) = %v", path, err)
	}
	defer src.Close()
	if vocab == nil {
		t.Errorf("OpenModel(%s) found no tokenizer", path)
	}
	m, err := model.Load(src, model.Options{})
	if err != nil {
		t.Fatalf("Load(%s) = %v", path, err)
	}
	ids := []int{1, 400, 7, 99, 12}
	for i := range ids {
		ids[i] %= trained.Config.Vocab
	}
	want, err := trained.Logits(ids)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Logits(ids)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: Logits(%v)[%d] = %v, want the trained model's %v", path, ids, i, got[i], want[i])
		}
	}
}

// checkResume runs cfg twice with trainers from newTrainer: once whole, and
// once cancelled after step stop (Run checkpoints as it stops) and resumed
// from that checkpoint, and fails unless both loss curves are the
// same bit for bit. It returns the resumed trainer, whose directory holds
// the run's output.
func checkResume(t *testing.T, newTrainer func(dir string, cfg Config) *Trainer, cfg Config, stop int) *Trainer {
	t.Helper()
	whole := newTrainer(t.TempDir(), cfg)
	if err := whole.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := curve(whole.State().History)

	dir := t.TempDir()
	first := newTrainer(dir, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	first.OnRecord = func(r Record) {
		if r.Step == stop && r.Loss != 0 {
			cancel()
		}
	}
	err := first.Run(ctx)
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Run = %v, want ErrInterrupted and context.Canceled", err)
	}
	st, err := ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Step != stop {
		t.Fatalf("checkpoint at step %d, want %d", st.Step, stop)
	}
	second := newTrainer(dir, st.Config)
	if err := second.Resume(dir); err != nil {
		t.Fatal(err)
	}
	if err := second.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := curve(second.State().History)
	if !sameBits(got, want) {
		t.Errorf("resumed loss curve differs from the uninterrupted run:\n got %v\nwant %v", got, want)
	}
	return second
}
