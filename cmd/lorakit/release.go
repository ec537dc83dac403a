package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/convert/quantize"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/release"
)

type releaseOptions struct {
	output   string
	adapters []string
	quant    string
	dtype    string
	name     string
	hf       bool
	force    bool
	json     bool
	split    splitFlags
}

func newReleaseCmd() *cobra.Command {
	var o releaseOptions
	cmd := &cobra.Command{
		Use:   "release BASE --adapter A[:S] ... -o DIR [--quant T,...] [--hf] [--name NAME]",
		Short: "Merge, quantize, prove and package a fine-tune in one directory",
		Long: `Do the whole release in one atomic directory DIR:

  NAME-F16.gguf (or NAME-BF16.gguf with --dtype bf16)
                  the adapters merged into BASE (exact float32 merge, then cast)
  NAME-<TYPE>.gguf  for each --quant type, quantized from the float32 merge as
                  llama-quantize does (e.g. NAME-Q8_0.gguf, NAME-Q4_K_M.gguf)
  hf/             with --hf, the merged model as a Hugging Face directory
  README.md       model card with Hugging Face front matter (base_model,
                  base_model_relation, library_name, license, tags), the
                  adapters' rank, alpha and scale, the files, the verification
  Modelfile       for ollama: FROM, TEMPLATE translated from the base's chat
                  template where its family is known, PARAMETER stop per EOG token
  verify.txt, verify.json   lorakit verify's report on every model file
  release.json, SHA256SUMS  what it was made from; every file's sha256

Every model is verified tensor by tensor before the directory appears; on a
failure or Ctrl-C no directory is left. With --split-max-size or
--split-max-tensors every GGUF is written as llama-gguf-split shards.
'lorakit verify DIR' re-checks the directory later. NAME defaults to BASE's
name (with "-merged" when adapters are merged).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return interrupted(o.output, runRelease(cmd, args[0], o))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "release directory (required)")
	f.StringArrayVarP(&o.adapters, "adapter", "a", nil, "adapter PATH[:SCALE] (repeatable)")
	f.StringVar(&o.quant, "quant", "", "comma-separated llama-quantize types to write (Q8_0,Q4_K_M,...)")
	f.StringVar(&o.dtype, "dtype", "f16", "type of the merged model: f16 or bf16")
	f.StringVar(&o.name, "name", "", "file name stem (default: BASE's name with -merged)")
	f.BoolVar(&o.hf, "hf", false, "also write the merged model as a Hugging Face directory (hf/)")
	f.BoolVar(&o.force, "force", false, "replace an existing release directory")
	f.BoolVar(&o.json, "json", false, "print the verify reports as JSON")
	o.split.register(f)
	cmd.MarkFlagRequired("output")
	return cmd
}

func runRelease(cmd *cobra.Command, base string, o releaseOptions) error {
	inputs, err := parseAdapters(o.adapters)
	if err != nil {
		return err
	}
	opt := release.Options{Base: base, Adapters: inputs, Name: o.name, HF: o.hf, Force: o.force}
	if opt.DType, err = format.ParseDType(o.dtype); err != nil || (opt.DType != format.F16 && opt.DType != format.BF16) {
		return usageError{fmt.Errorf("--dtype %q: want f16 or bf16", o.dtype)}
	}
	if o.quant != "" {
		if opt.Quants, err = quantize.ParsePresets(strings.Split(o.quant, ",")...); err != nil {
			return usageError{fmt.Errorf("--quant: %w", err)}
		}
	}
	if opt.Split, err = o.split.limits(); err != nil {
		return err
	}
	opt.Progress = func(step string) { fmt.Fprintf(cmd.ErrOrStderr(), "release: %s\n", step) }
	man, reps, err := release.Make(cmd.Context(), o.output, opt)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(cmd.OutOrStdout(), map[string]any{"output": o.output, "manifest": man, "verify": reps})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", o.output, strings.Join(man.Models, ", "))
	for _, r := range reps {
		exact := 0
		for _, t := range r.Tensors {
			if t.Status == "bit-exact" {
				exact++
			}
		}
		fmt.Fprintf(cmd.OutOrStdout(), "  %s: verified, %d of %d tensors bit-exact, the rest within rounding\n", r.Release, exact, len(r.Tensors))
	}
	return nil
}
