package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/train/data"
	"github.com/lorakit/lorakit/train/optim"
)

// ErrInterrupted is returned by Run when its context was cancelled; the
// run saved a checkpoint first (when it has an output directory), from
// which Resume continues.
var ErrInterrupted = errors.New("train: interrupted")

// ErrDiverged is returned by Step and Run when the loss became NaN or
// infinite: the run diverged (the learning rate is too high, or the base
// holds non-finite weights), not a malformed file.
var ErrDiverged = errors.New("training diverged")

// Record is one line of the training log: a training step (Loss set) or a
// held-out evaluation (EvalLoss set).
type Record struct {
	Step     int     `json:"step"`
	Epoch    float64 `json:"epoch"`
	Loss     float64 `json:"loss,omitempty"`      // mean training loss of the step's micro-batches
	EvalLoss float64 `json:"eval_loss,omitempty"` // held-out mean cross-entropy per token
	LR       float64 `json:"lr,omitempty"`
	GradNorm float64 `json:"grad_norm,omitempty"` // before clipping
	Tokens   int64   `json:"tokens,omitempty"`    // training tokens seen so far
	// Timing: not part of a run's reproducible state.
	TokensPerSec float64 `json:"tokens_per_s,omitempty"`
	Elapsed      float64 `json:"elapsed_s,omitempty"`
}

// State is where a run stands; a checkpoint stores it beside the weights
// and the optimizer's moments.
type State struct {
	Config Config `json:"config"`
	Step   int    `json:"step"`          // optimizer steps done
	Micro  int64  `json:"micro_batches"` // micro-batches consumed: the data position
	// Dropout is the LoRA dropout generators' state (model.DropoutState)
	// as of the last checkpoint; Resume restores it.
	Dropout []byte   `json:"dropout_state,omitempty"`
	Tokens  int64    `json:"tokens"`
	History []Record `json:"history"`
	// Inputs are the Digest of each input of the run by role ("training
	// data", "base model", ...), as Trainer.Inputs gave them.
	Inputs map[string]string `json:"inputs,omitempty"`
}

// Trainer trains one model on one data set. Create it with New, optionally
// Resume a checkpoint, then Run.
type Trainer struct {
	cfg         Config
	m           *model.Model
	train, eval *Prepared
	params      []optim.Param
	opt         *optim.AdamW
	sched       optim.Schedule
	total       int // optimizer steps of the run
	perEpoch    int // micro-batches per epoch
	seq         int
	state       State

	orderEpoch int
	order      [][]int

	// Inputs fingerprints the run's inputs (role -> Digest): saved in each
	// checkpoint, and compared by Resume, which refuses a mismatch.
	Inputs map[string]string

	// Dir is the output directory of checkpoints and the final adapter;
	// empty: Run saves nothing.
	Dir string
	// OnRecord, if set, sees every record as it is made (progress bars,
	// logs).
	OnRecord func(Record)
	// Base names the base model for the saved adapter's config (PEFT's
	// base_model_name_or_path); optional.
	Base string
	// Metadata is set over the base's metadata in a full fine-tuning run's
	// model.gguf: the tokenizer's, when the base keeps it apart (a
	// llama2.c checkpoint); optional.
	Metadata format.Metadata
}

// New prepares m for training with cfg: it adds the LoRA layers (unless
// cfg.Full, which needs a model loaded with model.Options.FullFineTune)
// and the optimizer. eval may be empty (no held-out loss).
func New(m *model.Model, cfg Config, trainSet, evalSet []data.Example) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	seq := min(cfg.Seq, m.Config.Context)
	tr, err := Prepare(trainSet, seq, m.Config.Vocab, "training data")
	if err != nil {
		return nil, err
	}
	var ev *Prepared
	if len(evalSet) > 0 {
		if ev, err = Prepare(evalSet, seq, m.Config.Vocab, "held-out data"); err != nil {
			return nil, err
		}
	}
	if cfg.Full != m.Options().FullFineTune {
		return nil, fmt.Errorf("train: full fine-tuning %v needs a model loaded with FullFineTune %v: %w", cfg.Full, cfg.Full, format.ErrUnsupported)
	}
	if !cfg.Full {
		if err := m.AddLoRA(model.LoRAConfig{Targets: GGUFTargets(m.Config.Arch, cfg.Targets), Rank: cfg.Rank, Alpha: cfg.Alpha, RSLoRA: cfg.RSLoRA, Dropout: cfg.Dropout, Seed: cfg.Seed}); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	name := "lora"
	if cfg.Full {
		name = "weights"
	}
	params := []optim.Param{{Name: name, Data: m.Params(), Grad: m.Grads()}}
	opt, err := optim.NewAdamW(params, cfg.adamW())
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	t := &Trainer{cfg: cfg, m: m, train: tr, eval: ev, params: params, opt: opt, seq: seq, orderEpoch: -1}
	t.perEpoch = (len(tr.Examples) + cfg.Batch - 1) / cfg.Batch
	t.total = cfg.Steps
	if t.total == 0 {
		t.total = (cfg.Epochs*t.perEpoch + cfg.Accum - 1) / cfg.Accum
	}
	if t.sched, err = optim.NewSchedule(cfg.Schedule, cfg.LR, cfg.Warmup, t.total); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	t.state.Config = cfg
	return t, nil
}

// TotalSteps is the number of optimizer steps the run takes.
func (t *Trainer) TotalSteps() int { return t.total }

// State returns where the run stands (History shared, not copied).
func (t *Trainer) State() State { return t.state }

// Model returns the model being trained.
func (t *Trainer) Model() *model.Model { return t.m }

// TrainData returns the prepared training set.
func (t *Trainer) TrainData() *Prepared { return t.train }

// Trainable returns the number of trainable parameters.
func (t *Trainer) Trainable() int { return len(t.m.Params()) }

// microBatch returns the batch at data position k (micro-batches counted
// over epochs) and its number of real (not padding) positions.
func (t *Trainer) microBatch(k int64) (model.Batch, int, error) {
	epoch, i := int(k/int64(t.perEpoch)), int(k%int64(t.perEpoch))
	if epoch != t.orderEpoch {
		plan, err := data.Batcher{Size: t.cfg.Batch, Seed: t.cfg.Seed, Shuffle: true}.Plan(t.train.Examples, epoch)
		if err != nil {
			return model.Batch{}, 0, fmt.Errorf("train: %w", err)
		}
		t.order, t.orderEpoch = plan, epoch
	}
	b := data.MakeBatch(t.train.Examples, t.order[i], 0)
	return toModel(b, float32(t.cfg.LabelSmoothing)), realTokens(b), nil
}

// Step takes one optimizer step (Accum micro-batches) and returns its
// record.
func (t *Trainer) Step() (Record, error) { return t.StepContext(context.Background()) }

// StepContext is Step checking ctx between micro-batches, so that a long
// accumulated step stops promptly. A step stopped midway is undone (data
// position, dropout generators, gradients) and ctx's error returned: the
// trainer stays at the last whole step, and a checkpoint saved then
// resumes bit-identically.
func (t *Trainer) StepContext(ctx context.Context) (Record, error) {
	m, cfg := t.m, t.cfg
	m.ZeroGrad()
	var loss float64
	var tokens int64
	micro0, dropout0 := t.state.Micro, m.DropoutState()
	for i := range cfg.Accum {
		if i > 0 {
			if err := ctx.Err(); err != nil {
				t.state.Micro = micro0
				m.ZeroGrad()
				if derr := m.SetDropoutState(dropout0); derr != nil {
					return Record{}, errors.Join(err, derr)
				}
				return Record{}, err
			}
		}
		b, n, err := t.microBatch(t.state.Micro)
		if err != nil {
			return Record{}, err
		}
		l, err := m.Forward(b)
		if err != nil {
			return Record{}, fmt.Errorf("train: step %d: %w", t.state.Step+1, err)
		}
		if err := m.Backward(); err != nil {
			return Record{}, fmt.Errorf("train: step %d: %w", t.state.Step+1, err)
		}
		if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
			return Record{}, fmt.Errorf("train: step %d: loss is %v (lower the learning rate): %w", t.state.Step+1, l, ErrDiverged)
		}
		loss += float64(l)
		tokens += int64(n)
		t.state.Micro++
	}
	if cfg.Accum > 1 {
		optim.ScaleGrad(t.params, 1/float64(cfg.Accum))
	}
	norm := optim.ClipGradNorm(t.params, cfg.Clip)
	lr := t.sched(t.state.Step)
	t.opt.Step(lr)
	t.state.Step++
	t.state.Tokens += tokens
	return Record{
		Step: t.state.Step, Epoch: float64(t.state.Micro) / float64(t.perEpoch),
		Loss: loss / float64(cfg.Accum), LR: lr, GradNorm: norm, Tokens: t.state.Tokens,
	}, nil
}

// EvalLoss returns the mean cross-entropy per completion token of the
// held-out set (no label smoothing, no dropout); NaN when there is none.
func (t *Trainer) EvalLoss() (float64, error) {
	if t.eval == nil {
		return math.NaN(), nil
	}
	return MeanLoss(t.m, t.eval.Examples, t.cfg.Batch)
}

// MeanLoss returns m's mean cross-entropy per completion token over
// examples, in batches of batch sequences of similar length.
func MeanLoss(m *model.Model, examples []data.Example, batch int) (float64, error) {
	order, err := data.Batcher{Size: batch}.Plan(examples, 0)
	if err != nil {
		return 0, fmt.Errorf("train: %w", err)
	}
	var sum float64
	var count int
	for _, idx := range order {
		db := data.MakeBatch(examples, idx, 0)
		b := toModel(db, 0)
		n := db.LossTokens()
		if n == 0 {
			continue
		}
		l, err := m.Loss(b)
		if err != nil {
			return 0, fmt.Errorf("train: held-out loss: %w", err)
		}
		sum += float64(l) * float64(n)
		count += n
	}
	if count == 0 {
		return math.NaN(), nil
	}
	return sum / float64(count), nil
}

// Run trains until the last step, evaluating and checkpointing as the
// config says, and saves the final adapter in Dir. When ctx is cancelled
// it stops between steps, saves a checkpoint and returns an error wrapping
// ErrInterrupted and ctx's error.
func (t *Trainer) Run(ctx context.Context) error {
	cfg := t.cfg
	start, startTokens := time.Now(), t.state.Tokens
	if t.eval != nil && t.state.Step == 0 && len(t.state.History) == 0 {
		if err := t.evaluate(); err != nil { // the starting point of the curve
			return err
		}
	}
	for t.state.Step < t.total {
		if err := ctx.Err(); err != nil {
			if t.Dir != "" {
				if serr := t.SaveCheckpoint(); serr != nil {
					return errors.Join(fmt.Errorf("%w at step %d: %w", ErrInterrupted, t.state.Step, err), serr)
				}
			}
			return fmt.Errorf("%w at step %d (checkpoint saved): %w", ErrInterrupted, t.state.Step, err)
		}
		rec, err := t.StepContext(ctx)
		if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			continue // undone midway: the check above saves the checkpoint
		}
		if err != nil {
			return err
		}
		el := time.Since(start).Seconds()
		rec.Elapsed = el
		if el > 0 {
			rec.TokensPerSec = float64(t.state.Tokens-startTokens) / el
		}
		t.record(rec)
		last := t.state.Step == t.total
		if t.eval != nil && (last || (cfg.EvalEvery > 0 && t.state.Step%cfg.EvalEvery == 0)) {
			if err := t.evaluate(); err != nil {
				return err
			}
		}
		if t.Dir != "" && !last && cfg.CheckpointEvery > 0 && t.state.Step%cfg.CheckpointEvery == 0 {
			if err := t.SaveCheckpoint(); err != nil {
				return err
			}
		}
	}
	if t.Dir == "" {
		return nil
	}
	if err := t.SaveCheckpoint(); err != nil {
		return err
	}
	return t.saveOutput()
}

// evaluate records the held-out loss at the current step.
func (t *Trainer) evaluate() error {
	l, err := t.EvalLoss()
	if err != nil {
		return err
	}
	t.record(Record{Step: t.state.Step, Epoch: float64(t.state.Micro) / float64(t.perEpoch), EvalLoss: l})
	return nil
}

func (t *Trainer) record(r Record) {
	t.state.History = append(t.state.History, r)
	if t.OnRecord != nil {
		t.OnRecord(r)
	}
}
