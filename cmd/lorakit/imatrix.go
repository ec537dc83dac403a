package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/imatrix"
	"github.com/lorakit/lorakit/internal/atomicfile"
	"github.com/lorakit/lorakit/model"
)

type imatrixOptions struct {
	lmOptions
	data          string
	ctx, chunks   int
	batch, ubatch int
	output        string
	force         bool
	parseSpecial  bool
}

func newImatrixCmd() *cobra.Command {
	var o imatrixOptions
	cmd := &cobra.Command{
		Use:   "imatrix MODEL --data TEXT -o IMATRIX.gguf",
		Short: "Compute an importance matrix over calibration text, as llama-imatrix does",
		Long: `Run MODEL (any checkpoint lorakit runs, quantized GGUF included) over the
calibration text TEXT and write, for every projection weight of its blocks,
the per-column sums of squared inputs and the token counts in llama.cpp's
GGUF imatrix format (for lorakit quantize --imatrix or llama-quantize).

As llama-imatrix: the text (one trailing newline dropped) is tokenized with
BOS when the vocabulary adds one (special-token text stays plain text
unless --parse-special), cut into chunks of --ctx tokens whose
first token is replaced by BOS, and every position of each chunk counts,
except those in physical batches (--batch, --ubatch) of fewer than 16
tokens. At least 2·ctx tokens are needed. Attention is computed as
llama.cpp's CPU flash attention with an F16 KV cache computes it, so that
the sums agree with llama-imatrix's to about 1e-5. imatrix.datasets records TEXT as
given. Progress goes to stderr.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return interrupted(o.output, runImatrix(cmd, args[0], o))
		},
	}
	addLMFlags(cmd, &o.lmOptions)
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "calibration text file (required)")
	f.IntVar(&o.ctx, "ctx", 512, "tokens per chunk (llama-imatrix -c)")
	f.IntVar(&o.chunks, "chunks", 0, "most chunks to process (0: all)")
	f.IntVar(&o.batch, "batch", 2048, "logical batch size (llama-imatrix -b)")
	f.IntVar(&o.ubatch, "ubatch", 512, "physical batch size (llama-imatrix -ub)")
	f.StringVarP(&o.output, "output", "o", "imatrix.gguf", "output imatrix file (GGUF)")
	f.BoolVar(&o.force, "force", false, "replace an existing output")
	f.BoolVar(&o.parseSpecial, "parse-special", false, "match special-token text in TEXT as special tokens (llama-imatrix --parse-special)")
	return cmd
}

func runImatrix(cmd *cobra.Command, path string, o imatrixOptions) error {
	if o.data == "" {
		return usageError{fmt.Errorf("--data TEXT is required")}
	}
	if o.ctx <= 0 || o.batch <= 0 || o.ubatch <= 0 {
		return usageError{fmt.Errorf("--ctx, --batch and --ubatch must be positive")}
	}
	if err := atomicfile.CheckOutput(o.output, o.force); err != nil {
		return err
	}
	b, err := os.ReadFile(o.data)
	if err != nil {
		if os.IsNotExist(err) {
			return fmt.Errorf("%v: %w", err, format.ErrNotFound)
		}
		return err
	}
	text := strings.TrimSuffix(string(b), "\n")
	mo := runOptions
	mo.LlamaAttention = true // llama-imatrix's activations come from its F16 flash attention
	l, err := openLM(path, o.lmOptions, mo)
	if err != nil {
		return err
	}
	tok, err := l.NeedTokenizer()
	if err != nil {
		return err
	}
	if o.ctx > l.Model.Config.Context {
		return fmt.Errorf("%s: --ctx %d exceeds the model's context %d: %w", l.Name, o.ctx, l.Model.Config.Context, format.ErrShape)
	}
	tok.ParseSpecial = o.parseSpecial
	bos := -1
	if tok.AddBOS {
		bos = tok.Vocab().BOS
	}
	col := imatrix.NewCollector()
	l.Model.SetInputObserver(observeInto(col))
	defer l.Model.SetInputObserver(nil)
	errw := cmd.ErrOrStderr()
	opt := imatrix.Options{Ctx: o.ctx, Chunks: o.chunks, Batch: o.batch, UBatch: o.ubatch, BOS: bos, Datasets: []string{o.data},
		Progress: func(done, total int) { fmt.Fprintf(errw, "imatrix: chunk %d/%d\n", done, total) }}
	targets := make([]int, o.ctx)
	m, err := imatrix.Compute(cmd.Context(), tok.Encode(text), opt, col, func(chunk []int) error {
		copy(targets, chunk[1:])
		targets[len(targets)-1] = -1
		_, err := l.Model.Loss(model.Batch{B: 1, T: len(chunk), Tokens: chunk, Targets: targets})
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", l.Name, err)
	}
	if err := imatrix.Write(o.output, m, o.force); err != nil {
		return err
	}
	fmt.Fprintf(errw, "imatrix: %s: %d entries, %d chunks of %d tokens\n", o.output, len(m.Entries), m.Chunks, m.ChunkSize)
	return nil
}

// observeInto forwards a model's projection inputs to c: expert stacks
// per expert, the others whole.
func observeInto(c *imatrix.Collector) model.InputObserver {
	return func(in model.Input) {
		if in.Experts > 0 {
			c.ObserveExpert(in.Weight, in.Expert, in.Experts, in.X, in.Rows, in.Cols)
			return
		}
		c.Observe(in.Weight, in.X, in.Rows, in.Cols)
	}
}
