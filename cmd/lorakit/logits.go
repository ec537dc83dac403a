package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/model"
)

type logitsOptions struct {
	lmOptions
	tokens []int
	json   bool
}

func newLogitsCmd() *cobra.Command {
	var o logitsOptions
	cmd := &cobra.Command{
		Use:   "logits [MODEL] --tokens ID,ID,...",
		Short: "Print the logits a model gives after a sequence of token ids",
		Long: `Run MODEL (a GGUF file, a llama2.c checkpoint or a Hugging Face directory;
the embedded stories260K when omitted) over the token ids as one batch, at
positions 0..n-1 with no BOS added, and print the last position's logits:
one per line (as %.9g, which round-trips float32), or with --json
{"tokens":[...], "logits":[...]}. This is what llama.cpp's
llama_get_logits_ith(ctx, -1) returns, for comparing the two.
--adapter PATH[:SCALE] applies a LoRA adapter at run time.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := ""
			if len(args) == 1 {
				path = args[0]
			}
			return interrupted("", runLogits(cmd, path, o))
		},
	}
	addLMFlags(cmd, &o.lmOptions)
	f := cmd.Flags()
	f.IntSliceVar(&o.tokens, "tokens", nil, "token ids, comma-separated (required)")
	f.BoolVar(&o.json, "json", false, "print one JSON object")
	return cmd
}

// logitsOptionsFor load the model for logits, which are compared with
// llama.cpp's: as runOptions, with llama.cpp's CPU GELU (an F16 lookup
// table; GPT-2 and the Gemma families, up to 2e-4 in the logits) and its
// rounding of activations in products with F16, BF16 and quantized
// weights (up to 1.3e-2 for Q8_0).
var logitsOptionsFor = model.Options{KeepQuantized: true, GELUF16Table: true, RoundActivations: true}

// logitsReport is logits' --json output.
type logitsReport struct {
	Tokens []int     `json:"tokens"`
	Logits []float32 `json:"logits"`
}

func runLogits(cmd *cobra.Command, path string, o logitsOptions) error {
	if len(o.tokens) == 0 {
		return usageError{fmt.Errorf("--tokens ID,ID,... is required")}
	}
	l, err := openLM(path, o.lmOptions, logitsOptionsFor)
	if err != nil {
		return err
	}
	logits, err := l.m.Logits(o.tokens)
	if err != nil {
		return fmt.Errorf("%s: %w", l.name, err)
	}
	out := cmd.OutOrStdout()
	if o.json {
		return writeJSON(out, logitsReport{Tokens: o.tokens, Logits: logits})
	}
	buf := make([]byte, 0, 16*len(logits))
	for _, v := range logits {
		buf = strconv.AppendFloat(buf, float64(v), 'g', 9, 32)
		buf = append(buf, '\n')
	}
	_, err = out.Write(buf)
	return err
}
