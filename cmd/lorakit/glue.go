package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/model/encoder"
	"github.com/lorakit/lorakit/tokenizer"
	"github.com/lorakit/lorakit/train/glue"
)

// glueOptions are the flags train and eval share for GLUE tasks.
type glueOptions struct {
	task    string // glue/sst2, ...
	limit   int    // train: first N training rows (0: all)
	newHead bool   // replace a head whose label count differs from the task's
	maxLen  int
}

// glueWordVocab is --tokenizer's value for a word-level vocabulary built
// from the task's training split (encoders trained from scratch).
const glueWordVocab = "words"

// glueData reads a split of the task and frames it for m.
func glueData(task *glue.Task, dir, split, tokPath, modelPath string, m *encoder.Model, maxLen int) ([]encoder.Example, error) {
	p, err := task.SplitPath(dir, split)
	if err != nil {
		return nil, err
	}
	rows, err := task.ReadFile(p)
	if err != nil {
		return nil, err
	}
	tok, f, err := glueTokenizer(task, dir, tokPath, modelPath, m)
	if err != nil {
		return nil, err
	}
	f.MaxLen = maxLen
	if m.Config.Positions > 0 {
		f.MaxLen = min(maxLen, m.Config.Positions)
	}
	exs := task.Examples(rows, tok, f)
	if m.Config.Types <= 1 { // RoBERTa, DeBERTa-v3: no second segment type
		for i := range exs {
			exs[i].Seq.Types = nil
		}
	}
	return exs, nil
}

// glueTokenizer is --tokenizer words (a word vocabulary of the training
// split, ids 0-3 the special tokens: BERT's [PAD] [UNK] [CLS] [SEP], or
// RoBERTa's <s> <pad> </s> <unk>), a tokenizer file, or the model's own;
// [CLS]/<s> and [SEP]/</s> are the tokenizer's BOS and EOS.
func glueTokenizer(task *glue.Task, dir, tokPath, modelPath string, m *encoder.Model) (glue.Tokenizer, glue.Framing, error) {
	roberta := m.Config.Head == encoder.RoBERTaHead || m.Config.ModelType == "roberta"
	if tokPath == glueWordVocab {
		p, err := task.SplitPath(dir, "train")
		if err != nil {
			return nil, glue.Framing{}, err
		}
		rows, err := task.ReadFile(p)
		if err != nil {
			return nil, glue.Framing{}, err
		}
		f, unk := glue.Framing{CLS: 2, SEP: 3}, 1
		if roberta {
			f, unk = glue.Framing{CLS: 0, SEP: 2, RoBERTa: true}, 3
		}
		wv, err := glue.NewWordVocab(rows, m.Config.Vocab, 4, unk)
		return wv, f, err
	}
	var v *tokenizer.Vocab
	var err error
	if tokPath != "" {
		v, err = convert.LoadTokenizer(tokPath)
	} else if convert.IsHFDir(modelPath) {
		var src format.Source
		if src, v, err = convert.OpenModel(modelPath, ""); err == nil {
			src.Close()
		}
	}
	if err != nil {
		return nil, glue.Framing{}, err
	}
	if v == nil || v.BOS < 0 || v.EOS < 0 {
		return nil, glue.Framing{}, fmt.Errorf("%s: no tokenizer with [CLS]/<s> and [SEP]/</s> ids: give --tokenizer FILE, or --tokenizer words for a word vocabulary of the training split: %w", modelPath, format.ErrNotFound)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		return nil, glue.Framing{}, err
	}
	return tok, glue.Framing{CLS: v.BOS, SEP: v.EOS, RoBERTa: roberta}, nil
}

// glueLabels are the head's labels for a task (one for regression).
func glueLabels(task *glue.Task) []string {
	if task.Regression() {
		return []string{"score"}
	}
	return task.Labels
}

// glueTrainReport is train --task's --json output.
type glueTrainReport struct {
	Task    string    `json:"task"`
	Steps   int       `json:"steps"`
	Loss    float64   `json:"loss"`
	Before  glue.Eval `json:"dev_before"`
	After   glue.Eval `json:"dev_after"`
	Adapter string    `json:"adapter"`
	Seconds float64   `json:"seconds"`
}

// runGlueTrain fine-tunes an encoder on a GLUE task with the paper's
// recipe and writes OUT_DIR/adapter (PEFT, head in modules_to_save).
func runGlueTrain(cmd *cobra.Command, basePath string, o trainOptions) error {
	errw := cmd.ErrOrStderr()
	if basePath == "" || o.data == "" || o.out == "" {
		return usageError{errors.New("train --task glue/... needs BASE (an encoder), --data DIR and -o OUT_DIR")}
	}
	task, err := glue.LookupTask(o.glue.task)
	if err != nil {
		return usageError{err}
	}
	m, err := encoder.Load(basePath)
	if err != nil {
		return err
	}
	cfg := glue.DefaultTrainConfig()
	fl := cmd.Flags()
	// The decoder flags given on the command line override the recipe's
	// defaults; the others keep them.
	for name, set := range map[string]func(){
		"rank":         func() { cfg.Rank = o.cfg.Rank },
		"alpha":        func() { cfg.Alpha = o.cfg.Alpha },
		"lr":           func() { cfg.LR = o.cfg.LR },
		"epochs":       func() { cfg.Epochs = o.cfg.Epochs },
		"batch":        func() { cfg.Batch = o.cfg.Batch },
		"weight-decay": func() { cfg.WeightDecay = o.cfg.WeightDecay },
		"seed":         func() { cfg.Seed = o.cfg.Seed },
	} {
		if fl.Changed(name) {
			set()
		}
	}
	if fl.Changed("targets") {
		names := map[string]string{"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output", "up": "ffn_up", "down": "ffn_down"}
		cfg.Targets = nil
		for _, t := range o.cfg.Targets {
			g, ok := names[t]
			if !ok {
				return usageError{fmt.Errorf("--targets %q: an encoder has q, k, v, o, up, down", t)}
			}
			cfg.Targets = append(cfg.Targets, g)
		}
	}
	if want := len(glueLabels(task)); m.Config.NumLabels() != want {
		if m.Config.Head != encoder.NoHead && !o.glue.newHead {
			return fmt.Errorf("%s: its head has %d labels (%v), %s has %d: give --new-head to train a new head: %w",
				basePath, m.Config.NumLabels(), m.Config.Labels, task.Name, want, format.ErrShape)
		}
		if err := m.NewHead(glueLabels(task), rand.New(rand.NewPCG(cfg.Seed, 1))); err != nil {
			return err
		}
		fmt.Fprintf(errw, "new %v head for %d labels (random init)\n", m.Config.Head, want)
	}
	train, err := glueData(task, o.data, "train", o.tokenizer, basePath, m, o.glue.maxLen)
	if err != nil {
		return err
	}
	if o.glue.limit > 0 {
		train = train[:min(o.glue.limit, len(train))]
	}
	dev, err := glueData(task, o.data, "dev", o.tokenizer, basePath, m, o.glue.maxLen)
	if err != nil {
		return err
	}
	before, err := glue.Evaluate(m, task, dev)
	if err != nil {
		return err
	}
	start := time.Now()
	rep := glueTrainReport{Task: "glue/" + task.Name, Before: before}
	err = glue.Train(m, task, train, cfg, func(s glue.Step) {
		rep.Steps, rep.Loss = s.Step, s.Loss
		if s.Step%50 == 0 {
			fmt.Fprintf(errw, "step %d epoch %d lr %.3g loss %.4f\n", s.Step, s.Epoch, s.LR, s.Loss)
		}
	})
	if err != nil {
		return err
	}
	rep.Seconds = time.Since(start).Seconds()
	if rep.After, err = glue.Evaluate(m, task, dev); err != nil {
		return err
	}
	a, err := m.ExportAdapter("", basePath, cfg.Alpha)
	if err != nil {
		return err
	}
	rep.Adapter = filepath.Join(o.out, "adapter")
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if err := lora.WritePEFT(a, rep.Adapter, lora.WriteOptions{Force: o.force}); err != nil {
		return err
	}
	fmt.Fprintf(errw, "dev loss %.4f -> %.4f, %v -> %v (majority baseline %.4f); adapter %s\n",
		before.Loss, rep.After.Loss, before.Metrics, rep.After.Metrics, rep.After.Majority, rep.Adapter)
	if o.json {
		return writeJSON(cmd.OutOrStdout(), rep)
	}
	return nil
}

// glueEvalReport is eval --task's output.
type glueEvalReport struct {
	Task    string `json:"task"`
	Model   string `json:"model"`
	Adapter string `json:"adapter,omitempty"`
	glue.Eval
}

// runGlueEval scores an encoder (with --adapter) on a task's dev split.
func runGlueEval(cmd *cobra.Command, path string, o evalOptions) error {
	if path == "" || o.data == "" {
		return usageError{errors.New("eval --task glue/... needs MODEL (an encoder) and --data DIR")}
	}
	task, err := glue.LookupTask(o.glue.task)
	if err != nil {
		return usageError{err}
	}
	if o.glue.newHead && o.adapter == "" {
		return usageError{errors.New("eval --new-head takes the head from --adapter; give one")}
	}
	m, err := encoder.Load(path)
	if err != nil {
		return err
	}
	if want := len(glueLabels(task)); o.glue.newHead && m.Config.NumLabels() != want {
		// the adapter's head (modules_to_save) fills the new head
		if err := m.NewHead(glueLabels(task), rand.New(rand.NewPCG(0, 1))); err != nil {
			return err
		}
	}
	if err := applyEncoderAdapter(m, o.adapter); err != nil {
		return err
	}
	dev, err := glueData(task, o.data, "dev", o.tokenizer, path, m, o.glue.maxLen)
	if err != nil {
		return err
	}
	if o.limit > 0 {
		dev = dev[:min(o.limit, len(dev))]
	}
	ev, err := glue.Evaluate(m, task, dev)
	if err != nil {
		return err
	}
	rep := glueEvalReport{Task: "glue/" + task.Name, Model: path, Adapter: o.adapter, Eval: ev}
	if o.json {
		return writeJSON(cmd.OutOrStdout(), rep)
	}
	w := cmd.OutOrStdout()
	for _, k := range task.Metrics {
		fmt.Fprintf(w, "%-10s %.4f\n", k, ev.Metrics[k])
	}
	fmt.Fprintf(w, "%-10s %.4f\n", "loss", ev.Loss)
	if !task.Regression() {
		fmt.Fprintf(w, "%-10s %.4f\n", "majority", ev.Majority)
	}
	return nil
}

// addGlueFlags adds the GLUE flags to train or eval.
func addGlueFlags(cmd *cobra.Command, o *glueOptions, training bool) {
	f := cmd.Flags()
	f.StringVar(&o.task, "task", "", "GLUE task (glue/sst2, mrpc, qqp, rte, qnli, mnli, cola, stsb) for an encoder; --data is then the task's directory")
	f.IntVar(&o.maxLen, "max-len", 128, "GLUE: longest framed sequence in tokens (pairs cut longest-first)")
	if training {
		f.IntVar(&o.limit, "limit", 0, "GLUE: train on the first N rows only (0: all)")
		f.BoolVar(&o.newHead, "new-head", false, "GLUE: replace a head whose label count is not the task's with a new one")
	} else {
		f.BoolVar(&o.newHead, "new-head", false, "GLUE: the base's head has another label count; --adapter's head (modules_to_save) replaces it")
	}
}
