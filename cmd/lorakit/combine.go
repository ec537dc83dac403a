package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lorakit/lorakit/merge"
)

// combineOptions are combine's flags; merge shares them (output, adapters,
// force, json) and takes the method flags for its deprecated form without
// BASE.
type combineOptions struct {
	output       string
	adapters     []string
	method       string
	density      float64
	majoritySign string
	svdRank      int
	seed         uint64
	force        bool
	json         bool
}

// register adds the flags every adapter-combining or merging command has.
func (o *combineOptions) register(f *pflag.FlagSet) {
	f.StringVarP(&o.output, "output", "o", "", "output path (required)")
	f.StringArrayVarP(&o.adapters, "adapter", "a", nil, "adapter PATH[:SCALE] (repeatable)")
	f.BoolVar(&o.force, "force", false, "replace an existing output")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
}

// registerMethod adds the combination flags, their help prefixed by note.
func (o *combineOptions) registerMethod(f *pflag.FlagSet, note string) {
	f.StringVar(&o.method, "method", "", note+"combination method: linear, cat, svd, ties, dare_linear, dare_ties, magnitude_prune, sum (default svd)")
	f.Float64Var(&o.density, "density", 0, note+"share of entries kept by ties, dare_* and magnitude_prune")
	f.StringVar(&o.majoritySign, "majority-sign", "total", note+"TIES sign election: total or frequency")
	f.IntVar(&o.svdRank, "svd-rank", 0, note+"rank of svd and sum combinations")
	f.Uint64Var(&o.seed, "seed", 0, note+"seed of DARE's random pruning")
}

func newCombineCmd() *cobra.Command {
	var o combineOptions
	cmd := &cobra.Command{
		Use:   "combine --adapter PATH[:WEIGHT] ... -o OUT",
		Short: "Combine LoRA adapters into one adapter",
		Long: `Combine adapters into a new adapter (PEFT's add_weighted_adapter; OUT is
a PEFT directory, or a llama.cpp GGUF when it ends in .gguf). Adapters are
PEFT directories, mlx-lm directories or llama.cpp LoRA GGUFs, all named the
same way. Each WEIGHT (default 1) is the adapter's weight w, first
multiplied by its own scale s; the result has r = lora_alpha = its rank.
  --method linear           A = Σ sign(ws)·√|ws|·A_i and B = Σ √|ws|·B_i,
                            combined SEPARATELY: this is not Σ ΔW_i (cross
                            terms B_i·A_j appear), as in PEFT. Equal ranks.
  --method cat              A and B stacked: exactly Σ ws·B_i·A_i, rank Σ r_i.
  --method svd (default)    Σ ws·B_i·A_i truncated by SVD to --svd-rank
                            (default max r_i): B = U·S, A = Vᵀ.
  --method ties|dare_linear|dare_ties|magnitude_prune
                            PEFT's task-vector methods applied to the A's
                            and B's separately (like linear), with
                            --density (share kept) and, for TIES,
                            --majority-sign total|frequency.
  --method sum              lorakit's: exactly Σ ws·B_i·A_i, truncated by
                            SVD to --svd-rank (default Σ r_i: no loss).
PEFT quirks kept: with one adapter every method is linear. DARE's random
pruning is seeded with --seed but lorakit's generator is not torch's: results
match PEFT in distribution only. DoRA, lora_B biases and modules_to_save
cannot be combined (PEFT silently gets them wrong).

The output is written under a temporary name and renamed into place; an
existing output is replaced only with --force, an input never.
("lorakit merge" without BASE does the same, deprecated.)`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			inputs, err := parseAdapters(o.adapters)
			if err != nil {
				return err
			}
			return interrupted(o.output, runCombine(cmd, inputs, o))
		},
	}
	f := cmd.Flags()
	o.register(f)
	o.registerMethod(f, "")
	cmd.MarkFlagRequired("output")
	cmd.MarkFlagRequired("adapter")
	return cmd
}

func runCombine(cmd *cobra.Command, inputs []merge.Input, o combineOptions) error {
	if o.method != "" {
		if err := oneOf("--method", o.method, merge.Methods...); err != nil {
			return err
		}
	}
	if err := oneOf("--majority-sign", o.majoritySign, merge.SignTotal, merge.SignFrequency); err != nil {
		return err
	}
	if o.svdRank < 0 {
		return usageError{fmt.Errorf("--svd-rank %d: want >= 1 (0: the method's default)", o.svdRank)}
	}
	if cmd.Flags().Changed("density") {
		if err := checkShare("--density", o.density); err != nil {
			return err
		}
	}
	a, err := merge.Combine(inputs, merge.CombineOptions{
		Method: o.method, Density: o.density, MajoritySign: o.majoritySign, SVDRank: o.svdRank, Seed: o.seed,
	})
	if err != nil {
		return err
	}
	if err := merge.WriteAdapter(a, o.output, o.force); err != nil {
		return err
	}
	if o.json {
		return writeJSON(cmd.OutOrStdout(), map[string]any{"output": o.output, "modules": len(a.Modules), "rank": a.Config.R})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d modules, rank %d\n", o.output, len(a.Modules), a.Config.R)
	return nil
}
