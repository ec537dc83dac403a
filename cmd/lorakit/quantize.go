package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/convert/quantize"
)

type quantizeOptions struct {
	keep   string
	dryRun bool
	force  bool
	split  splitFlags
}

func newQuantizeCmd() *cobra.Command {
	var o quantizeOptions
	names := make([]string, 0, len(quantize.Presets()))
	for _, p := range quantize.Presets() {
		names = append(names, p.Name)
	}
	cmd := &cobra.Command{
		Use:   "quantize IN OUT TYPE",
		Short: "Quantize a checkpoint to a GGUF file as llama-quantize does",
		Long: `Quantize IN (a GGUF file of any dtype, a safetensors file or a sharded
safetensors directory) into the GGUF file OUT, choosing each tensor's type
as llama.cpp's llama-quantize does: the same mixtures, fallbacks, tensor
order and metadata, and (with the ggml reference quantizers) the same bytes.

TYPE is one of ` + strings.Join(names, " ") + `
(case-insensitive); Q3_K, Q4_K and Q5_K mean their _M mixes, as in llama-quantize.
Quantized inputs are dequantized, then requantized. safetensors names are
carried as they are.

--keep REGEX   keep tensors whose name matches in their input type
--dry-run      list each tensor with its chosen type and its size before and
               after, and write nothing (OUT may then be left out)

The output is written under a temporary name and renamed into place; an
existing OUT is replaced only with --force, an input never.`,
		Args: rangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := ""
			if len(args) == 3 {
				out = args[1]
			}
			return interrupted(out, runQuantize(cmd, args, o))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.keep, "keep", "", "keep tensors whose name matches this regular expression unquantized")
	f.BoolVar(&o.dryRun, "dry-run", false, "list the chosen types and sizes; write nothing")
	f.BoolVar(&o.force, "force", false, "replace an existing output")
	o.split.register(f)
	return cmd
}

func runQuantize(cmd *cobra.Command, args []string, o quantizeOptions) error {
	if len(args) == 2 && !o.dryRun {
		return argsError{fmt.Errorf("quantize needs IN OUT TYPE (OUT may be left out only with --dry-run)")}
	}
	in, typ := args[0], args[len(args)-1]
	p, err := quantize.ParsePreset(typ)
	if err != nil {
		return usageError{err}
	}
	opt := quantize.Options{Preset: p, Force: o.force, Progress: newProgress(cmd.ErrOrStderr(), "quantize")}
	if opt.Split, err = o.split.limits(); err != nil {
		return err
	}
	if o.keep != "" {
		if opt.Keep, err = regexp.Compile(o.keep); err != nil {
			return usageError{fmt.Errorf("--keep: %w", err)}
		}
	}
	if o.dryRun {
		plan, err := quantize.PlanFile(in, opt)
		if err != nil {
			return err
		}
		return plan.WriteTable(cmd.OutOrStdout())
	}
	plan, err := quantize.File(cmd.Context(), in, args[1], opt)
	if err != nil {
		return err
	}
	before, after := plan.Totals()
	fmt.Fprintf(cmd.ErrOrStderr(), "quantize: %s: %d tensors, %.2f MiB -> %.2f MiB (%s)", args[1], len(plan.Tensors),
		float64(before)/(1<<20), float64(after)/(1<<20), p)
	if n := plan.Fallbacks(); n > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), ", %d fallbacks", n)
	}
	fmt.Fprintln(cmd.ErrOrStderr())
	return nil
}
