package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/check"
	"github.com/lorakit/lorakit/convert/quantize"
)

type checkOptions struct {
	adapters []string
	quant    string
	module   string
	json     bool
}

func newCheckCmd() *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check BASE --adapter A[:S] ... [--quant T,...] [--json]",
		Short: "Pre-flight report before merging or converting adapters",
		Long: `Check adapters against BASE before merging or converting them:

  - every module finds its base tensor (the same resolver merge uses) with
    the right shape; which base weights no adapter touches
  - rank, alpha and the effective scale of each module: alpha/r, or
    alpha/√r with rsLoRA, rank_pattern and alpha_pattern resolved, times
    the adapter's SCALE
  - DoRA, modules_to_save, LoRA on the embedding or output head of a base
    that ties them, the tokenizer's size against the embedding's rows
  - initialisations that assume a modified base (init_lora_weights pissa,
    olora, corda, loftq): merging those into the original base is wrong
  - survival: per module, ‖Q(W+ΔW) − Q(W)‖ / ‖ΔW‖, the share of the update
    a release quantized with each --quant preset keeps (each tensor with the
    type llama-quantize would give it); default the base's own type when it
    is quantized, else Q8_0

Exit status 1 on blockers (a module without a base tensor, a shape mismatch,
a modified-base initialisation, too few embedding rows); warnings do not fail.
A malformed adapter is refused with an error naming the tensor.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return interrupted("", runCheck(cmd, args[0], o))
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.adapters, "adapter", "a", nil, "adapter PATH[:SCALE] (repeatable)")
	f.StringVar(&o.quant, "quant", "", "comma-separated presets to measure survival for (Q8_0,Q4_K_M,Q2_K,...)")
	f.StringVar(&o.module, "module", "", "report only modules whose name matches this regular expression")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	cmd.MarkFlagRequired("adapter")
	return cmd
}

func runCheck(cmd *cobra.Command, base string, o checkOptions) error {
	inputs, err := parseAdapters(o.adapters)
	if err != nil {
		return err
	}
	opt := check.Options{Adapters: inputs}
	if o.quant != "" {
		if opt.Quants, err = quantize.ParsePresets(strings.Split(o.quant, ",")...); err != nil {
			return usageError{fmt.Errorf("--quant: %w", err)}
		}
	}
	if o.module != "" {
		if opt.Module, err = regexp.Compile(o.module); err != nil {
			return usageError{fmt.Errorf("--module: %w", err)}
		}
	}
	rep, err := check.Check(cmd.Context(), base, opt)
	if err != nil {
		return err
	}
	if o.json {
		err = writeJSON(cmd.OutOrStdout(), rep)
	} else {
		err = check.WriteText(cmd.OutOrStdout(), rep)
	}
	if err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("check: %d blockers: %s", len(rep.Blockers), joinShort(rep.Blockers, 3))
	}
	return nil
}
