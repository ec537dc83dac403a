package main

import (
	"fmt"
	"io"
	"math"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/model"
)

type scoreOptions struct {
	lmOptions
	text string
	json bool
}

func newScoreCmd() *cobra.Command {
	var o scoreOptions
	cmd := &cobra.Command{
		Use:   "score [MODEL] --text FILE",
		Short: "Mean negative log-likelihood and perplexity of a text under a model",
		Long: `Tokenize FILE ("-" for stdin; the tokenizer adds BOS where the vocabulary
says so) and score it with teacher forcing: every token after the first is
predicted from the tokens before it, and the mean of -log p (nats per token)
and its exponential, the perplexity, are printed. A text longer than the
model's context is cut into consecutive chunks of the context length, each
scored on its own (the first token of a chunk predicts the next; the last
predicts the first of the following chunk). MODEL is as for generate; the
embedded stories260K when omitted. --adapter PATH[:SCALE] applies a LoRA
adapter at run time.`,
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
	tok, err := l.needTokenizer()
	if err != nil {
		return err
	}
	ids := tok.Encode(text)
	if len(ids) < 2 {
		return fmt.Errorf("%s: %d token(s): nothing to predict: %w", o.text, len(ids), format.ErrShape)
	}
	rep, err := scoreTokens(cmd, l.m, ids)
	if err != nil {
		return fmt.Errorf("%s: %w", l.name, err)
	}
	out := cmd.OutOrStdout()
	if o.json {
		return writeJSON(out, rep)
	}
	_, err = fmt.Fprintf(out, "%d tokens  mean NLL %.4f nats/token  perplexity %.4f\n", rep.Tokens, rep.MeanNLL, rep.Perplexity)
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
