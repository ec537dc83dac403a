package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/model/embedded"
	"github.com/lorakit/lorakit/train"
	"github.com/lorakit/lorakit/train/data"
	"github.com/lorakit/lorakit/train/optim"
)

type trainOptions struct {
	cfg       train.Config
	data      string
	evalData  string
	format    string
	tokenizer string
	out       string
	resume    bool
	force     bool
	refuse    bool // error on examples longer than --seq instead of truncating
	json      bool

	chatTemplate string // template of chat data (default: the base model's)

	glue glueOptions // --task glue/...: encoder fine-tuning (glue.go)
}

func newTrainCmd() *cobra.Command {
	o := trainOptions{cfg: train.DefaultConfig()}
	o.cfg.EvalEvery, o.cfg.CheckpointEvery = 200, 500
	cmd := &cobra.Command{
		Use:   "train [BASE] --data FILE -o OUT_DIR",
		Short: "Train a LoRA adapter (or fully fine-tune) on a base model",
		Long: `Train LoRA adapters on a base model's projections, as the LoRA paper does:
the base weights stay frozen (and, for a quantized GGUF base, stay quantized:
QLoRA-style), only the rank-r matrices A and B learn. BASE is a GGUF file, a
llama2.c checkpoint or a Hugging Face directory; without BASE the embedded
stories260K is trained.

Data (--data, --eval-data): E2E files ("meaning representation||reference"
per line), JSONL ({"prompt": ..., "completion": ...} per line) or plain text
(--format text; blank lines separate documents); the format is guessed from
the file unless --format says. The loss covers the completion only. Chat
data (--format chat, or .jsonl whose first line has "messages"): one
{"messages": [{"role", "content"}, ...]} per line, rendered with the base
model's chat template (or --chat-template) as transformers renders it, the
loss on the assistant turns only (each reply and the text closing its turn,
such as <|im_end|>). Examples
longer than --seq tokens are cut to their first --seq+1 tokens with a warning
(--no-truncate: an error naming the line); an example whose prompt alone
fills --seq is skipped.

Defaults are the paper's GPT-2 E2E recipe: rank 4 on q,v, alpha 32, dropout
0.1, AdamW lr 2e-4 with weight decay 0.01, 500 warmup steps then linear decay,
batch 8, 5 epochs, label smoothing 0.1, seed 110. Runs are reproducible: the
same flags give the same loss curve, bit for bit, on the same machine.

OUT_DIR receives train.jsonl (one JSON object per step and per evaluation),
loss.png, checkpoint/ (every --save-every steps and on Ctrl-C: the adapter in
PEFT layout plus optimizer, data-order and dropout state) and, at the end,
adapter/ (PEFT) and adapter.gguf (llama.cpp); with --full, model.gguf instead:
every weight in F32 with the base's metadata and tokenizer, ready for
"lorakit generate OUT_DIR/model.gguf". --resume continues from checkpoint/
with the configuration saved there, bit-identically to an uninterrupted run.

--task glue/sst2 (mrpc, qqp, rte, qnli, mnli, cola, stsb) fine-tunes an
encoder BASE (BERT/RoBERTa: HF directory or GGUF) on a GLUE task, --data
being the task's directory (train.tsv, dev.tsv), with the LoRA paper's
recipe: LoRA r 8, alpha 8 on query and value, the classification head
trained in full, AdamW (lr 5e-4, weight decay 0.1), 6% warmup then linear
decay, batch 16, 3 epochs (--rank, --alpha, --lr, --epochs, --batch,
--weight-decay, --seed, --targets q,k,v,o,up,down override). It prints dev
loss and metrics before and after and writes OUT_DIR/adapter (PEFT, the
head as modules_to_save).
--tokenizer words builds a word vocabulary from train.tsv for encoders
trained from scratch.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			base := ""
			if len(args) == 1 {
				base = args[0]
			}
			return runTrain(cmd, base, o)
		},
	}
	f := cmd.Flags()
	c := &o.cfg
	f.StringVar(&o.data, "data", "", "training data file (required)")
	f.StringVar(&o.evalData, "eval-data", "", "held-out data file: its loss is logged every --eval-every steps")
	f.StringVar(&o.format, "format", "", "data format: e2e, jsonl, chat or text (default: guess)")
	f.StringVar(&o.chatTemplate, "chat-template", "", "chat data: the template to render it with (HF dir, tokenizer_config.json, .jinja, GGUF; default: the base model's)")
	f.StringVar(&o.tokenizer, "tokenizer", "", "tokenizer file (default: the model's own)")
	f.StringVarP(&o.out, "output", "o", "", "output directory (required)")
	f.BoolVar(&o.resume, "resume", false, "continue the run in OUT_DIR from its checkpoint")
	f.BoolVar(&o.force, "force", false, "start over in an OUT_DIR that holds a run")
	f.BoolVar(&o.refuse, "no-truncate", false, "fail on examples longer than --seq instead of truncating them")
	f.BoolVar(&o.json, "json", false, "print a JSON summary on stdout")
	bindConfigFlags(f, c)
	addGlueFlags(cmd, &o.glue, true)
	return cmd
}

// bindConfigFlags defines the flags that set a run's configuration on f,
// bound to c (defaults from c).
func bindConfigFlags(f *pflag.FlagSet, c *train.Config) {
	f.BoolVar(&c.Full, "full", false, "full fine-tuning: train every weight (for comparison)")
	f.StringSliceVar(&c.Targets, "targets", c.Targets, "projections to adapt: q,k,v,o,gate,up,down (qkv: a fused one whole; MoE experts: gate_exps,up_exps,down_exps or experts), or PEFT module names (q_proj,v_proj,...)")
	f.IntVar(&c.Rank, "rank", c.Rank, "LoRA rank r")
	f.Float64Var(&c.Alpha, "alpha", c.Alpha, "LoRA alpha (scale alpha/r)")
	f.BoolVar(&c.RSLoRA, "rslora", false, "scale by alpha/sqrt(r) (rsLoRA)")
	f.Float64Var(&c.Dropout, "dropout", c.Dropout, "LoRA dropout")
	f.Float64Var(&c.LR, "lr", c.LR, "peak learning rate")
	f.StringVar(&c.Schedule, "schedule", c.Schedule, "learning-rate schedule: "+strings.Join(optim.ScheduleNames, ", "))
	f.IntVar(&c.Warmup, "warmup", c.Warmup, "warmup steps")
	f.Float64Var(&c.WeightDecay, "weight-decay", c.WeightDecay, "AdamW decoupled weight decay")
	f.Float64Var(&c.Clip, "clip", c.Clip, "clip gradients to this global norm (0: off)")
	f.IntVar(&c.Batch, "batch", c.Batch, "sequences per micro-batch")
	f.IntVar(&c.Accum, "accum", c.Accum, "micro-batches per optimizer step (gradient accumulation)")
	f.IntVar(&c.Epochs, "epochs", c.Epochs, "passes over the data")
	f.IntVar(&c.Steps, "steps", c.Steps, "optimizer steps (overrides --epochs)")
	f.IntVar(&c.Seq, "seq", c.Seq, "longest sequence in tokens (at most the model's context)")
	f.Float64Var(&c.LabelSmoothing, "label-smoothing", c.LabelSmoothing, "label smoothing epsilon")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the LoRA initialisation, dropout and data order")
	f.IntVar(&c.EvalEvery, "eval-every", c.EvalEvery, "held-out loss every N steps (0: at the end only)")
	f.IntVar(&c.CheckpointEvery, "save-every", c.CheckpointEvery, "checkpoint every N steps (0: at the end only)")
}

// resumeConfig is the configuration of a resumed run: the checkpoint's,
// where flags given now must agree with it, except --steps, which may
// extend the run. A flag that would change it is refused, naming it,
// instead of being ignored.
func resumeConfig(flags *pflag.FlagSet, saved train.Config, dir string) (train.Config, error) {
	now := saved
	scratch := pflag.NewFlagSet("resume", pflag.ContinueOnError)
	bindConfigFlags(scratch, &now)
	now = saved // binding wrote the defaults: start again from the checkpoint's
	var changed []string
	var err error
	flags.Visit(func(fl *pflag.Flag) {
		if scratch.Lookup(fl.Name) == nil || err != nil {
			return
		}
		before := now
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			err = scratch.Lookup(fl.Name).Value.(pflag.SliceValue).Replace(sv.GetSlice())
		} else {
			err = scratch.Set(fl.Name, fl.Value.String())
		}
		if fl.Name == "steps" {
			return
		}
		cmp := now
		cmp.Steps = saved.Steps
		if !reflect.DeepEqual(cmp, saved) {
			changed = append(changed, "--"+fl.Name)
			now = before
		}
	})
	if err != nil {
		return saved, usageError{err}
	}
	if len(changed) > 0 {
		return saved, usageError{fmt.Errorf("%s: --resume continues the run with the configuration in its checkpoint; %s would change it (only --steps may, to extend the run): start over with --force instead",
			dir, strings.Join(changed, ", "))}
	}
	return now, nil
}

// runInputs fingerprints what a run reads (train.Digest by role), for the
// checkpoint: --resume refuses data or a base that changed.
func runInputs(basePath string, o trainOptions) (map[string]string, error) {
	in := map[string]string{}
	for role, path := range map[string]string{"training data": o.data, "eval data": o.evalData, "base model": basePath, "tokenizer": o.tokenizer} {
		if path == "" {
			continue
		}
		d, err := train.Digest(path)
		if err != nil {
			return nil, err
		}
		in[role] = d
	}
	if basePath == "" {
		in["base model"] = "embedded " + embedded.Name
	}
	return in, nil
}

// trainSummary is train's --json output.
type trainSummary struct {
	Out          string  `json:"out"`
	Steps        int     `json:"steps"`
	Trainable    int     `json:"trainable_params"`
	Tokens       int64   `json:"tokens"`
	Loss         float64 `json:"loss"`
	EvalLoss     float64 `json:"eval_loss,omitempty"`
	Seconds      float64 `json:"seconds"`
	TokensPerSec float64 `json:"tokens_per_s"`
	Adapter      string  `json:"adapter,omitempty"`
	AdapterGGUF  string  `json:"adapter_gguf,omitempty"`
	Model        string  `json:"model,omitempty"` // --full: the fine-tuned model
}

func runTrain(cmd *cobra.Command, basePath string, o trainOptions) error {
	if o.glue.task != "" {
		return runGlueTrain(cmd, basePath, o)
	}
	errw := cmd.ErrOrStderr()
	if o.data == "" || o.out == "" {
		return usageError{errors.New("train needs --data FILE and -o OUT_DIR")}
	}
	cfg := o.cfg
	if o.resume {
		st, err := train.ReadState(o.out)
		if err != nil {
			return err
		}
		if cfg, err = resumeConfig(cmd.Flags(), st.Config, o.out); err != nil {
			return err
		}
	} else if _, err := os.Stat(filepath.Join(o.out, train.CheckpointDir)); err == nil && !o.force {
		return fmt.Errorf("%s holds a run: continue it with --resume, or start over with --force: %w", o.out, format.ErrExists)
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	// Everything is read and checked before OUT_DIR is touched.
	l, err := openLM(basePath, lmOptions{tokenizer: o.tokenizer}, model.Options{KeepQuantized: !cfg.Full, FullFineTune: cfg.Full})
	if err != nil {
		return err
	}
	tok, err := l.NeedTokenizer()
	if err != nil {
		return err
	}
	m := l.Model
	seq := min(cfg.Seq, m.Config.Context)
	b := train.BuilderFor(tok, seq)
	if o.refuse {
		b.Policy = data.Refuse
	}
	chats := &chatData{base: basePath, template: o.chatTemplate, tok: tok}
	trainEx, err := loadExamples(errw, b, o.data, o.format, chats)
	if err != nil {
		return err
	}
	var evalEx []data.Example
	if o.evalData != "" {
		if evalEx, err = loadExamples(errw, b, o.evalData, o.format, chats); err != nil {
			return err
		}
	}
	t, err := train.New(m, cfg, trainEx, evalEx)
	if err != nil {
		return err
	}
	t.Dir, t.Base, t.Metadata = o.out, l.Name, tok.Vocab().Metadata()
	if t.Inputs, err = runInputs(basePath, o); err != nil {
		return err
	}
	if o.resume {
		if err := t.Resume(o.out); err != nil {
			return err
		}
		fmt.Fprintf(errw, "resuming %s at step %d with its saved configuration\n", o.out, t.State().Step)
	}
	log, err := train.OpenLog(o.out, t.State().History)
	if err != nil {
		return err
	}
	defer log.Close()
	bar := newTrainProgress(errw, t.TotalSteps())
	var logErr error
	t.OnRecord = func(r train.Record) {
		if err := log.Write(r); err != nil && logErr == nil {
			logErr = err
		}
		bar.record(r)
	}
	what := fmt.Sprintf("LoRA rank %d on %s", cfg.Rank, strings.Join(cfg.Targets, ","))
	if cfg.Full {
		what = "full fine-tuning"
	}
	fmt.Fprintf(errw, "training %s: %s, %d trainable parameters, %d examples (%d tokens), %d steps\n",
		l.Name, what, t.Trainable(), len(trainEx), t.TrainData().Tokens, t.TotalSteps())
	start := time.Now()
	runErr := t.Run(cmd.Context())
	bar.done()
	hist := t.State().History
	if err := train.WriteLossPlot(filepath.Join(o.out, train.PlotFile), hist, l.Name+": "+what); err != nil && runErr == nil {
		runErr = err
	}
	if errors.Is(runErr, train.ErrInterrupted) {
		return fmt.Errorf("%s: checkpoint saved, continue with --resume: %w", filepath.Join(o.out, train.CheckpointDir), runErr)
	}
	if runErr != nil {
		return runErr
	}
	if logErr != nil {
		return logErr
	}
	sum := trainSummary{Out: o.out, Steps: t.State().Step, Trainable: t.Trainable(), Tokens: t.State().Tokens, Seconds: time.Since(start).Seconds()}
	sum.TokensPerSec = float64(t.State().Tokens) / sum.Seconds
	for _, r := range hist {
		if r.Loss != 0 {
			sum.Loss = r.Loss
		}
		if r.EvalLoss != 0 {
			sum.EvalLoss = r.EvalLoss
		}
	}
	if cfg.Full {
		sum.Model = filepath.Join(o.out, train.FinalModelGGUF)
	} else {
		sum.AdapterGGUF = filepath.Join(o.out, train.FinalAdapterGGUF)
		if _, err := os.Stat(filepath.Join(o.out, train.FinalAdapterDir)); err == nil {
			sum.Adapter = filepath.Join(o.out, train.FinalAdapterDir)
		}
	}
	return printTrainSummary(cmd.OutOrStdout(), sum, o.json)
}

func printTrainSummary(w io.Writer, s trainSummary, asJSON bool) error {
	if asJSON {
		return writeJSON(w, s)
	}
	fmt.Fprintf(w, "steps\t%d\ntrainable\t%d\ntokens\t%d\nloss\t%.4f\n", s.Steps, s.Trainable, s.Tokens, s.Loss)
	if s.EvalLoss != 0 {
		fmt.Fprintf(w, "eval_loss\t%.4f\n", s.EvalLoss)
	}
	fmt.Fprintf(w, "tokens/s\t%.0f\n", s.TokensPerSec)
	if s.Adapter != "" {
		fmt.Fprintf(w, "adapter\t%s\n", s.Adapter)
	}
	if s.AdapterGGUF != "" {
		fmt.Fprintf(w, "adapter_gguf\t%s\n", s.AdapterGGUF)
	}
	if s.Model != "" {
		fmt.Fprintf(w, "model\t%s\n", s.Model)
	}
	_, err := fmt.Fprintf(w, "log\t%s\n", filepath.Join(s.Out, train.LogFile))
	return err
}

// loadExamples reads and tokenizes a data file, warning on stderr about
// truncated and skipped examples.
func loadExamples(errw io.Writer, b data.Builder, path, formatName string, chats *chatData) ([]data.Example, error) {
	if formatName == "" {
		var err error
		if formatName, err = data.Detect(path); err != nil {
			return nil, err
		}
	}
	var ex []data.Example
	var st data.Stats
	var err error
	if formatName == data.FormatChat {
		ex, st, err = chats.build(b, path)
	} else {
		ex, st, err = buildPairs(b, path, formatName)
	}
	if err != nil {
		return nil, err
	}
	if st.Truncated > 0 || st.Skipped > 0 {
		fmt.Fprintf(errw, "warning: %s: %d examples truncated to %d tokens, %d skipped (prompt fills the context)\n", path, st.Truncated, b.Seq+1, st.Skipped)
	}
	return ex, nil
}

// buildPairs reads and tokenizes an e2e, jsonl or text file.
func buildPairs(b data.Builder, path, formatName string) ([]data.Example, data.Stats, error) {
	pairs, err := data.Load(path, formatName)
	if err != nil {
		return nil, data.Stats{}, err
	}
	if len(pairs) == 0 {
		return nil, data.Stats{}, fmt.Errorf("%s: no examples: %w", path, format.ErrNotFound)
	}
	if formatName == data.FormatText {
		return b.BuildText(pairs, path)
	}
	return b.Build(pairs, path)
}
