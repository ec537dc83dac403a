package convert

import (
	"fmt"
	"runtime"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
)

// view is a Source that presents another Source's tensors under new names,
// with a layout transform applied as each tensor is read: how a Hugging Face
// checkpoint is seen with llama.cpp's names and layout, and back. Only the
// tensor being read is ever transformed, so conversions stay streaming.
type view struct {
	base    format.Source
	infos   []format.TensorInfo
	md      format.Metadata
	entries map[string]viewEntry
}

// viewEntry says where a view tensor comes from and how it is changed.
type viewEntry struct {
	from      format.TensorInfo // the base tensor (zero for a generated one)
	transform arch.Transform
	toGGUF    bool
	heads     int          // heads for RopeQ / RopeK
	dtype     format.DType // the view's dtype: from.DType, or F32 where a transform or llama.cpp's rule asks
	rows      int64        // keep only the first rows rows (0: all)
	skip      int64        // drop the first skip rows (RoBERTa's unused positions)
	data      []byte       // a generated tensor's bytes
	// stack, when set, makes the tensor the stack of these base tensors
	// (one expert each, in expert order; from is stack[0]): GGUF's
	// ffn_*_exps from HF's per-expert weights.
	stack []format.TensorInfo
	// sliced takes expert slice of the stacked base tensor from.
	sliced bool
	slice  int
}

func (v *view) Format() string               { return v.base.Format() }
func (v *view) Tensors() []format.TensorInfo { return v.infos }
func (v *view) Metadata() format.Metadata    { return v.md }
func (v *view) Close() error                 { return v.base.Close() }
func (v *view) Release(name string) {
	if e, ok := v.entries[name]; ok && e.data == nil && e.stack == nil {
		format.Release(v.base, e.from.Name)
	}
}

// Prefetch implements format.Prefetcher for tensors read from one base tensor.
func (v *view) Prefetch(name string) {
	if e, ok := v.entries[name]; ok && e.data == nil && e.stack == nil {
		format.Prefetch(v.base, e.from.Name)
	}
}

// add lists a tensor of the view.
func (v *view) add(name string, e viewEntry) {
	v.entries[name] = e
	v.infos = append(v.infos, e.info(name))
}

func (v *view) TensorData(name string) ([]byte, error) {
	e, ok := v.entries[name]
	if !ok {
		return nil, fmt.Errorf("tensor %q: %w", name, format.ErrNotFound)
	}
	if e.data != nil {
		return e.data, nil
	}
	if e.stack != nil {
		return v.stacked(e)
	}
	data, err := v.base.TensorData(e.from.Name)
	if err != nil {
		return nil, err
	}
	from := e.from
	if e.sliced {
		if len(from.Shape) < 2 || from.Shape[0] <= int64(e.slice) || int64(len(data))%from.Shape[0] != 0 {
			return nil, fmt.Errorf("tensor %q: no expert %d in shape %v: %w", from.Name, e.slice, from.Shape, format.ErrShape)
		}
		n := int64(len(data)) / from.Shape[0]
		data = data[int64(e.slice)*n : int64(e.slice+1)*n]
		from.Shape = from.Shape[1:]
	}
	if e.skip > 0 {
		if data, from, err = skipRows(data, from, e.skip); err != nil {
			return nil, err
		}
	}
	if e.rows > 0 && len(from.Shape) == 2 && e.rows < from.Shape[0] {
		rowBytes, err := from.DType.RowBytes(from.Shape[1])
		if err != nil || int64(len(data)) < e.rows*rowBytes {
			return nil, fmt.Errorf("tensor %q: %d bytes for %v: %w", from.Name, len(data), from, format.ErrShape)
		}
		data = data[:e.rows*rowBytes]
		from.Shape = []int64{e.rows, from.Shape[1]}
	}
	if e.dtype != from.DType {
		if data, err = Cast(data, from, e.dtype); err != nil {
			return nil, err
		}
		from.DType = e.dtype
	}
	return e.apply(data, from)
}

// stacked reads the experts of a stacked tensor one at a time into the
// one buffer the stack needs, cast to the view's dtype.
func (v *view) stacked(e viewEntry) ([]byte, error) {
	info := e.info("")
	size, err := info.NumBytes()
	if err != nil {
		return nil, err
	}
	// A stacked tensor is the largest allocation of a conversion; collect
	// the previous one (written and dropped by now) first, so that the
	// heap reuses its pages instead of growing to two of them.
	runtime.GC()
	out := make([]byte, 0, size)
	for _, p := range e.stack {
		data, err := v.base.TensorData(p.Name)
		if err != nil {
			return nil, err
		}
		if data, err = Cast(data, p, e.dtype); err != nil {
			return nil, err
		}
		out = append(out, data...)
		format.Release(v.base, p.Name)
	}
	if int64(len(out)) != size {
		return nil, fmt.Errorf("tensor %q: experts add up to %d bytes, want %d: %w", e.from.Name, len(out), size, format.ErrShape)
	}
	return out, nil
}

// apply runs the entry's transform over the bytes of t (the base tensor,
// already cut and cast to the view's dtype).
func (e viewEntry) apply(data []byte, t format.TensorInfo) ([]byte, error) {
	switch e.transform {
	case arch.Transpose:
		if len(t.Shape) != 2 {
			return nil, fmt.Errorf("tensor %q: transpose needs a matrix, shape %v: %w", t.Name, t.Shape, format.ErrShape)
		}
		return transpose2D(data, int(t.Shape[0]), int(t.Shape[1]), t.DType.BlockBytes()), nil
	case arch.RopeQ, arch.RopeK:
		rows, _ := t.Rows()
		if len(t.Shape) == 1 {
			rows = t.Shape[0]
		}
		if rows == 0 {
			return data, nil
		}
		out, err := ropeRows(data, int(rows), len(data)/int(rows), e.heads, e.toGGUF)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		return out, nil
	case arch.NormPlusOne:
		return normOffset(data, e.toGGUF), nil
	}
	return data, nil
}

// normOffset adds 1 (toGGUF) or subtracts 1 from every float32 of data, in
// float32 as llama.cpp's converter adds it. Going back is exact for
// GGUF values in [0.5, 2] (Sterbenz: y-1 is exact there, and so is
// (y-1)+1); HF -> GGUF -> HF returns x within half an ulp of 1.
func normOffset(data []byte, toGGUF bool) []byte {
	out := make([]byte, len(data))
	d := float32(1)
	if !toGGUF {
		d = -1
	}
	for i := 0; i+4 <= len(data); i += 4 {
		putF32(out[i:], getF32(data[i:])+d)
	}
	return out
}

// info returns the view tensor's info: the base's, renamed, with the
// shape and dtype the cut, cast and transform give.
func (e viewEntry) info(name string) format.TensorInfo {
	if e.data != nil {
		return format.TensorInfo{Name: name, DType: format.F32, Shape: []int64{int64(len(e.data) / 4)}}
	}
	out := format.TensorInfo{Name: name, DType: e.dtype, Shape: append([]int64(nil), e.from.Shape...)}
	switch {
	case e.stack != nil:
		out.Shape = append([]int64{int64(len(e.stack))}, out.Shape...)
	case e.sliced && len(out.Shape) > 1:
		out.Shape = out.Shape[1:]
	}
	if e.skip > 0 && len(out.Shape) == 2 && e.skip < out.Shape[0] {
		out.Shape[0] -= e.skip
	}
	if e.rows > 0 && len(out.Shape) == 2 && e.rows < out.Shape[0] {
		out.Shape[0] = e.rows
	}
	if e.transform == arch.Transpose && len(out.Shape) == 2 {
		out.Shape[0], out.Shape[1] = out.Shape[1], out.Shape[0]
	}
	return out
}

// newEntry makes the view entry of base tensor t under transform tr,
// choosing the view's dtype: F32 where the transform works on float32
// values (Gemma's norm offset, a transposed block-quantized tensor, whose
// rows cannot be transposed as blocks).
func newEntry(t format.TensorInfo, tr arch.Transform, toGGUF bool, heads int) viewEntry {
	e := viewEntry{from: t, transform: tr, toGGUF: toGGUF, heads: heads, dtype: t.DType}
	if tr == arch.NormPlusOne || (tr == arch.Transpose && t.DType.IsBlock()) {
		e.dtype = format.F32
	}
	return e
}

// f32Bytes encodes float32 values little-endian.
func f32Bytes(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		putF32(out[4*i:], x)
	}
	return out
}
