package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/tokenizer"
	"github.com/lorakit/lorakit/train/data"
)

// families are the stems of the llama.cpp-made tiny models in
// ../shared/fixtures/arch: one per architecture the model runs beyond
// GPT-2 and Llama 2 (llama31 is Llama with Llama-3.1 RoPE factors,
// mixtral a Mixtral-style MoE on the llama architecture).
var families = []string{"qwen2", "qwen3", "gemma2", "gemma3", "phi3", "llama31", "mixtral", "qwen3moe"}

// familyIDs are token ids every fixture vocabulary (304 or 305) has.
var familyIDs = []int{1, 260, 7, 99, 12, 300}

// minFamilyDrop is the part of the way from the held-out loss before
// training to the least loss the model can reach (lossFloor) that a run of
// 30 steps must cover: half the weakest measured (mixtral, 8%, 0.46 nats;
// gemma2, whose final soft-cap of 0.5 leaves 1.0 nats to gain, 26%).
const minFamilyDrop = 0.04

// lossFloor is the least cross-entropy m can reach: 0, or with a final
// logit soft-cap c, which keeps every logit within ±c, log(1 + (V-1)·e^-2c)
// (the target at +c, every other token at -c).
func lossFloor(m *model.Model) float64 {
	c := m.Config.FinalSoftcap
	if c == 0 {
		return 0
	}
	return math.Log1p(float64(m.Config.Vocab-1) * math.Exp(-2*c))
}

// fixturePath is ../shared/fixtures/arch/<file>.
func fixturePath(t testing.TB, file string) string {
	return testshared.Path(t, filepath.Join("fixtures/arch", file))
}

// loadFixture loads ../shared/fixtures/arch/<file> and the SentencePiece
// vocabulary its metadata carries.
func loadFixture(t testing.TB, file string, opts model.Options) (*model.Model, *tokenizer.Tokenizer) {
	t.Helper()
	src, v, err := convert.OpenModel(fixturePath(t, file), "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if v == nil {
		t.Fatalf("%s: no tokenizer in its metadata", file)
	}
	m, err := model.Load(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	return m, tok
}

// familyConfig is a LoRA run on q and v of a tiny fixture model.
func familyConfig(steps int) Config {
	c := DefaultConfig()
	c.LR, c.Warmup, c.Batch, c.Steps, c.Seq, c.Dropout = 2e-2, 2, 4, steps, 64, 0
	return c
}

// textExamples is the embedded E2E slice as text for language modelling
// (BuildText: prompt and completion, every token in the loss), in windows
// of seq tokens: the first nTrain of the training part, the first nTest of
// the test part. The fixtures' vocabulary is mostly bytes, so a prompt
// alone fills a window of 64: the prompt/completion framing would leave
// next to no completion tokens to learn from.
func textExamples(t testing.TB, tok *tokenizer.Tokenizer, seq, nTrain, nTest int) (tr, te []data.Example) {
	t.Helper()
	trp, tep, err := EmbeddedE2E()
	if err != nil {
		t.Fatal(err)
	}
	b := BuilderFor(tok, seq)
	// each E2E line is over 100 tokens here: a line per window is plenty
	if tr, _, err = b.BuildText(trp[:min(nTrain, len(trp))], "train"); err != nil {
		t.Fatal(err)
	}
	if te, _, err = b.BuildText(tep[:min(nTest, len(tep))], "test"); err != nil {
		t.Fatal(err)
	}
	return tr[:min(nTrain, len(tr))], te[:min(nTest, len(te))]
}

// newFamilyTrainer returns a trainer of cfg on the fixture file with
// about one epoch of E2E text, writing into dir.
func newFamilyTrainer(t *testing.T, file string, opts model.Options, dir string, cfg Config) *Trainer {
	t.Helper()
	m, tok := loadFixture(t, file, opts)
	tr, te := textExamples(t, tok, cfg.Seq, cfg.Batch*cfg.Accum*cfg.Steps, 8)
	tn, err := New(m, cfg, tr, te)
	if err != nil {
		t.Fatal(err)
	}
	tn.Dir = dir
	return tn
}

// trainFamily runs tn and fails unless its held-out loss covers
// minFamilyDrop of the way to lossFloor.
func trainFamily(t *testing.T, tn *Trainer) {
	t.Helper()
	before, err := tn.EvalLoss()
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, err := tn.EvalLoss()
	if err != nil {
		t.Fatal(err)
	}
	floor := lossFloor(tn.Model())
	if want := before - minFamilyDrop*(before-floor); !(after < want) {
		t.Errorf("held-out loss %.4f -> %.4f in %d steps, want below %.4f (the least reachable is %.4f)", before, after, tn.State().Step, want, floor)
	}
	t.Logf("held-out loss %.4f -> %.4f in %d steps (%.0f%% of the way to %.4f)", before, after, tn.State().Step, 100*(before-after)/(before-floor), floor)
}

// tolFamilyMerge: float32 rounding of W + s·B·A against the low-rank path
// at run time, 2 layers: a few times the 4e-7 measured (phi3, qwen3moe).
const tolFamilyMerge = 2e-6

// TestFamiliesTrain: a LoRA run on q,v of each family's F32 fixture lowers
// the held-out loss; the PEFT adapter, the llama.cpp LoRA GGUF and the PEFT
// adapter converted to GGUF each merge into the base file, and the merged
// model computes the trained model's logits (base + adapter at run time).
func TestFamiliesTrain(t *testing.T) {
	steps := 300
	if testing.Short() {
		steps = 30
	}
	for _, fam := range families {
		t.Run(fam, func(t *testing.T) {
			base := fixturePath(t, fam+"-f32.gguf")
			dir := t.TempDir()
			tn := newFamilyTrainer(t, fam+"-f32.gguf", model.Options{}, dir, familyConfig(steps))
			trainFamily(t, tn)
			want, err := tn.Model().Logits(familyIDs)
			if err != nil {
				t.Fatal(err)
			}
			peft := filepath.Join(dir, FinalAdapterDir)
			conv := filepath.Join(t.TempDir(), "converted.gguf")
			if err := convert.Adapter(peft, conv, convert.AdapterOptions{Base: base}); err != nil {
				t.Fatalf("convert %s: %v", peft, err)
			}
			for _, a := range []string{filepath.Join(dir, FinalAdapterGGUF), peft, conv} {
				out := filepath.Join(t.TempDir(), "merged.gguf")
				if _, err := merge.Merge(context.Background(), base, []merge.Input{{Path: a, Scale: 1}}, out, merge.Options{}); err != nil {
					t.Fatalf("merge %s: %v", a, err)
				}
				src, err := format.Open(out)
				if err != nil {
					t.Fatal(err)
				}
				m, err := model.Load(src, model.Options{})
				src.Close()
				if err != nil {
					t.Fatal(err)
				}
				got, err := m.Logits(familyIDs)
				if err != nil {
					t.Fatal(err)
				}
				var worst float64
				for i := range want {
					worst = max(worst, math.Abs(float64(got[i]-want[i])))
				}
				if worst > tolFamilyMerge {
					t.Errorf("merged %s: logits differ from base + adapter at run time by %.3g > %g", filepath.Base(a), worst, tolFamilyMerge)
				}
				t.Logf("merged %s: max |Δlogit| %.3g", filepath.Base(a), worst)
			}
		})
	}
}

// TestFamiliesQuantizedBase: LoRA on each family's Q8_0 fixture, its
// matrices kept in Q8_0 (QLoRA-style), lowers the held-out loss.
func TestFamiliesQuantizedBase(t *testing.T) {
	for _, fam := range families {
		t.Run(fam, func(t *testing.T) {
			trainFamily(t, newFamilyTrainer(t, fam+"-q8_0.gguf", model.Options{KeepQuantized: true}, "", familyConfig(30)))
		})
	}
}

// TestFamiliesResume: a run interrupted after step 3 (not a checkpoint
// step) and resumed (LoRA with dropout, and full fine-tuning of qwen3) reproduces the uninterrupted one bit for
// bit; the full run's model.gguf computes the trained model's logits.
func TestFamiliesResume(t *testing.T) {
	cfg := familyConfig(6)
	cfg.Batch, cfg.Accum, cfg.EvalEvery, cfg.CheckpointEvery, cfg.Clip, cfg.Dropout = 2, 2, 3, 2, 1, 0.1
	for _, fam := range append(families, "qwen3-full") {
		t.Run(fam, func(t *testing.T) {
			cfg, opts, file := cfg, model.Options{}, fam+"-f32.gguf"
			if fam == "qwen3-full" {
				cfg.Full, cfg.Dropout, cfg.LR, opts.FullFineTune, file = true, 0, 1e-3, true, "qwen3-f32.gguf"
			}
			newTrainer := func(dir string, cfg Config) *Trainer { return newFamilyTrainer(t, file, opts, dir, cfg) }
			second := checkResume(t, newTrainer, cfg, 3)
			if cfg.Full {
				checkModelFile(t, filepath.Join(second.Dir, FinalModelGGUF), second.Model())
				return
			}
			if _, err := os.Stat(filepath.Join(second.Dir, FinalAdapterGGUF)); err != nil {
				t.Error(err)
			}
		})
	}
}
