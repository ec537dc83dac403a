package main

import (
	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
)

type convertOptions struct {
	output string
	to     string
	dtype  string
	force  bool
}

func newConvertCmd() *cobra.Command {
	var o convertOptions
	cmd := &cobra.Command{
		Use:   "convert IN -o OUT",
		Short: "Convert a checkpoint between safetensors and GGUF, optionally casting dtypes",
		Long: `Convert a checkpoint between safetensors and GGUF, tensor by tensor, with
tensor names carried as they are. The input's format is detected from its
content; the output's from --to or its extension.

--dtype f32|f16|bf16 casts floating-point tensors; integer tensors are kept,
and in GGUF output 1-D tensors (norms, biases) stay F32 as llama.cpp expects.
Quantized GGUF tensors are dequantized when written to safetensors.
The output is written to a temporary file and renamed into place; an
existing output is replaced only with --force, an input never.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConvert(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "output path (required)")
	f.StringVar(&o.to, "to", "", "output format: gguf or safetensors (default: from the extension)")
	f.StringVar(&o.dtype, "dtype", "", "cast floating-point tensors to f32, f16 or bf16")
	f.BoolVar(&o.force, "force", false, "replace an existing output")
	cmd.MarkFlagRequired("output")
	return cmd
}

func runConvert(cmd *cobra.Command, in string, o convertOptions) error {
	var dt format.DType
	if o.dtype != "" {
		var err error
		if dt, err = format.ParseDType(o.dtype); err != nil {
			return usageError{err}
		}
	}
	src, err := format.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	return convert.Checkpoint(cmd.Context(), src, o.output, convert.Options{
		Format:   o.to,
		DType:    dt,
		Force:    o.force,
		Progress: newProgress(cmd.ErrOrStderr(), "convert"),
	})
}
