package glue

import (
	"fmt"
	"math/rand/v2"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/model/encoder"
)

// TrainConfig is the fine-tuning recipe. Defaults (DefaultTrainConfig)
// are the LoRA paper's for RoBERTa on GLUE where they fit a small run:
// LoRA r 8, alpha 8 on query and value, head trained, AdamW, linear
// schedule with 6% warmup.
type TrainConfig struct {
	Rank        int
	Alpha       float64
	Targets     []string // GGUF module suffixes: attn_q, attn_v
	LR          float64
	WeightDecay float64
	Epochs      int
	Batch       int
	WarmupRatio float64
	Seed        uint64
	// Full trains every linear layer in full instead of LoRA (the
	// paper's fine-tuning baseline; embeddings and LayerNorms frozen).
	Full bool
}

// DefaultTrainConfig returns the recipe's defaults.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Rank: 8, Alpha: 8, Targets: []string{"attn_q", "attn_v"}, LR: 5e-4, WeightDecay: 0.1,
		Epochs: 3, Batch: 16, WarmupRatio: 0.06, Seed: 1}
}

// Eval is a model's score on a split.
type Eval struct {
	Loss     float64            `json:"loss"`
	Metrics  map[string]float64 `json:"metrics"`
	Majority float64            `json:"majority_baseline,omitempty"` // accuracy of always predicting the most frequent class
	Examples int                `json:"examples"`
}

// Evaluate runs the model over examples and scores it with the task's
// metrics.
func Evaluate(m *encoder.Model, t *Task, exs []encoder.Example) (Eval, error) {
	if len(exs) == 0 {
		return Eval{}, fmt.Errorf("glue: %s: no examples to evaluate: %w", t.Name, format.ErrFormat)
	}
	if err := checkHead(m, t); err != nil {
		return Eval{}, err
	}
	pred := make([]int, len(exs))
	vals := make([]float64, len(exs))
	gold := make([]Example, len(exs))
	counts := map[int]int{}
	loss := 0.0
	for i, ex := range exs {
		l, out, err := m.Loss(ex, false, 1)
		if err != nil {
			return Eval{}, fmt.Errorf("glue: %s: example %d: %w", t.Name, i, err)
		}
		loss += l
		vals[i] = out.Logits[0]
		for k, v := range out.Logits {
			if v > out.Logits[pred[i]] {
				pred[i] = k
			}
		}
		gold[i] = Example{Label: ex.Label, Target: ex.Target}
		counts[ex.Label]++
	}
	met, err := t.Score(pred, vals, gold)
	if err != nil {
		return Eval{}, err
	}
	e := Eval{Loss: loss / float64(len(exs)), Metrics: met, Examples: len(exs)}
	if !t.Regression() {
		most := 0
		for _, c := range counts {
			most = max(most, c)
		}
		e.Majority = float64(most) / float64(len(exs))
	}
	return e, nil
}

// checkHead refuses a model whose head does not fit the task.
func checkHead(m *encoder.Model, t *Task) error {
	want := len(t.Labels)
	if t.Regression() {
		want = 1
	}
	if n := m.Config.NumLabels(); n != want {
		return fmt.Errorf("glue: %s has %d labels, but the model's head has %d outputs: %w", t.Name, want, n, format.ErrShape)
	}
	return nil
}

// Step is one optimizer step's record.
type Step struct {
	Step  int     `json:"step"`
	Epoch int     `json:"epoch"`
	LR    float64 `json:"lr"`
	Loss  float64 `json:"loss"` // mean training loss of the batch
}

// Train fine-tunes m on train with cfg: fresh LoRAs on cfg.Targets, the
// head trained in full, AdamW with a linear schedule. onStep, when set,
// sees every step.
func Train(m *encoder.Model, t *Task, train []encoder.Example, cfg TrainConfig, onStep func(Step)) error {
	if len(train) == 0 || cfg.Batch <= 0 || cfg.Epochs <= 0 || !(cfg.LR > 0) {
		return fmt.Errorf("glue: %d examples, batch %d, %d epochs, lr %g: want all positive: %w", len(train), cfg.Batch, cfg.Epochs, cfg.LR, format.ErrInvalidOption)
	}
	if err := checkHead(m, t); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x676c7565))
	if cfg.Full {
		m.TrainAll()
	} else {
		if err := m.AddLoRA(cfg.Targets, cfg.Rank, cfg.Alpha, rng); err != nil {
			return err
		}
		if err := m.TrainHead(); err != nil {
			return err
		}
	}
	s := schedule{LR: cfg.LR, WeightDecay: cfg.WeightDecay, WarmupRatio: cfg.WarmupRatio, Epochs: cfg.Epochs, Batch: cfg.Batch}
	return fit(m, len(train), s, rng, func(i int, scale float64) (float64, error) {
		l, _, err := m.Loss(train[i], true, scale)
		if err != nil {
			return 0, fmt.Errorf("glue: %s: training example %d: %w", t.Name, i, err)
		}
		return l, nil
	}, onStep)
}
