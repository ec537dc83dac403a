package main

import (
	"fmt"
	"github.com/lorakit/lorakit/lm"
	"io"
	"math"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/kldiv"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/tokenizer"
)

type scoreOptions struct {
	lmOptions
	text   string
	json   bool
	kl     string // reference model for --kl-divergence
	ctx    int
	chunks int
}

func newScoreCmd() *cobra.Command {
	var o scoreOptions
	cmd := &cobra.Command{
		Use:   "score [MODEL] --text FILE [--kl-divergence REFERENCE]",
		Short: "Mean negative log-likelihood and perplexity of a text under a model",
		Long: `Tokenize FILE ("-" for stdin; the tokenizer adds BOS where the vocabulary
says so) and score it with teacher forcing: every token after the first is
predicted from the tokens before it, and the mean of -log p (nats per token)
and its exponential, the perplexity, are printed. A text longer than the
model's context is cut into consecutive chunks of the context length, each
scored on its own (the first token of a chunk predicts the next; the last
predicts the first of the following chunk). MODEL is as for generate; the
embedded stories260K when omitted. --adapter PATH[:SCALE] applies a LoRA
adapter at run time.

--kl-divergence REFERENCE compares MODEL's next-token distributions with
those of REFERENCE (e.g. the F32 model MODEL was quantized from) as
llama-perplexity's KL mode does: the text (one trailing newline dropped) is
cut into chunks of --ctx tokens (default: the smaller context) whose first
token is replaced by BOS, and the positions of the second half of each
chunk are scored. Reported: mean, median, 90th and 99th percentile and
maximum of KL(P_ref ‖ P_model) in nats per token, top-1 agreement, the
perplexities of both on the same tokens and their difference, and the
mean and RMS of Δp = p_model(target) − p_ref(target). Both distributions
are taken in float64 (llama-perplexity stores the reference's as 16-bit
integers).`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := ""
			if len(args) == 1 {
				path = args[0]
			}
			return interrupted("", runScore(cmd, path, o))
		},
	}
	addLMFlags(cmd, &o.lmOptions)
	f := cmd.Flags()
	f.StringVar(&o.text, "text", "", "text file to score, - for stdin (required)")
	f.BoolVar(&o.json, "json", false, "print one JSON object")
	f.StringVar(&o.kl, "kl-divergence", "", "reference model: report the KL divergence of MODEL's distributions from its")
	f.IntVar(&o.ctx, "ctx", 0, "with --kl-divergence: tokens per chunk (0: the smaller context)")
	f.IntVar(&o.chunks, "chunks", 0, "with --kl-divergence: most chunks to score (0: all)")
	return cmd
}

// scoreReport is score's --json output.
type scoreReport struct {
	Tokens     int     `json:"tokens"` // tokens predicted (all but the first)
	Chunks     int     `json:"chunks"`
	MeanNLL    float64 `json:"mean_nll"` // nats per token
	Perplexity float64 `json:"perplexity"`
}

func runScore(cmd *cobra.Command, path string, o scoreOptions) error {
	if o.text == "" {
		return usageError{fmt.Errorf("--text FILE is required")}
	}
	text, err := readText(cmd, o.text)
	if err != nil {
		return err
	}
	l, err := openLM(path, o.lmOptions, runOptions)
	if err != nil {
		return err
	}
	tok, err := l.NeedTokenizer()
	if err != nil {
		return err
	}
	if o.kl != "" {
		return runKL(cmd, l, tok, strings.TrimSuffix(text, "\n"), o)
	}
	ids := tok.Encode(text)
	if len(ids) < 2 {
		return fmt.Errorf("%s: %d token(s): nothing to predict: %w", o.text, len(ids), format.ErrShape)
	}
	rep, err := scoreTokens(cmd, l.Model, ids)
	if err != nil {
		return fmt.Errorf("%s: %w", l.Name, err)
	}
	out := cmd.OutOrStdout()
	if o.json {
		return writeJSON(out, rep)
	}
	_, err = fmt.Fprintf(out, "%d tokens  mean NLL %.4f nats/token  perplexity %.4f\n", rep.Tokens, rep.MeanNLL, rep.Perplexity)
	return err
}

// klReport is score --kl-divergence's --json output.
type klReport struct {
	Model     string `json:"model"`
	Reference string `json:"reference"`
	kldiv.Result
}

// runKL scores l against the reference model of --kl-divergence.
func runKL(cmd *cobra.Command, l *lm.LM, tok *tokenizer.Tokenizer, text string, o scoreOptions) error {
	ref, err := openLM(o.kl, lmOptions{tokenizer: o.tokenizer}, runOptions)
	if err != nil {
		return err
	}
	bos := -1
	if tok.AddBOS {
		bos = tok.Vocab().BOS
	}
	progress := newProgress(cmd.ErrOrStderr(), "kl-divergence")
	opt := kldiv.Options{Ctx: o.ctx, Chunks: o.chunks, BOS: bos, Progress: func(done, total int) {
		if progress != nil {
			progress(done, total, "")
		}
	}}
	r, err := kldiv.Run(cmd.Context(), ref.Model, l.Model, tok.Encode(text), opt)
	if err != nil {
		return fmt.Errorf("%s against %s: %w", l.Name, ref.Name, err)
	}
	out := cmd.OutOrStdout()
	if o.json {
		return writeJSON(out, klReport{Model: l.Name, Reference: ref.Name, Result: r})
	}
	_, err = fmt.Fprintf(out, `%s against %s, %d tokens
KL divergence    mean %.6f  median %.6f  p90 %.6f  p99 %.6f  max %.6f nats
top-1 agreement  %.2f%%
perplexity       %.4f (reference %.4f)  delta %+.4f  ln ratio %+.6f
delta p          mean %+.3f%%  RMS %.3f%%
`, l.Name, ref.Name, r.Tokens, r.MeanKL, r.MedianKL, r.P90KL, r.P99KL, r.MaxKL, 100*r.Top1,
		r.PPL, r.RefPPL, r.DeltaPPL, r.LnPPLRatio, 100*r.MeanDeltaP, 100*r.RMSDeltaP)
	return err
}

// scoreTokens returns the mean NLL of ids[1:] given their prefixes, in
// chunks of the model's context.
func scoreTokens(cmd *cobra.Command, m *model.Model, ids []int) (scoreReport, error) {
	ctxLen := m.Config.Context
	n := len(ids) - 1 // predictions
	chunks := (n + ctxLen - 1) / ctxLen
	progress := newProgress(cmd.ErrOrStderr(), "score")
	var sum float64
	for c := range chunks {
		if err := cmd.Context().Err(); err != nil {
			return scoreReport{}, err
		}
		lo, hi := c*ctxLen, min((c+1)*ctxLen, n)
		T := hi - lo
		loss, err := m.Loss(model.Batch{B: 1, T: T, Tokens: ids[lo:hi], Targets: ids[lo+1 : hi+1]})
		if err != nil {
			return scoreReport{}, err
		}
		if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
			return scoreReport{}, fmt.Errorf("tokens %d-%d: loss is %v: %w", lo, hi, loss, model.ErrNonFinite)
		}
		sum += float64(loss) * float64(T)
		if progress != nil {
			progress(c+1, chunks, "")
		}
	}
	mean := sum / float64(n)
	return scoreReport{Tokens: n, Chunks: chunks, MeanNLL: mean, Perplexity: math.Exp(mean)}, nil
}

// maxScoreText bounds the text score reads (a file, or stdin): 64 MiB is
// tens of millions of tokens, far beyond what a CPU scores in reasonable time.
const maxScoreText = 64 << 20

// readText reads a file, or stdin for "-", through maxScoreText.
func readText(cmd *cobra.Command, path string) (string, error) {
	if path == "-" {
		b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxScoreText+1))
		if err == nil && len(b) > maxScoreText {
			err = fmt.Errorf("stdin: longer than %d bytes: %w", maxScoreText, format.ErrUnsupported)
		}
		return string(b), err
	}
	b, err := format.ReadInput(path, maxScoreText)
	return string(b), err
}
