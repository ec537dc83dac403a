package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/release"
	"github.com/lorakit/lorakit/verify"
)

type verifyOptions struct {
	base     string
	adapters []string
	json     bool
	logits   int
}

func newVerifyCmd() *cobra.Command {
	var o verifyOptions
	cmd := &cobra.Command{
		Use:   "verify RELEASE --base BASE [--adapter A[:S] ...] [--json]",
		Short: "Prove a merged or quantized release from its base and adapters, tensor by tensor",
		Long: `Re-derive every tensor of RELEASE from BASE and the adapters, with lorakit
merge's kernels and its ggml-exact codecs, one tensor at a time, and say for
each tensor:

  bit-exact        byte for byte what lorakit derives (quantized tensors are
                   requantized with lorakit's codecs and compared byte for byte)
  within rounding  F32/F16/BF16: at most one ulp of the dtype plus 8 float32
                   ulps of the tensor's largest value (B·A summed in another
                   order); block types: each block as close to the merged
                   values as lorakit's own quantization of them
  DIFFERENT        beyond that (max |diff|, relative to the largest value)
  NOT-MERGED       equal to the base: an adapter's update is missing
  MISSING / UNEXPECTED  a tensor of the base absent, or one the base lacks

and whether the architecture, tokenizer and chat template were carried from
the base (GGUF: general.architecture and every tokenizer.* key; Hugging Face
directories: config.json model_type, tokenizer and generation files).

RELEASE is a GGUF file (or the first shard of a split set), a safetensors
file, a Hugging Face directory, or a directory written by lorakit release
(then BASE and the adapters default to those it was made from, every file is
checked against SHA256SUMS and every model file is verified). Without
adapters the release should be BASE itself, cast or quantized.

--logits N also runs the release and the base with the adapters applied at
run time (lorakit's transformer: GPT-2 and the llama layout) on N prompts of
random token ids and reports the largest logit difference and how often the
most likely next token agrees (informative: it does not change the verdict).

Exit status 0 when everything is explained, 1 naming each offending tensor.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return interrupted("", runVerify(cmd, args[0], o))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.base, "base", "", "base model the release was made from")
	f.StringArrayVarP(&o.adapters, "adapter", "a", nil, "adapter PATH[:SCALE] merged into it (repeatable)")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	f.IntVar(&o.logits, "logits", 0, "also compare next-token logits with the base running the adapters, on this many prompts")
	return cmd
}

func runVerify(cmd *cobra.Command, path string, o verifyOptions) error {
	inputs, err := parseAdapters(o.adapters)
	if err != nil {
		return err
	}
	if o.logits < 0 {
		return usageError{fmt.Errorf("--logits %d: want a number of prompts", o.logits)}
	}
	opt := verify.Options{Base: o.base, Adapters: inputs, Logits: o.logits, Progress: newProgress(cmd.ErrOrStderr(), "verify")}
	var reps []*verify.Report
	if release.IsDir(path) {
		if reps, err = release.Verify(cmd.Context(), path, opt); err != nil {
			return err
		}
	} else {
		if o.base == "" {
			return usageError{fmt.Errorf("verify: --base is required (except for a directory written by lorakit release)")}
		}
		rep, err := verify.Verify(cmd.Context(), path, opt)
		if err != nil {
			return err
		}
		reps = append(reps, rep)
	}
	return printVerify(cmd, reps, o.json)
}

// printVerify prints verify reports and fails, naming the offenders, when
// one is not OK.
func printVerify(cmd *cobra.Command, reps []*verify.Report, asJSON bool) error {
	var offending []string
	for _, rep := range reps {
		for _, name := range rep.Offending {
			offending = append(offending, rep.Release+": "+name)
		}
	}
	if asJSON {
		var err error
		if len(reps) == 1 {
			err = writeJSON(cmd.OutOrStdout(), reps[0])
		} else {
			err = writeJSON(cmd.OutOrStdout(), reps)
		}
		if err != nil {
			return err
		}
	} else {
		for _, rep := range reps {
			if err := verify.WriteText(cmd.OutOrStdout(), rep); err != nil {
				return err
			}
		}
	}
	if len(offending) > 0 {
		return fmt.Errorf("not verified: %d offending: %s", len(offending), joinShort(offending, 10))
	}
	return nil
}

// joinShort joins up to n items and says how many more there are.
func joinShort(items []string, n int) string {
	s := ""
	for i, it := range items {
		if i == n {
			return s + fmt.Sprintf(", and %d more", len(items)-n)
		}
		if i > 0 {
			s += ", "
		}
		s += it
	}
	return s
}
