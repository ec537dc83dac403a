package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/convert/quantize"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/imatrix"
)

type quantizeOptions struct {
	keep   string
	dryRun bool
	force  bool
	split  splitFlags

	imatrix                   string
	include, exclude          []string
	tensorTypes               []string
	tensorTypeFile            string
	outputType, tokenEmbdType string
	pure, leaveOutput         bool
	overrideKV                []string
	pruneLayers               string
	keepSplit                 bool
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
(case-insensitive, or llama.cpp's file type number); Q3_K, Q4_K and Q5_K
mean their _M mixes, as in llama-quantize. Quantized inputs are
dequantized, then requantized. safetensors names are carried as they are.

llama-quantize's options, with its semantics:
--imatrix F               importance matrix (GGUF or legacy .dat): weights the
                          quantizers, is required by IQ1_S/IQ1_M/IQ2_XXS/IQ2_XS/
                          IQ2_S/IQ3_XXS tensors (and Q2_K in Q2_K_S), and is
                          recorded as quantize.imatrix.* keys
--include-weights S       use importance data only for entries whose name contains S
--exclude-weights S       drop the importance entries whose name contains S
--tensor-type RE=TYPE     give tensors whose name RE matches (searched anywhere,
                          lower-cased; first match wins) TYPE instead of the mixture
--tensor-type-file F      more RE=TYPE rules, separated by spaces or newlines
--output-tensor-type T    type of output.weight
--token-embedding-type T  type of token_embd.weight
--pure                    no mixtures: every quantized tensor gets the base type
--leave-output-tensor     keep output.weight as it is
--override-kv K=TYPE:V    set a metadata key (int: uint32, float, bool, str)
--prune-layers L0,L1,...  drop these blocks and renumber the rest
--keep-split              (split inputs are not read yet: refused)

lorakit's own:
--keep REGEX              keep tensors whose name matches in their input type
--dry-run                 list each tensor with its chosen type and its size before
                          and after, and write nothing (OUT may then be left out)

What llama-quantize refuses (a type that needs an importance matrix
without one, an imatrix entry of the wrong size) is refused before
anything is written; NaN or infinite weights stop the run naming the
tensor. The output is written under a temporary name and renamed into
place, so a failed run leaves nothing; an existing OUT is replaced only
with --force, an input never.`,
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
	f.StringVar(&o.imatrix, "imatrix", "", "importance matrix file (GGUF or legacy .dat)")
	f.StringArrayVar(&o.include, "include-weights", nil, "use importance data only for entries containing this string (repeatable)")
	f.StringArrayVar(&o.exclude, "exclude-weights", nil, "drop importance entries containing this string (repeatable)")
	f.StringArrayVar(&o.tensorTypes, "tensor-type", nil, "REGEX=TYPE: type of the tensors the regex matches (repeatable)")
	f.StringVar(&o.tensorTypeFile, "tensor-type-file", "", "file of REGEX=TYPE rules separated by spaces or newlines (after the --tensor-type ones)")
	f.StringVar(&o.outputType, "output-tensor-type", "", "ggml type of output.weight")
	f.StringVar(&o.tokenEmbdType, "token-embedding-type", "", "ggml type of token_embd.weight")
	f.BoolVar(&o.pure, "pure", false, "no mixtures: every quantized tensor gets the base type")
	f.BoolVar(&o.leaveOutput, "leave-output-tensor", false, "keep output.weight as it is")
	f.StringArrayVar(&o.overrideKV, "override-kv", nil, "KEY=TYPE:VALUE metadata override (repeatable)")
	f.StringVar(&o.pruneLayers, "prune-layers", "", "comma-separated block numbers to drop")
	f.BoolVar(&o.keepSplit, "keep-split", false, "keep the input's splits (not supported yet)")
	return cmd
}

// quantizeOpts turns the flags into quantize.Options.
func quantizeOpts(cmd *cobra.Command, p quantize.Preset, o quantizeOptions) (quantize.Options, error) {
	errw := cmd.ErrOrStderr()
	opt := quantize.Options{Preset: p, Force: o.force, Progress: newProgress(errw, "quantize"),
		IncludeWeights: o.include, ExcludeWeights: o.exclude, Pure: o.pure, LeaveOutputTensor: o.leaveOutput,
		KeepSplit: o.keepSplit, Warn: func(msg string) { fmt.Fprintln(errw, "quantize: warning:", msg) }}
	var err error
	if o.keep != "" {
		if opt.Keep, err = regexp.Compile(o.keep); err != nil {
			return opt, usageError{fmt.Errorf("--keep: %w", err)}
		}
	}
	if len(o.include) > 0 && len(o.exclude) > 0 {
		return opt, usageError{fmt.Errorf("--include-weights and --exclude-weights cannot be used together")}
	}
	for _, s := range o.tensorTypes {
		tt, err := quantize.ParseTensorType(s)
		if err != nil {
			return opt, usageError{err}
		}
		opt.TensorTypes = append(opt.TensorTypes, tt)
	}
	if o.tensorTypeFile != "" {
		tts, err := quantize.ReadTensorTypes(o.tensorTypeFile)
		if err != nil {
			return opt, err
		}
		opt.TensorTypes = append(opt.TensorTypes, tts...)
	}
	for _, f := range []struct {
		flag, val string
		dst       *format.DType
	}{{"--output-tensor-type", o.outputType, &opt.OutputTensorType}, {"--token-embedding-type", o.tokenEmbdType, &opt.TokenEmbeddingType}} {
		if f.val == "" {
			continue
		}
		if *f.dst, err = quantize.ParseGGMLType(f.val); err != nil {
			return opt, usageError{fmt.Errorf("%s: %w", f.flag, err)}
		}
	}
	for _, s := range o.overrideKV {
		kv, err := quantize.ParseOverrideKV(s)
		if err != nil {
			return opt, usageError{err}
		}
		opt.OverrideKV = append(opt.OverrideKV, kv)
	}
	if o.pruneLayers != "" {
		if opt.PruneLayers, err = quantize.ParsePruneLayers(o.pruneLayers); err != nil {
			return opt, usageError{err}
		}
	}
	if o.imatrix != "" {
		if opt.Imatrix, err = imatrix.Read(o.imatrix); err != nil {
			return opt, err
		}
		opt.ImatrixFile = o.imatrix
	}
	return opt, nil
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
	opt, err := quantizeOpts(cmd, p, o)
	if err != nil {
		return err
	}
	if opt.Split, err = o.split.limits(); err != nil {
		return err
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
