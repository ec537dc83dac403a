// Package demo runs the whole life of a LoRA adapter with nothing but
// lorakit: on the embedded stories260K and E2E slice it trains two
// adapters, decodes and scores before and after, merges and exports, checks
// the merge and writes the Section 7 analysis (`lorakit demo`).
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/lorakit/lorakit/analyze"
	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/convert/quantize"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/model/embedded"
	"github.com/lorakit/lorakit/model/generate"
	"github.com/lorakit/lorakit/resolve"
	"github.com/lorakit/lorakit/tokenizer"
	"github.com/lorakit/lorakit/train"
	"github.com/lorakit/lorakit/train/data"
	"github.com/lorakit/lorakit/train/metrics"
)

// MergeTol bounds the demo's merge check, the largest logit difference
// between the merged F32 model and the base with the adapter applied at run
// time: float32 rounding of W + s·B·A against x·Wᵀ + s·(x·Aᵀ)·Bᵀ over
// stories260K's five layers; about 3 x the 6.2e-6 measured on the full demo
// (3.8e-6 on the reduced one).
const MergeTol = 2e-5

// Options control Run.
type Options struct {
	// Dir receives everything; it must not exist (or be empty) unless Force,
	// which replaces the files a previous demo wrote there.
	Dir   string
	Force bool
	// Log receives the narrative (stderr in the CLI); nil discards it.
	Log io.Writer
	// Epochs over the embedded training slice per adapter (0: 3). Tests
	// use a fraction via Steps.
	Epochs int
	// Steps, when > 0, replaces Epochs (tests).
	Steps int
	// Beams for the test-set decoding (0: greedy, the quick default).
	Beams int
	// MaxPrompts, when > 0, decodes only that many test prompts (tests).
	MaxPrompts int
}

// RunSummary is one adapter the demo trained.
type RunSummary struct {
	Name         string         `json:"name"`
	Rank         int            `json:"rank"`
	Targets      []string       `json:"targets"`
	Trainable    int            `json:"trainable_params"`
	Steps        int            `json:"steps"`
	Seconds      float64        `json:"seconds"`
	TokensPerSec float64        `json:"tokens_per_s"`
	LossBefore   float64        `json:"test_loss_before"`
	LossAfter    float64        `json:"test_loss_after"`
	Scores       metrics.Scores `json:"scores"`
	Dir          string         `json:"dir"`
}

// Sample is one test prompt decoded before and after training.
type Sample struct {
	Prompt    string `json:"prompt"`
	Before    string `json:"before"`
	After     string `json:"after"`     // rank 4
	After16   string `json:"after_r16"` // rank 16
	Reference string `json:"reference"`
}

// Summary is what Run made and measured.
type Summary struct {
	Dir        string         `json:"dir"`
	Base       string         `json:"base_gguf"`
	Runs       []RunSummary   `json:"runs"`
	Samples    []Sample       `json:"samples"`
	BaseScores metrics.Scores `json:"base_scores"`
	Merged     string         `json:"merged_gguf"`
	MergedQ8   string         `json:"merged_q8_0_gguf"`
	// MergeMaxDiff is the largest logit difference between the merged F32
	// model and the base with the adapter applied at run time.
	MergeMaxDiff float64 `json:"merge_max_logit_diff"`
	Report       string  `json:"report"`
	Seconds      float64 `json:"seconds"`
}

// Run runs the whole life of an adapter on the embedded stories260K and
// the embedded E2E slice: export the base as GGUF, train a rank-4 q,v
// adapter and a rank-16 one, decode test prompts before and after, merge
// the rank-4 adapter into the base and export the merged model as GGUF
// (F32 and Q8_0), and write the Section 7 analysis (spectra, r=4 vs r=16
// subspace similarity, amplification). Cancelling ctx stops it; the
// directory is left with what was finished.
func Run(ctx context.Context, o Options) (*Summary, error) {
	start := time.Now()
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	say := func(f string, a ...any) { fmt.Fprintf(logw, f+"\n", a...) }
	if err := prepareDir(o.Dir, o.Force); err != nil {
		return nil, err
	}
	sum := &Summary{Dir: o.Dir}

	// The base: the embedded model, also exported as GGUF with its tokenizer.
	vocab, err := embedded.Vocab()
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.New(vocab)
	if err != nil {
		return nil, err
	}
	sum.Base = filepath.Join(o.Dir, "base.gguf")
	say("1. base: %s (embedded) -> %s", embedded.Name, sum.Base)
	if err := writeEmbeddedGGUF(ctx, sum.Base, vocab); err != nil {
		return nil, err
	}
	loadBase := func() (*model.Model, error) {
		src, err := format.Open(sum.Base)
		if err != nil {
			return nil, err
		}
		defer src.Close()
		return model.Load(src, model.Options{})
	}

	// Data.
	trainPairs, testPairs, err := train.EmbeddedE2E()
	if err != nil {
		return nil, err
	}
	b := train.BuilderFor(tok, train.DemoSeq)
	trainEx, _, err := b.Build(trainPairs, "embedded e2e/train.txt")
	if err != nil {
		return nil, err
	}
	testEx, _, err := b.Build(testPairs, "embedded e2e/test.txt")
	if err != nil {
		return nil, err
	}
	groups := data.GroupByPrompt(testPairs)
	if o.MaxPrompts > 0 {
		groups = groups[:min(o.MaxPrompts, len(groups))]
	}
	dec := generate.Options{MaxNew: 64, NoRepeatNGram: 4}
	if o.Beams > 1 {
		dec.Beams, dec.LengthPenalty = o.Beams, 0.9
	}
	say("   data: %d training pairs, %d test pairs (%d meaning representations), E2E NLG, CC BY-SA 4.0", len(trainEx), len(testEx), len(groups))

	base, err := loadBase()
	if err != nil {
		return nil, err
	}
	say("2. before training: decoding %d test prompts", len(groups))
	before, err := train.Evaluate(ctx, base, tok, b, groups, dec, nil)
	if err != nil {
		return nil, err
	}
	sum.BaseScores = before.Scores

	// Two adapters.
	var trained []*model.Model
	for i, r := range []int{4, 16} {
		m, err := loadBase()
		if err != nil {
			return nil, err
		}
		cfg := train.DemoConfig(r)
		if o.Epochs > 0 {
			cfg.Epochs = o.Epochs
		}
		cfg.Steps = o.Steps
		name := fmt.Sprintf("lora-r%d", r)
		dir := filepath.Join(o.Dir, name)
		t, err := train.New(m, cfg, trainEx, testEx)
		if err != nil {
			return nil, err
		}
		t.Dir, t.Base = dir, embedded.Name
		say("%d. training %s: rank %d on %v, alpha %g, %d trainable parameters, %d steps", 3+i, name, r, cfg.Targets, cfg.Alpha, t.Trainable(), t.TotalSteps())
		lossBefore, err := t.EvalLoss()
		if err != nil {
			return nil, err
		}
		log, err := train.OpenLog(dir, nil)
		if err != nil {
			return nil, err
		}
		t.OnRecord = func(r train.Record) { log.Write(r) }
		ts := time.Now()
		err = t.Run(ctx)
		log.Close()
		if err != nil {
			return nil, err
		}
		secs := time.Since(ts).Seconds()
		if err := train.WriteLossPlot(filepath.Join(dir, train.PlotFile), t.State().History, name+" on "+embedded.Name+", E2E slice"); err != nil {
			return nil, err
		}
		lossAfter, err := t.EvalLoss()
		if err != nil {
			return nil, err
		}
		ev, err := train.Evaluate(ctx, m, tok, b, groups, dec, nil)
		if err != nil {
			return nil, err
		}
		run := RunSummary{Name: name, Rank: r, Targets: cfg.Targets, Trainable: t.Trainable(), Steps: t.TotalSteps(),
			Seconds: secs, TokensPerSec: float64(t.State().Tokens) / secs, LossBefore: lossBefore, LossAfter: lossAfter,
			Scores: ev.Scores, Dir: dir}
		say("   test loss %.3f -> %.3f in %.1fs (%.0f tokens/s); BLEU %.3f ROUGE-L %.3f", lossBefore, lossAfter, secs, run.TokensPerSec, ev.Scores.BLEU, ev.Scores.ROUGEL)
		sum.Runs = append(sum.Runs, run)
		trained = append(trained, m)
		for j := range min(3, len(groups)) {
			if i == 0 {
				sum.Samples = append(sum.Samples, Sample{Prompt: groups[j].Prompt, Before: before.Predictions[j].Output,
					After: ev.Predictions[j].Output, Reference: groups[j].Refs[0]})
			} else {
				sum.Samples[j].After16 = ev.Predictions[j].Output
			}
		}
	}

	// Merge the rank-4 adapter and export it.
	sum.Merged = filepath.Join(o.Dir, "merged-f32.gguf")
	sum.MergedQ8 = filepath.Join(o.Dir, "merged-q8_0.gguf")
	adapterPath := filepath.Join(sum.Runs[0].Dir, train.FinalAdapterGGUF)
	say("5. merging %s into the base -> %s, %s", adapterPath, sum.Merged, sum.MergedQ8)
	if _, err := merge.Merge(ctx, sum.Base, []merge.Input{{Path: adapterPath, Scale: 1}}, sum.Merged, merge.Options{Force: true}); err != nil {
		return nil, err
	}
	preset, err := quantize.ParsePreset("Q8_0")
	if err != nil {
		return nil, err
	}
	if err := convert.Model(ctx, sum.Merged, sum.MergedQ8, convert.ModelOptions{Preset: preset, Force: true}); err != nil {
		return nil, err
	}
	if sum.MergeMaxDiff, err = mergedLogitDiff(sum.Merged, trained[0], testEx[0].Tokens); err != nil {
		return nil, err
	}
	say("   merged model vs adapter applied at run time: max logit difference %.2g", sum.MergeMaxDiff)
	if !(sum.MergeMaxDiff <= MergeTol) {
		return nil, fmt.Errorf("%s: merged model's logits differ from the base with the adapter applied by %g, beyond the tolerance %g", sum.Merged, sum.MergeMaxDiff, MergeTol)
	}

	// Section 7 on the two adapters.
	sum.Report = filepath.Join(o.Dir, "report")
	say("6. analysis (spectra, r=4 vs r=16 subspace similarity, amplification) -> %s", sum.Report)
	if err := writeAnalysis(ctx, sum.Report, trained[0], trained[1], sum.Base, "lora-r4", "lora-r16"); err != nil {
		return nil, err
	}
	sum.Seconds = time.Since(start).Seconds()
	return sum, nil
}

// prepareDir makes dir, refusing an existing non-empty one unless force.
func prepareDir(dir string, force bool) error {
	if dir == "" {
		return fmt.Errorf("train: no output directory: %w", format.ErrNotFound)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 && !force {
		return fmt.Errorf("%s: already exists and is not empty (use --force): %w", dir, format.ErrExists)
	}
	return os.MkdirAll(dir, 0o755)
}

// writeEmbeddedGGUF exports the embedded model with its tokenizer as an
// F32 GGUF file at path.
func writeEmbeddedGGUF(ctx context.Context, path string, vocab *tokenizer.Vocab) error {
	src, err := embedded.Source()
	if err != nil {
		return err
	}
	defer src.Close()
	m, err := model.Load(src, model.Options{})
	if err != nil {
		return err
	}
	return train.WriteModel(ctx, m, vocab.Metadata(), path)
}

// mergedLogitDiff loads the merged checkpoint and returns the largest
// difference between its logits and applied's (base with the adapter at run
// time) for tokens.
func mergedLogitDiff(mergedPath string, applied *model.Model, tokens []int) (float64, error) {
	src, err := format.Open(mergedPath)
	if err != nil {
		return 0, err
	}
	merged, err := model.Load(src, model.Options{})
	src.Close()
	if err != nil {
		return 0, err
	}
	a, err := applied.Logits(tokens)
	if err != nil {
		return 0, err
	}
	b, err := merged.Logits(tokens)
	if err != nil {
		return 0, err
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d, nil
}

// writeAnalysis writes the Section 7 report comparing two trained models'
// adapters (GGUF names) against the base at basePath.
func writeAnalysis(ctx context.Context, dir string, ma, mb *model.Model, basePath, nameA, nameB string) error {
	b, err := resolve.Open(basePath)
	if err != nil {
		return err
	}
	defer b.Close()
	base := analyze.NewBase(b)
	modsA, err := base.Modules(ma.Adapter(), nameA)
	if err != nil {
		return err
	}
	modsB, err := base.Modules(mb.Adapter(), nameB)
	if err != nil {
		return err
	}
	rep, err := analyze.BuildReport(ctx, modsA, modsB, base.Stream, analyze.ReportOptions{})
	if err != nil {
		return err
	}
	rep.AdapterA, rep.AdapterB, rep.Base = nameA, nameB, basePath
	if err := analyze.WriteReport(dir, rep, true); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
