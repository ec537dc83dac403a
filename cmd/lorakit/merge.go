package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/merge"
)

type mergeOptions struct {
	combineOptions // without BASE (deprecated: lorakit combine)
	dtype          string
	split          splitFlags
}

func newMergeCmd() *cobra.Command {
	var o mergeOptions
	cmd := &cobra.Command{
		Use:   "merge BASE --adapter PATH[:SCALE] ... -o OUT",
		Short: "Merge LoRA adapters into a base model",
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
--dtype casts every tensor that is not an integer, merged or not, quantized
ones included (a Q8_0 base with --dtype f16 comes out all F16; in GGUF,
1-D tensors stay F32), and sets general.file_type; without --dtype,
untouched quantized tensors are kept as they are. Untouched tensors are copied byte for byte. A
Hugging Face directory comes out with its other files copied and its shards
as they were.

Without BASE, merge combines the adapters as "lorakit combine" does and
says on stderr that this form is deprecated: use "lorakit combine".

Outputs are written under a temporary name and renamed into place; an
existing output is replaced only with --force, an input never.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return interrupted(o.output, runMerge(cmd, args, o))
		},
	}
	f := cmd.Flags()
	o.register(f)
	o.registerMethod(f, "without BASE (deprecated; see lorakit combine): ")
	f.StringVar(&o.dtype, "dtype", "", "cast every non-integer tensor of the merged model, quantized ones included (f32, f16, bf16, q8_0, ...)")
	o.split.register(f)
	cmd.MarkFlagRequired("output")
	cmd.MarkFlagRequired("adapter")
	return cmd
}

func runMerge(cmd *cobra.Command, args []string, o mergeOptions) error {
	inputs, err := parseAdapters(o.adapters)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		if o.dtype != "" {
			return usageError{fmt.Errorf("--dtype applies to merging into a base, not to combining adapters")}
		}
		if o.split.size != "" || o.split.tensors != 0 {
			return usageError{fmt.Errorf("--split-max-size and --split-max-tensors apply to merging into a base, not to combining adapters")}
		}
		fmt.Fprintln(cmd.ErrOrStderr(), `lorakit: "merge" without BASE is deprecated: use "lorakit combine" (same flags)`)
		return runCombine(cmd, inputs, o.combineOptions)
	}
	if o.method != "" && o.method != merge.MethodLinear && o.method != merge.MethodSum {
		fmt.Fprintf(cmd.ErrOrStderr(), "lorakit: --method %s is ignored when merging into a base (updates are summed)\n", o.method)
	}
	var dt format.DType
	if o.dtype != "" {
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
