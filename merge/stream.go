package merge

import (
	"context"
	"fmt"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/mmap"
	"github.com/lorakit/lorakit/internal/parallel"
)

// chunkElems is how many float32 values one chunk of a tensor holds while it
// is decoded, merged and encoded (4 MiB): peak memory stays a few chunks
// plus the output tensor, whatever the model size.
const chunkElems = 1 << 20

// streamer writes merged tensors into sinks, one tensor at a time.
type streamer struct {
	ctx      context.Context
	b        *base
	in       map[string]format.TensorInfo // the base's tensors by name
	ops      tensorOps
	p        [2]processor // tensor i is prepared in p[i%2]
	progress func(done, total int, name string)
	done     int
	total    int
}

// newStreamer returns a streamer over b's tensors that will write total
// tensors in all (over one sink or several).
func newStreamer(ctx context.Context, b *base, ops tensorOps, total int, progress func(done, total int, name string)) *streamer {
	in := make(map[string]format.TensorInfo, len(b.Src.Tensors()))
	for _, t := range b.Src.Tensors() {
		in[t.Name] = t
	}
	return &streamer{ctx: ctx, b: b, in: in, ops: ops, progress: progress, total: total}
}

// write streams the tensors of infos into sink and closes it; on error
// the sink is aborted. The next tensor's bytes are read ahead and each
// tensor is written behind (format.WriteBehind) while the next is merged,
// into the other of two processors; a tensor larger than
// format.WriteBehindMax waits for the writer and always uses the first.
func (s *streamer) write(sink format.Sink, infos []format.TensorInfo) error {
	wb := format.NewWriteBehind(sink)
	fail := func(err error) error {
		wb.Close()
		sink.Abort()
		return err
	}
	for i, t := range infos {
		if err := s.ctx.Err(); err != nil {
			return fail(err)
		}
		if i+1 < len(infos) {
			format.Prefetch(s.b.Src, s.in[infos[i+1].Name].Name)
		}
		in := s.in[t.Name]
		p := &s.p[i%2]
		var err error
		if n, _ := t.NumBytes(); n > format.WriteBehindMax {
			p = &s.p[0]
			err = wb.Wait()
		}
		var data []byte
		if err == nil {
			data, err = s.b.Src.TensorData(in.Name)
		}
		if err == nil {
			data, err = p.tensor(in, data, t.DType, s.ops[t.Name])
		}
		if err == nil {
			err = wb.Write(t.Name, data, func() { format.Release(s.b.Src, in.Name) })
		}
		if err != nil {
			if ops := s.ops[t.Name]; len(ops) > 0 {
				err = fmt.Errorf("%s: %w", ops[0].who, err)
			}
			return fail(err)
		}
		s.done++
		if s.progress != nil {
			s.progress(s.done, s.total, t.Name)
		}
	}
	if err := wb.Close(); err != nil {
		sink.Abort()
		return err
	}
	return sink.Close()
}

// processor turns base tensors into output tensors, reusing its buffers.
type processor struct {
	out []byte
	f   []float32
}

// matrixDims views a tensor as rows × cols (cols the innermost dimension).
func matrixDims(t format.TensorInfo) (rows, cols int, err error) {
	n, err := t.NumElements()
	if err != nil {
		return 0, 0, err
	}
	cols = 1
	if len(t.Shape) > 0 {
		cols = int(t.Shape[len(t.Shape)-1])
	}
	if cols == 0 {
		return 0, 0, nil
	}
	return int(n) / cols, cols, nil
}

// tensor returns the bytes of tensor t, stored as outDT, after ops: data
// itself when nothing changes (zero copy), else a buffer owned by p and
// valid until the next call.
func (p *processor) tensor(t format.TensorInfo, data []byte, outDT format.DType, ops []op) ([]byte, error) {
	// A replacement restarts the tensor from the saved data.
	src, srcDT := data, t.DType
	for i := len(ops) - 1; i >= 0; i-- {
		if ops[i].replace != nil {
			src, srcDT = ops[i].replace.Data, ops[i].replace.DType
			ops = ops[i+1:]
			break
		}
	}
	if len(ops) == 0 && srcDT == outDT && len(src) == len(data) {
		return src, nil
	}
	rows, cols, err := matrixDims(t)
	if err != nil {
		return nil, err
	}
	outInfo := format.TensorInfo{Name: t.Name, DType: outDT, Shape: t.Shape}
	size, err := outInfo.NumBytes()
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if rows == 0 {
		return p.grow(int(size)), nil
	}
	inRow, err := srcDT.RowBytes(int64(cols))
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	outRow, err := outDT.RowBytes(int64(cols))
	if err != nil {
		return nil, fmt.Errorf("tensor %q as %v: %w", t.Name, outDT, err)
	}
	step := max(1, chunkElems/cols)
	for _, o := range ops {
		if o.magnitude != nil && o.transposed {
			step = rows // column norms need the whole matrix
		}
	}
	step = min(step, rows)
	out := p.grow(int(size))
	if cap(p.f) < step*cols {
		p.f = make([]float32, step*cols)
	}
	for lo := 0; lo < rows; lo += step {
		hi := min(rows, lo+step)
		f := p.f[:(hi-lo)*cols]
		chunk := src[int64(lo)*inRow : int64(hi)*inRow]
		if err := decodeRows(f, chunk, hi-lo, cols, inRow, srcDT); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		mmap.ReleaseMapped(chunk) // a mapped base tensor costs a chunk of RSS
		for _, o := range ops {
			o.add(f, lo, hi, cols)
			if o.magnitude != nil {
				m := o.magnitude
				if !o.transposed {
					m = m[lo:hi]
				}
				doraRescale(f, hi-lo, cols, o.transposed, m)
			}
		}
		if len(ops) > 0 {
			if i := firstNonFinite(f); i >= 0 {
				return nil, fmt.Errorf("tensor %q: merging gives a non-finite value at row %d: %w", t.Name, lo+i/cols, format.ErrFormat)
			}
		}
		if err := encodeRows(out[int64(lo)*outRow:int64(hi)*outRow], f, hi-lo, cols, outRow, outDT); err != nil {
			return nil, fmt.Errorf("tensor %q as %v: %w", t.Name, outDT, err)
		}
	}
	return out, nil
}

// grow returns p.out resized to n bytes, reallocating only to grow it.
func (p *processor) grow(n int) []byte {
	if cap(p.out) < n {
		p.out = make([]byte, n)
	}
	return p.out[:n]
}

// minParallelElems keeps small row ranges on one goroutine.
const minParallelElems = 1 << 15

// decodeRows decodes rows × cols values of dt (rowBytes bytes a row) into
// f, rows split across cores.
func decodeRows(f []float32, src []byte, rows, cols int, rowBytes int64, dt format.DType) error {
	return parallel.RangeErr(rows, max(1, minParallelElems/cols), 1, func(lo, hi int) error {
		return format.ToFloat32(f[lo*cols:hi*cols], src[int64(lo)*rowBytes:int64(hi)*rowBytes], dt)
	})
}

// encodeRows encodes rows × cols values of f as dt (rowBytes bytes a row)
// into dst, rows split across cores.
func encodeRows(dst []byte, f []float32, rows, cols int, rowBytes int64, dt format.DType) error {
	return parallel.RangeErr(rows, max(1, minParallelElems/cols), 1, func(lo, hi int) error {
		return format.FromFloat32(dst[int64(lo)*rowBytes:int64(hi)*rowBytes], f[lo*cols:hi*cols], dt)
	})
}
