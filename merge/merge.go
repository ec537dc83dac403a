package merge

import (
	"context"
	"fmt"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/atomicfile"
	"github.com/lorakit/lorakit/resolve"
)

// Options control Merge.
type Options struct {
	// DType, when valid, overrides each tensor's stored type as convert
	// does: every tensor but integer ones, merged or not, quantized ones
	// included (in GGUF, 1-D tensors stay F32).
	// Invalid keeps every tensor's type: quantized tensors that are merged
	// are requantized to their own type.
	DType format.DType
	// Force replaces an existing output (never an input). Merge only: a
	// Plan writes into a Sink its caller created.
	Force bool
	// Split, when enabled, writes a GGUF base's merge as a llama-gguf-split
	// set of shards. Merge only, as Force.
	Split format.SplitLimits
	// Progress, if set, is called after each tensor is written.
	Progress func(done, total int, name string)
}

// Report says what Merge did.
type Report struct {
	// Base and Output are the paths read and written (empty for a Plan
	// over a Source written into a Sink).
	Base   string `json:"base"`
	Output string `json:"output"`
	// Format is the container: "gguf", "safetensors" or "hf".
	Format string `json:"format"`
	// Tensors counts every tensor written, changed or not.
	Tensors int `json:"tensors"`
	// Merged lists the tensors the adapters changed, in file order.
	Merged []MergedTensor `json:"merged"`
	// Bytes is the size of all tensor data written.
	Bytes int64 `json:"bytes"`
}

// MergedTensor is one changed tensor.
type MergedTensor struct {
	Name  string `json:"name"`
	DType string `json:"dtype"` // as stored, in the base and the output
	// By names each update applied to it ("adapter X: module Y").
	By []string `json:"by"`
}

// Merge writes base with the inputs' updates applied to out, in the base's
// container (a GGUF file, a safetensors file, or a Hugging Face directory
// whose other files are copied and whose shards are kept as they are),
// one tensor at a time. ctx is checked between tensors; on any error or
// cancellation no output is left and the inputs are untouched. It is the
// path convenience over NewPlan and Plan.Write.
func Merge(ctx context.Context, basePath string, inputs []Input, out string, opt Options) (*Report, error) {
	if err := checkInputs(inputs); err != nil {
		return nil, err
	}
	b, err := openBase(basePath)
	if err != nil {
		return nil, err
	}
	defer b.Src.Close()
	if b.Kind != resolve.KindHFDir { // atomicfile.WriteDir checks directories
		if err := atomicfile.CheckOutput(out, opt.Force); err != nil {
			return nil, err
		}
	}
	p, err := newPlan(b, inputs, opt)
	if err != nil {
		return nil, err
	}
	switch b.Kind {
	case resolve.KindHFDir:
		if opt.Split.Enabled() {
			return nil, fmt.Errorf("%s: only GGUF output is split into llama-gguf-split shards: %w", out, format.ErrUnsupported)
		}
		err = writeHFDir(p.streamer(ctx), out, p.infos, p.md, opt.Force)
	default:
		var sink format.Sink
		if sink, err = format.Create(b.Kind, out, p.infos, p.md, format.CreateOptions{Force: opt.Force, Split: opt.Split}); err == nil {
			err = p.streamer(ctx).write(sink, p.infos)
		}
	}
	if err != nil {
		return nil, err
	}
	return p.report(out), nil
}
