package convert

import (
	"fmt"

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
	from      format.TensorInfo // the base tensor
	transform Transform
	toGGUF    bool
	heads     int // heads for RopeQ / RopeK
}

func (v *view) Format() string               { return v.base.Format() }
func (v *view) Tensors() []format.TensorInfo { return v.infos }
func (v *view) Metadata() format.Metadata    { return v.md }
func (v *view) Close() error                 { return v.base.Close() }
func (v *view) Release(name string) {
	if e, ok := v.entries[name]; ok {
		format.Release(v.base, e.from.Name)
	}
}
func (v *view) TensorData(name string) ([]byte, error) {
	e, ok := v.entries[name]
	if !ok {
		return nil, fmt.Errorf("tensor %q: %w", name, format.ErrNotFound)
	}
	data, err := v.base.TensorData(e.from.Name)
	if err != nil {
		return nil, err
	}
	if e.from.DType.IsBlock() && e.transform == Transpose {
		// Block rows cannot be transposed: dequantize first (the view's
		// info says F32 for such tensors).
		if data, err = Cast(data, e.from, format.F32); err != nil {
			return nil, err
		}
	}
	return e.apply(data)
}

// apply runs the entry's transform over the base tensor's bytes.
func (e viewEntry) apply(data []byte) ([]byte, error) {
	t := e.from
	switch e.transform {
	case Transpose:
		if len(t.Shape) != 2 {
			return nil, fmt.Errorf("tensor %q: transpose needs a matrix, shape %v: %w", t.Name, t.Shape, format.ErrShape)
		}
		elem := t.DType.BlockBytes()
		if t.DType.IsBlock() {
			elem = 4
		}
		return transpose2D(data, int(t.Shape[0]), int(t.Shape[1]), elem), nil
	case RopeQ, RopeK:
		rows, _ := t.Rows()
		if len(t.Shape) == 1 {
			rows = t.Shape[0]
		}
		out, err := ropeRows(data, int(rows), len(data)/int(rows), e.heads, e.toGGUF)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		return out, nil
	}
	return data, nil
}

// info returns the view tensor's info: the base's, renamed, with the shape
// (and, for transposed block tensors, the dtype) the transform gives.
func (e viewEntry) info(name string) format.TensorInfo {
	out := format.TensorInfo{Name: name, DType: e.from.DType, Shape: append([]int64(nil), e.from.Shape...)}
	if e.transform == Transpose && len(out.Shape) == 2 {
		out.Shape[0], out.Shape[1] = out.Shape[1], out.Shape[0]
		if out.DType.IsBlock() {
			out.DType = format.F32
		}
	}
	return out
}
