package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/internal/atomicfile"
	"github.com/lorakit/lorakit/model/generate"
	"github.com/lorakit/lorakit/train"
	"github.com/lorakit/lorakit/train/data"
)

type evalOptions struct {
	lmOptions
	data          string
	format        string
	beams         int
	lengthPenalty float64
	noRepeat      int
	maxNew        int
	limit         int
	out           string
	force         bool
	json          bool
	glue          glueOptions
}

func newEvalCmd() *cobra.Command {
	var o evalOptions
	cmd := &cobra.Command{
		Use:   "eval [MODEL] --data FILE",
		Short: "Decode a test set and score it with the E2E metrics (BLEU, NIST, ROUGE-L, CIDEr, METEOR exact)",
		Long: `Decode each distinct prompt (meaning representation) of a test set once and
score the outputs against all of its references with the E2E NLG Challenge's
metrics: BLEU and NIST as mteval-v13a computes them, ROUGE-L and CIDEr-D as
pycocoevalcap does, and METEOR on exact matches only (official METEOR needs
WordNet and paraphrase tables; the exact-match score is lower and labelled
so). MODEL is as for generate (default: the embedded stories260K); --adapter
PATH[:SCALE] applies a LoRA adapter at run time.

Prompts are framed as lorakit train frames them. Decoding is greedy unless
--beam > 1; the paper decodes E2E with --beam 10 --length-penalty 0.9
--no-repeat-ngram 4. -o writes the outputs, one line per prompt in the
test file's order (the format e2e-metrics reads).

--task glue/sst2 (mrpc, qqp, rte, qnli, mnli, cola, stsb) scores an encoder
MODEL (with --adapter) on the task's dev split in --data DIR with GLUE's
metrics (accuracy; F1 for MRPC/QQP; Matthews for CoLA; Pearson/Spearman for
STS-B), and the majority-class baseline.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := ""
			if len(args) == 1 {
				path = args[0]
			}
			return interrupted(o.out, runEval(cmd, path, o))
		},
	}
	f := cmd.Flags()
	addLMFlags(cmd, &o.lmOptions)
	f.StringVar(&o.data, "data", "", "test data (E2E or JSONL; required)")
	f.StringVar(&o.format, "format", "", "data format: e2e or jsonl (default: guess)")
	f.IntVar(&o.beams, "beam", 1, "beam width (> 1: beam search)")
	f.Float64Var(&o.lengthPenalty, "length-penalty", 0, "beam search: rank finished beams by log p / length^L")
	f.IntVar(&o.noRepeat, "no-repeat-ngram", 0, "never repeat an n-gram of this size (0: off)")
	f.IntVarP(&o.maxNew, "max-tokens", "n", 64, "most tokens per output")
	f.IntVar(&o.limit, "limit", 0, "score only the first N prompts (0: all)")
	f.StringVarP(&o.out, "output", "o", "", "write the outputs here, one per line")
	f.BoolVar(&o.force, "force", false, "overwrite -o")
	f.BoolVar(&o.json, "json", false, "print one JSON object")
	addGlueFlags(cmd, &o.glue, false)
	return cmd
}

// evalReport is eval's --json output.
type evalReport struct {
	Model   string         `json:"model"`
	Adapter string         `json:"adapter,omitempty"`
	Data    string         `json:"data"`
	Prompts int            `json:"prompts"`
	Refs    int            `json:"references"`
	Scores  map[string]any `json:"scores"`
}

func runEval(cmd *cobra.Command, path string, o evalOptions) error {
	if o.glue.task != "" {
		return runGlueEval(cmd, path, o)
	}
	if o.data == "" {
		return usageError{fmt.Errorf("eval needs --data FILE")}
	}
	dec := generate.Options{MaxNew: o.maxNew, Beams: o.beams, LengthPenalty: o.lengthPenalty, NoRepeatNGram: o.noRepeat}
	if err := dec.Validate(); err != nil {
		return usageError{err}
	}
	if o.out != "" {
		if err := atomicfile.CheckOutput(o.out, o.force); err != nil {
			return err
		}
	}
	dataFormat := o.format
	if dataFormat == "" {
		var err error
		if dataFormat, err = data.Detect(o.data); err != nil {
			return err
		}
	}
	if dataFormat == data.FormatText {
		return usageError{fmt.Errorf("eval needs prompts and references (%s reads as plain text): --format e2e or jsonl", o.data)}
	}
	pairs, err := data.Load(o.data, dataFormat)
	if err != nil {
		return err
	}
	groups := data.GroupByPrompt(pairs)
	if o.limit > 0 {
		groups = groups[:min(o.limit, len(groups))]
	}
	l, err := openLM(path, o.lmOptions, runOptions)
	if err != nil {
		return err
	}
	tok, err := l.NeedTokenizer()
	if err != nil {
		return err
	}
	b := train.BuilderFor(tok, l.Model.Config.Context)
	errw := cmd.ErrOrStderr()
	prog := newProgress(errw, "decoding")
	var progress func(done, total int)
	if prog != nil {
		progress = func(done, total int) { prog(done, total, "") }
	}
	ev, err := train.Evaluate(cmd.Context(), l.Model, tok, b, groups, dec, progress)
	if err != nil {
		return err
	}
	if o.out != "" {
		f, err := atomicfile.Create(o.out, o.force)
		if err != nil {
			return err
		}
		for _, p := range ev.Predictions {
			fmt.Fprintln(f, strings.ReplaceAll(p.Output, "\n", " "))
		}
		if err := f.Commit(); err != nil {
			return err
		}
	}
	refs := 0
	for _, g := range groups {
		refs += len(g.Refs)
	}
	s := ev.Scores
	out := cmd.OutOrStdout()
	if o.json {
		rep := evalReport{Model: l.Name, Adapter: o.adapter, Data: o.data, Prompts: len(groups), Refs: refs, Scores: map[string]any{
			"bleu": s.BLEU, "nist": s.NIST, "rouge_l": s.ROUGEL, "cider": s.CIDEr, "meteor_exact_match_only": s.METEORExact}}
		return writeJSON(out, rep)
	}
	fmt.Fprintf(out, "prompts\t%d\nreferences\t%d\nBLEU\t%.4f\nNIST\t%.4f\nROUGE-L\t%.4f\nCIDEr\t%.4f\nMETEOR (exact match only)\t%.4f\n",
		len(groups), refs, s.BLEU, s.NIST, s.ROUGEL, s.CIDEr, s.METEORExact)
	return nil
}
