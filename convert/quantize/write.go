package quantize

import (
	"context"
	"fmt"
	"os"

	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/gguf" // the GGUF driver format.Create writes with
	"github.com/lorakit/lorakit/internal/mmap"
)

// File quantizes the checkpoint at in (a GGUF file of any dtype, a
// safetensors file or a sharded safetensors directory) into the GGUF file
// out, as Write does. Tensor data is read from a memory map of in whose
// pages are handed back to the kernel as soon as they are converted, so the
// resident memory stays near the size of the largest output tensor. It
// returns the plan it carried out.
func File(ctx context.Context, in, out string, opt Options) (*Plan, error) {
	src, err := format.Open(in)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	r, err := newInput(in, src)
	if err != nil {
		return nil, err
	}
	defer r.close()
	return write(ctx, in, r, out, opt)
}

// PlanFile opens the checkpoint at in and returns what File would write,
// reading no tensor data (llama-quantize's --dry-run: a type that will need
// an importance matrix when none is given is only a warning).
func PlanFile(in string, opt Options) (*Plan, error) {
	opt.dryRun = true
	src, err := format.Open(in)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	p, err := NewPlan(src, opt)
	if err != nil {
		return nil, fmt.Errorf("quantize: %s: %w", in, err)
	}
	return p, nil
}

// Write quantizes src into the GGUF file out following NewPlan, one tensor
// at a time: each is converted row block by row block on all cores and
// written before the next is read. The output is written under a temporary
// name and renamed into place; on any error or cancellation of ctx
// (checked between row blocks) no output is left. Errors name the tensor.
func Write(ctx context.Context, src format.Source, out string, opt Options) (*Plan, error) {
	return write(ctx, src.Format()+" source", &input{src: src}, out, opt)
}

// write carries out the plan of r's source; name names the input in
// errors.
func write(ctx context.Context, name string, r *input, out string, opt Options) (*Plan, error) {
	plan, err := NewPlan(r.src, opt)
	if err == nil {
		err = plan.CheckCodecs()
	}
	if err != nil {
		return nil, fmt.Errorf("quantize: %s: %w", name, err)
	}
	var sink format.Sink
	if opt.KeepSplit {
		sink, err = createKeepSplit(plan, out, opt.Force)
	} else {
		infos := make([]format.TensorInfo, len(plan.Tensors))
		for i, t := range plan.Tensors {
			infos[i] = t.Info()
		}
		sink, err = format.Create("gguf", out, infos, plan.Metadata, format.CreateOptions{Force: opt.Force, Split: opt.Split})
	}
	if err != nil {
		return nil, err
	}
	// Two converters: tensor i+1 is converted into one while tensor i is
	// written from the other; a tensor too large for write-behind waits for
	// the writer and always uses the first, so only it grows that large.
	var cs [2]converter
	wb := format.NewWriteBehind(sink)
	for i, t := range plan.Tensors {
		if i+1 < len(plan.Tensors) {
			r.prefetch(plan.Tensors[i+1])
		}
		c := &cs[i%2]
		var err error
		if t.OutBytes > format.WriteBehindMax {
			c = &cs[0]
			err = wb.Wait()
		}
		if err == nil {
			err = writeTensor(ctx, c, r, wb, t)
		}
		if err != nil {
			wb.Close()
			sink.Abort()
			if ctx.Err() != nil {
				return nil, err
			}
			return nil, fmt.Errorf("quantize: %s: tensor %q: %w", name, t.Name, err)
		}
		if opt.Progress != nil {
			opt.Progress(i+1, len(plan.Tensors), t.Name)
		}
	}
	if err := wb.Close(); err != nil {
		sink.Abort()
		return nil, fmt.Errorf("quantize: %s: %w", name, err)
	}
	if err := sink.Close(); err != nil {
		return nil, err
	}
	return plan, nil
}

// writeTensor converts one tensor as planned and hands it to wb. A tensor
// kept in its input type is written from the input itself, whose pages are
// released once written.
func writeTensor(ctx context.Context, c *converter, r *input, wb *format.WriteBehind, t Tensor) error {
	data, release, err := r.data(t.In.Name, t.InBytes)
	if err != nil {
		return err
	}
	done := func() {
		if release != nil {
			release(data)
		} else {
			format.Release(r.src, t.In.Name) // a mapped Source drops the tensor's pages
		}
	}
	if t.Out == t.In.DType {
		return wb.Write(t.Name, data, done)
	}
	b, err := c.convert(ctx, t, data, release)
	if err != nil {
		return err
	}
	done()
	return wb.Write(t.Name, b, nil)
}

// input hands out tensor data: from src, or zero-copy from a private
// mapping of the file whose pages may be released after use.
type input struct {
	src     format.Source
	mapping *mmap.Mapping
	offsets format.Header
}

// newInput reads src's tensors through a mapping of its file when src is a
// single GGUF or safetensors file that knows where each tensor lies (so
// that its pages can be released), and through src otherwise.
func newInput(path string, src format.Source) (*input, error) {
	r := &input{src: src}
	h, ok := src.(format.Header)
	if st, err := os.Stat(path); err != nil || !ok || !st.Mode().IsRegular() {
		return r, nil
	}
	if f := src.Format(); f != "gguf" && f != "safetensors" {
		return r, nil
	}
	m, err := mmap.Open(path)
	if err != nil {
		return nil, err
	}
	r.mapping, r.offsets = m, h
	return r, nil
}

// prefetch asks the OS to start reading t's input bytes.
func (r *input) prefetch(t Tensor) {
	if r.mapping != nil {
		if off, ok := r.offsets.TensorOffset(t.In.Name); ok {
			r.mapping.WillNeed(off, t.InBytes)
		}
		return
	}
	format.Prefetch(r.src, t.In.Name)
}

// data returns the n bytes of the named tensor, and a function releasing
// parts of them (nil when they are not from the private mapping).
func (r *input) data(name string, n int64) ([]byte, func([]byte), error) {
	if r.mapping != nil {
		b := r.mapping.Bytes()
		if off, ok := r.offsets.TensorOffset(name); ok && off >= 0 && off <= int64(len(b)) && n <= int64(len(b))-off {
			return b[off : off+n : off+n], mmap.ReleaseMapped, nil
		}
	}
	d, err := r.src.TensorData(name)
	if err != nil {
		return nil, nil, err
	}
	if int64(len(d)) != n {
		return nil, nil, fmt.Errorf("%d bytes of data, want %d: %w", len(d), n, format.ErrFormat)
	}
	return d, nil, nil
}

func (r *input) close() {
	if r.mapping != nil {
		r.mapping.Close()
	}
}
