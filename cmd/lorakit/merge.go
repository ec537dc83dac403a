package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/merge"
)

type mergeOptions struct {
	output       string
	adapters     []string
	method       string
	dtype        string
	density      float64
	majoritySign string
	svdRank      int
	seed         uint64
	force        bool
	json         bool
	split        splitFlags
}

func newMergeCmd() *cobra.Command {
	var o mergeOptions
	cmd := &cobra.Command{
		Use:   "merge [BASE] --adapter PATH[:SCALE] ... -o OUT",
		Short: "Merge LoRA adapters into a base model, or combine adapters into one",
		Long: `With BASE, merge adapters into it: W' = W + Σ scale·s·B·A, tensor by tensor.

BASE is a GGUF file (any dtype, quantized included), a safetensors file or a
Hugging Face directory (sharded or not). Adapters are PEFT directories,
mlx-lm directories or llama.cpp LoRA GGUFs; their module names are matched to
the base's (llama.cpp names for GGUF bases, with llama q/k rows permuted).
s is alpha/r (alpha/√r for rsLoRA, rank_pattern/alpha_pattern per module);
GPT-2 Conv1D (fan_in_fan_out) updates are transposed; DoRA merges as
m·(W+ΔW)/‖W+ΔW‖ per output row; modules_to_save replace their tensor.
SCALE (default 1) multiplies an adapter; a negative SCALE subtracts it, so
"--adapter A:-1" unmerges A (not possible for DoRA or modules_to_save).

The output keeps the base's container, tensor names, order, metadata and
each tensor's dtype: a quantized tensor is dequantized, merged in float32
and requantized to its own type (llama-export-lora writes F16 instead).
--dtype casts floating-point tensors (in GGUF, 1-D tensors stay F32) and
sets general.file_type. Untouched tensors are copied byte for byte. A
Hugging Face directory comes out with its other files copied and its shards
as they were.

Without BASE, combine the adapters into a new adapter (PEFT's
add_weighted_adapter; OUT is a PEFT directory, or a llama.cpp GGUF when it
ends in .gguf). Each SCALE is the adapter's weight w, first multiplied by
its own scale s; the result has r = lora_alpha = its rank.
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

Outputs are written under a temporary name and renamed into place; an
existing output is replaced only with --force, an input never.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return interrupted(o.output, runMerge(cmd, args, o))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "output path (required)")
	f.StringArrayVarP(&o.adapters, "adapter", "a", nil, "adapter PATH[:SCALE] (repeatable)")
	f.StringVar(&o.method, "method", "", "combination method without BASE: linear, cat, svd, ties, dare_linear, dare_ties, magnitude_prune, sum (default svd)")
	f.StringVar(&o.dtype, "dtype", "", "cast floating-point tensors of the merged model (f32, f16, bf16, q8_0, ...)")
	f.Float64Var(&o.density, "density", 0, "share of entries kept by ties, dare_* and magnitude_prune")
	f.StringVar(&o.majoritySign, "majority-sign", "total", "TIES sign election: total or frequency")
	f.IntVar(&o.svdRank, "svd-rank", 0, "rank of svd and sum combinations")
	f.Uint64Var(&o.seed, "seed", 0, "seed of DARE's random pruning")
	f.BoolVar(&o.force, "force", false, "replace an existing output")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	o.split.register(f)
	cmd.MarkFlagRequired("output")
	cmd.MarkFlagRequired("adapter")
	return cmd
}

func runMerge(cmd *cobra.Command, args []string, o mergeOptions) error {
	var inputs []merge.Input
	for _, spec := range o.adapters {
		in, err := merge.ParseInput(spec)
		if err != nil {
			return usageError{err}
		}
		inputs = append(inputs, in)
	}
	if len(args) == 0 {
		return runCombine(cmd, inputs, o)
	}
	if o.method != "" && o.method != merge.MethodLinear && o.method != merge.MethodSum {
		fmt.Fprintf(cmd.ErrOrStderr(), "lorakit: --method %s is ignored when merging into a base (updates are summed)\n", o.method)
	}
	var dt format.DType
	if o.dtype != "" {
		var err error
		if dt, err = format.ParseDType(o.dtype); err != nil {
			return usageError{err}
		}
	}
	split, err := o.split.limits()
	if err != nil {
		return err
	}
	rep, err := merge.Merge(cmd.Context(), args[0], inputs, o.output, merge.Options{
		DType: dt, Force: o.force, Split: split, Progress: newProgress(cmd.ErrOrStderr(), "merge"),
	})
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(cmd.OutOrStdout(), rep)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d tensors, %d merged, %d bytes\n", rep.Output, rep.Tensors, len(rep.Merged), rep.Bytes)
	return nil
}

func runCombine(cmd *cobra.Command, inputs []merge.Input, o mergeOptions) error {
	if o.dtype != "" {
		return usageError{fmt.Errorf("--dtype applies to merging into a base, not to combining adapters")}
	}
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
