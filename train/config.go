package train

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/train/optim"
)

// Config holds a training run's hyperparameters. DefaultConfig gives the
// paper's GPT-2 E2E recipe (its Table 11).
type Config struct {
	// Full fine-tunes every weight instead of adding LoRA layers.
	Full bool
	// Targets, Rank, Alpha, RSLoRA and Dropout describe the LoRA layers
	// (see model.LoRAConfig); Targets may also be PEFT module names
	// (q_proj, v_proj, ...: see GGUFTargets).
	Targets []string
	Rank    int
	Alpha   float64
	RSLoRA  bool
	Dropout float64

	LR          float64 // peak learning rate
	Schedule    string  // "linear", "cosine" or "constant" (optim.NewSchedule)
	Warmup      int     // optimizer steps of linear warmup
	WeightDecay float64 // AdamW's decoupled weight decay
	Beta1       float64
	Beta2       float64
	Eps         float64
	Clip        float64 // clip gradients to this global norm; 0: no clipping

	Batch  int // sequences per micro-batch
	Accum  int // micro-batches per optimizer step
	Epochs int // passes over the data (when Steps is 0)
	Steps  int // optimizer steps; 0: Epochs passes
	Seq    int // longest sequence; longer ones are truncated

	LabelSmoothing float64
	Seed           uint64

	EvalEvery       int // held-out loss every N steps (0: only at the end)
	CheckpointEvery int // checkpoint every N steps (0: only at the end)
}

// DefaultConfig returns the paper's GPT-2 E2E hyperparameters: LoRA rank 4
// on q and v with alpha 32 and dropout 0.1, AdamW with lr 2e-4 and weight
// decay 0.01, linear schedule with 500 warmup steps, batch 8, 5 epochs,
// sequences of 512, label smoothing 0.1, seed 110.
func DefaultConfig() Config {
	return Config{
		Targets: []string{"q", "v"}, Rank: 4, Alpha: 32, Dropout: 0.1,
		LR: 2e-4, Schedule: "linear", Warmup: 500, WeightDecay: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8,
		Batch: 8, Accum: 1, Epochs: 5, Seq: 512, LabelSmoothing: 0.1, Seed: 110,
	}
}

// Validate checks every field's range; errors wrap format.ErrInvalidOption.
func (c Config) Validate() error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("train: %s: %w", fmt.Sprintf(f, a...), format.ErrInvalidOption)
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case !c.Full && (c.Rank <= 0 || len(c.Targets) == 0):
		return bad("LoRA needs a rank > 0 (got %d) and targets (got %v)", c.Rank, c.Targets)
	case !c.Full && !finite(c.Alpha):
		return bad("alpha %v", c.Alpha)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return bad("dropout %v, want in [0, 1)", c.Dropout)
	case !(c.LR > 0) || !finite(c.LR):
		return bad("learning rate %v, want > 0", c.LR)
	case !slices.Contains(optim.ScheduleNames, c.Schedule):
		return bad("schedule %q, want one of %s", c.Schedule, strings.Join(optim.ScheduleNames, ", "))
	case c.Warmup < 0:
		return bad("warmup %d", c.Warmup)
	case !(c.Clip >= 0) || !finite(c.Clip):
		return bad("clip norm %v", c.Clip)
	case c.Batch <= 0 || c.Accum <= 0:
		return bad("batch %d, accumulation %d: both must be > 0", c.Batch, c.Accum)
	case c.Steps < 0 || (c.Steps == 0 && c.Epochs <= 0):
		return bad("steps %d, epochs %d: give steps or epochs > 0", c.Steps, c.Epochs)
	case c.Seq <= 1:
		return bad("sequence length %d, want > 1", c.Seq)
	case !(c.LabelSmoothing >= 0 && c.LabelSmoothing < 1):
		return bad("label smoothing %v, want in [0, 1)", c.LabelSmoothing)
	case c.EvalEvery < 0 || c.CheckpointEvery < 0:
		return bad("eval every %d, checkpoint every %d", c.EvalEvery, c.CheckpointEvery)
	case !(c.Beta1 >= 0 && c.Beta1 < 1) || !(c.Beta2 >= 0 && c.Beta2 < 1):
		return bad("AdamW betas (%v, %v), want in [0, 1)", c.Beta1, c.Beta2)
	case !(c.Eps >= 0) || !(c.WeightDecay >= 0) || !finite(c.WeightDecay):
		return bad("AdamW eps %v, weight decay %v, want >= 0", c.Eps, c.WeightDecay)
	}
	return nil
}

// adamW returns the optimizer settings.
func (c Config) adamW() optim.AdamWConfig {
	return optim.AdamWConfig{Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps, WeightDecay: c.WeightDecay}
}
