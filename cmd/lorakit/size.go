package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/sizecalc"
)

type sizeOptions struct {
	rank       int
	targets    string
	dtype      string
	stateDType string
	json       bool
}

func newSizeCmd() *cobra.Command {
	var o sizeOptions
	cmd := &cobra.Command{
		Use:   "size CONFIG --rank R --targets q,v [--json]",
		Short: "Count trainable parameters, checkpoint sizes and training memory of LoRA vs full fine-tuning",
		Long: `Read a Hugging Face config.json (GPT-2 or Llama-style; CONFIG may be the
model directory) and compare full fine-tuning with LoRA of rank R on the
--targets of every layer: q, k, v, o, gate, up, down (GPT-2: q, k and v are
the parts of the fused c_attn, o is attn.c_proj, up mlp.c_fc, down
mlp.c_proj; "c_attn" adapts the fused matrix as one, as PEFT does).
Trainable parameters per target are R·(in + out): A (R, in) and B (out, R).

Memory model (activations excluded, stated plainly):
  - every weight is held in --dtype (default: config.json torch_dtype, else F32)
  - each trainable parameter adds its gradient in --dtype and Adam's two
    moments m and v in --state-dtype (default F32)
  - frozen weights add nothing else
  - not counted: activations, KV cache, temporary buffers, fp32 master
    weights of mixed-precision training
So full fine-tuning needs (2·w + 2·s) bytes per parameter (12 for fp16
weights with fp32 moments), LoRA w bytes per frozen parameter plus
(2·w + 2·s) per adapter parameter. Checkpoint sizes are parameters × w.

For GPT-3 175B (sizecalc/testdata/gpt3-175b) with --rank 4 --targets q,v this
gives 18.9M trainable parameters (9,251× fewer; the paper's abstract says
10,000×), a 36 MiB adapter against a 349 GB checkpoint (paper: 35 MB and
350 GB), and 2.10 TB against 349 GB of training memory (6.0×; the paper
measured 1.2 TB and 350 GB, 3.4×, including what this model leaves out).

--json prints {"total_params", "trainable_params", "reduction",
"full_ft_train_memory_bytes", "lora_train_memory_bytes", "adapter_bytes",
...} with every figure of the text report.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSize(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&o.rank, "rank", "r", 4, "LoRA rank")
	f.StringVar(&o.targets, "targets", "q,v", "comma-separated targets: q,k,v,o,gate,up,down (gpt2 also c_attn)")
	f.StringVar(&o.dtype, "dtype", "", "dtype of weights and gradients: f32, f16, bf16 (default: torch_dtype)")
	f.StringVar(&o.stateDType, "state-dtype", "f32", "dtype of Adam's moments m and v")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	return cmd
}

func runSize(cmd *cobra.Command, config string, o sizeOptions) error {
	if err := checkPositive("--rank", o.rank); err != nil {
		return err
	}
	if strings.TrimSpace(o.targets) == "" {
		return usageError{fmt.Errorf("--targets: give at least one of q,k,v,o,gate,up,down")}
	}
	opts := sizecalc.Options{Rank: o.rank, Targets: strings.Split(o.targets, ",")}
	for _, d := range []struct {
		flag, val string
		dst       *format.DType
	}{{"--dtype", o.dtype, &opts.WeightDType}, {"--state-dtype", o.stateDType, &opts.StateDType}} {
		if d.val == "" {
			continue
		}
		dt, err := format.ParseDType(d.val)
		if err != nil {
			return usageError{fmt.Errorf("%s: %w", d.flag, err)}
		}
		*d.dst = dt
	}
	shape, err := sizecalc.ReadShape(config)
	if err != nil {
		return err
	}
	r, err := shape.Size(opts)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if o.json {
		return writeJSON(w, r)
	}
	names := make([]string, len(r.Targets))
	for i, m := range r.Targets {
		names[i] = fmt.Sprintf("%s (%d×%d)", m.Target, m.Out, m.In)
	}
	fmt.Fprintf(w, "model            %s: d_model %d, %d layers, %d heads (%d kv), ff %d, vocab %d\n",
		shape.Arch, shape.Embd, shape.Layers, shape.Heads, shape.KVHeads, shape.FF, shape.Vocab)
	fmt.Fprintf(w, "LoRA             rank %d on %s per layer\n", r.Rank, strings.Join(names, ", "))
	fmt.Fprintf(w, "parameters       %s total, %s trainable (%.4g%%), %s× fewer\n",
		sizeCount(r.TotalParams), sizeCount(r.TrainableParams), 100/r.Reduction, sizeCount(int64(r.Reduction+0.5)))
	fmt.Fprintf(w, "checkpoint       full %s, adapter %s (%s)\n", sizeBytes(r.CheckpointBytes), sizeBytes(r.AdapterBytes), r.WeightDType)
	fmt.Fprintf(w, "training memory  full fine-tuning %s, LoRA %s (%.2f× less; weights and grads %s, Adam m,v %s, activations excluded)\n",
		sizeBytes(r.FullFTMemory), sizeBytes(r.LoRAMemory), r.MemoryRatio, r.WeightDType, r.StateDType)
	return nil
}

// sizeCount writes n with thousands separators.
func sizeCount(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// sizeBytes writes a byte count with a binary unit and the exact count.
func sizeBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v, u := float64(n), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	if u == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s (%s bytes)", v, units[u], sizeCount(n))
}
