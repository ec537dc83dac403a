package main

import (
	"fmt"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/merge"
)

type extractOptions struct {
	base, tuned, output string
	rank, maxRank       int
	energy              float64
	targets             string
	seed                uint64
	force, json         bool
}

func newExtractCmd() *cobra.Command {
	var o extractOptions
	cmd := &cobra.Command{
		Use:   "extract --base B --tuned T (--rank R | --energy E) -o DIR",
		Short: "Extract a LoRA adapter from a fine-tuned model (tuned − base, truncated SVD)",
		Long: `Extract, per module, the best rank-R approximation of the fine-tune's
update ΔW = T − B (as mergekit-extract-lora does): a randomized truncated
SVD ΔW ≈ U·S·Vᵀ gives B = U·√S and A = √S·Vᵀ, with alpha = rank (scale 1).

--rank R      every module gets rank R;
--energy E    each module gets the smallest rank keeping the share E of
              ‖ΔW‖²_F (at most --max-rank), written as rank_pattern /
              alpha_pattern.
--targets RE  tensors to extract (a regular expression on full tensor
              names); default: every 2-D weight but the embeddings.

B and T are GGUF files, safetensors files or Hugging Face directories with
the same tensors. The output is a PEFT directory (a llama.cpp LoRA GGUF
when DIR ends in .gguf). Per module the rank, the energy kept and the
relative reconstruction error ‖ΔW − B·A‖/‖ΔW‖ are reported; tensors that
differ but were not extracted are listed on stderr.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return interrupted(o.output, runExtract(cmd, o))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.base, "base", "", "base model (required)")
	f.StringVar(&o.tuned, "tuned", "", "fine-tuned model (required)")
	f.StringVarP(&o.output, "output", "o", "", "output adapter directory (required)")
	f.IntVar(&o.rank, "rank", 0, "rank of every module")
	f.Float64Var(&o.energy, "energy", 0, "share of each module's energy to keep, in (0, 1]")
	f.IntVar(&o.maxRank, "max-rank", 64, "largest rank --energy may choose")
	f.StringVar(&o.targets, "targets", "", "regular expression selecting tensors (full match)")
	f.Uint64Var(&o.seed, "seed", 0, "seed of the randomized SVD")
	f.BoolVar(&o.force, "force", false, "replace an existing output")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	for _, n := range []string{"base", "tuned", "output"} {
		cmd.MarkFlagRequired(n)
	}
	cmd.MarkFlagsMutuallyExclusive("rank", "energy")
	cmd.MarkFlagsOneRequired("rank", "energy")
	return cmd
}

func runExtract(cmd *cobra.Command, o extractOptions) error {
	if cmd.Flags().Changed("rank") {
		if err := checkPositive("--rank", o.rank); err != nil {
			return err
		}
	}
	if cmd.Flags().Changed("energy") {
		if err := checkShare("--energy", o.energy); err != nil {
			return err
		}
		if err := checkPositive("--max-rank", o.maxRank); err != nil {
			return err
		}
	}
	opt := merge.ExtractOptions{Rank: o.rank, Energy: o.energy, MaxRank: o.maxRank, Seed: o.seed,
		Progress: newProgress(cmd.ErrOrStderr(), "extract")}
	if o.targets != "" {
		re, err := regexp.Compile("^(?:" + o.targets + ")$")
		if err != nil {
			return usageError{fmt.Errorf("--targets: %v", err)}
		}
		opt.Targets = re
	}
	res, err := merge.Extract(cmd.Context(), o.base, o.tuned, opt)
	if err != nil {
		return err
	}
	a, reps, skipped := res.Adapter, res.Modules, res.NotExtracted
	if err := merge.WriteAdapter(a, o.output, o.force); err != nil {
		return err
	}
	for _, s := range skipped {
		fmt.Fprintf(cmd.ErrOrStderr(), "lorakit: %s differs but was not extracted\n", s)
	}
	if o.json {
		return writeJSON(cmd.OutOrStdout(), map[string]any{"output": o.output, "modules": reps, "not_extracted": skipped})
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "%-48s %5s %10s %10s\n", "module", "rank", "energy", "rel_error")
	for _, r := range reps {
		fmt.Fprintf(w, "%-48s %5d %10.6f %10.3g\n", r.Module, r.Rank, r.Energy, r.RelError)
	}
	return nil
}
