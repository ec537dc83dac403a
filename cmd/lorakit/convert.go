package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/convert/quantize"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/units"
)

type convertOptions struct {
	output    string
	to        string
	dtype     string
	tokenizer string
	base      string
	arch      string
	params    bool
	maxShard  int64
	force     bool
	split     splitFlags
	vocabOnly bool
	noPooler  bool
}

func newConvertCmd() *cobra.Command {
	var o convertOptions
	cmd := &cobra.Command{
		Use:   "convert SRC -o DST",
		Short: "Convert checkpoints between Hugging Face, GGUF, safetensors and llama2.c",
		Long: `Convert a checkpoint, tensor by tensor. SRC may be a Hugging Face model
directory (config.json + safetensors), a GGUF file, a safetensors file or a
llama2.c .bin checkpoint; its kind is detected from its content.

--to gguf   llama.cpp's names, layouts and metadata (hyperparameters and
            tokenizer); GPT-2 Conv1D weights are transposed and llama q/k rows
            permuted as llama.cpp's converter does.
--to hf     a Hugging Face directory: config.json, model.safetensors (shards
            with --max-shard-size), tokenizer.json; the inverse transforms.
--to safetensors
            one safetensors file with tensor names carried as they are.
Without --to, the kind follows DST: .gguf, .safetensors, otherwise a directory.

Adapters (a PEFT directory, an mlx-lm adapter directory, a llama.cpp LoRA
GGUF) convert to --to gguf (llama.cpp LoRA) or --to peft. The architecture
comes from --base (a GGUF or an HF directory; its config.json suffices),
--arch, or the adapter itself (a GGUF adapter says it; a PEFT or mlx-lm
adapter's module names and base model name must single out one family, or
lorakit asks for --base or --arch); llama q/k adapters need --base for the
head counts of the RoPE row permutation. Multimodal Gemma 3 and Mistral 3
checkpoints convert as their text tower only. rsLoRA, rank_pattern and alpha_pattern
scales are folded into B, since llama.cpp applies one alpha / rank. DoRA,
lora_B biases and modules_to_save cannot be expressed in a llama.cpp adapter:
merge those with lorakit merge.

--dtype f32|f16|bf16 casts floating-point tensors; integer tensors are kept,
and in GGUF output 1-D tensors (norms, biases) stay F32 as llama.cpp expects.
--dtype with a ggml type or a llama-quantize preset (q8_0, q4_k, Q4_K_M, ...)
quantizes GGUF output exactly as lorakit quantize (and llama-quantize) does.
Quantized GGUF tensors are dequantized when written to safetensors.
The tokenizer comes from the files beside SRC (tokenizer.json, vocab.json +
merges.txt, tokenizer.model; for llama2.c a tok*.model or tok*.bin), or --tokenizer.
--vocab-only writes a GGUF with the vocabulary alone (tokenizer.*, chat template,
config.json's hyperparameters), as llama.cpp's converter does; SRC may also be a
file holding a vocabulary (GGUF, tokenizer.json, tokenizer.model).

BERT and RoBERTa (HF directories) convert to llama.cpp's "bert" GGUF as its
converter writes them (RoBERTa's unused position rows cut, the head as cls /
cls.output); BERT's pooler, which llama.cpp drops, is kept as
cls.pooler.weight / cls.pooler.bias unless --drop-pooler.

Outputs are written under a temporary name and renamed into place; an
existing output is replaced only with --force, an input never.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return interrupted(o.output, runConvert(cmd, args[0], o))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "output path (required)")
	f.StringVar(&o.to, "to", "", "output kind: gguf, hf or safetensors (default: from DST)")
	f.StringVar(&o.dtype, "dtype", "", "cast floating-point tensors to f32, f16 or bf16")
	f.StringVar(&o.base, "base", "", "base model of an adapter (GGUF, or HF directory; config.json suffices)")
	f.StringVar(&o.arch, "arch", "", "architecture of an adapter's base when there is no --base ("+strings.Join(arch.Names(), ", ")+")")
	f.BoolVar(&o.params, "target-parameters", false, "adapter to PEFT: expert LoRA as target_parameters on transformers 5's fused expert parameters (mlp.experts.gate_up_proj, down_proj) instead of one module per expert")
	f.StringVar(&o.tokenizer, "tokenizer", "", "tokenizer file (tokenizer.json, tokenizer.model, llama2.c tokenizer.bin)")
	f.Var((*units.Bytes)(&o.maxShard), "max-shard-size", "split Hugging Face output into shards of at most this size (bytes, or 5GB, 500MB, 2GiB, 1M as transformers and llama-gguf-split read them)")
	f.BoolVar(&o.force, "force", false, "replace an existing output")
	o.split.register(f)
	f.BoolVar(&o.vocabOnly, "vocab-only", false, "write only the vocabulary of a Hugging Face directory as GGUF (no tensors)")
	f.BoolVar(&o.noPooler, "drop-pooler", false, "BERT to GGUF: leave the pooler out (cls.pooler.*), as llama.cpp's converter does, so that llama.cpp loads the file (BertForSequenceClassification's logits then need the HF checkpoint)")
	cmd.MarkFlagRequired("output")
	return cmd
}

func runConvert(cmd *cobra.Command, in string, o convertOptions) error {
	if o.to != "" {
		if err := oneOf("--to", o.to, "gguf", "hf", "safetensors", "peft"); err != nil {
			return err
		}
	}
	if o.maxShard < 0 {
		return usageError{fmt.Errorf("--max-shard-size %d: want a positive byte count (0: one file)", o.maxShard)}
	}
	var dt format.DType
	var preset quantize.Preset
	if o.dtype != "" {
		var err error
		if dt, err = format.ParseDType(o.dtype); err != nil || dt.IsBlock() {
			dt = format.Invalid
			if preset, err = quantize.ParsePreset(o.dtype); err != nil {
				return usageError{err}
			}
		}
	}
	split, err := o.split.limits()
	if err != nil {
		return err
	}
	if o.vocabOnly {
		if o.to != "" && o.to != "gguf" {
			return usageError{fmt.Errorf("--vocab-only writes GGUF, not --to %s", o.to)}
		}
		if split.Enabled() {
			return usageError{fmt.Errorf("--split-max-size/--split-max-tensors apply to models, not --vocab-only")}
		}
		return convert.VocabOnly(in, o.tokenizer, o.output, o.force)
	}
	if convert.IsAdapter(in) {
		if split.Enabled() {
			return usageError{fmt.Errorf("--split-max-size/--split-max-tensors apply to models, not adapters")}
		}
		if done, err := convertEncoderAdapter(in, o); done {
			return err
		}
		return convert.Adapter(in, o.output, convert.AdapterOptions{To: o.to, Base: o.base, Arch: o.arch, DType: dt, Force: o.force, TargetParameters: o.params})
	}
	return convert.Model(cmd.Context(), in, o.output, convert.ModelOptions{
		To:            o.to,
		DType:         dt,
		Preset:        preset,
		Tokenizer:     o.tokenizer,
		MaxShardBytes: o.maxShard,
		Force:         o.force,
		Split:         split,
		DropPooler:    o.noPooler,
		Progress:      newProgress(cmd.ErrOrStderr(), "convert"),
	})
}
