package lora

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// readFloats decodes one tensor of src to float32. Only floating-point
// element types are accepted (an adapter in an integer type is not a LoRA).
// The Source has already checked that the tensor lies inside the file, so
// the allocation is bounded by the file's size.
func readFloats(src format.Source, info format.TensorInfo) ([]float32, error) {
	if !info.DType.IsFloat() || !format.CanDecode(info.DType) {
		return nil, fmt.Errorf("tensor %q: element type %v is not a float type lorakit reads: %w", info.Name, info.DType, format.ErrUnsupported)
	}
	n, err := info.NumElements()
	if err != nil {
		return nil, err
	}
	want, err := info.NumBytes()
	if err != nil {
		return nil, err
	}
	data, err := src.TensorData(info.Name)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != want {
		return nil, fmt.Errorf("tensor %q: %d bytes, want %d for %v: %w", info.Name, len(data), want, info, format.ErrFormat)
	}
	out := make([]float32, n)
	if err := format.ToFloat32(out, data, info.DType); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", info.Name, err)
	}
	return out, nil
}

// matrix2D returns the two dimensions of a 2-D tensor, or an ErrShape error.
func matrix2D(info format.TensorInfo) (rows, cols int, err error) {
	if len(info.Shape) != 2 || info.Shape[0] <= 0 || info.Shape[1] <= 0 {
		return 0, 0, fmt.Errorf("tensor %q: shape %v, want a non-empty matrix: %w", info.Name, info.Shape, format.ErrShape)
	}
	return int(info.Shape[0]), int(info.Shape[1]), nil
}

// vector1D returns the length of a 1-D tensor, or an ErrShape error.
func vector1D(info format.TensorInfo) (int, error) {
	if len(info.Shape) != 1 || info.Shape[0] <= 0 {
		return 0, fmt.Errorf("tensor %q: shape %v, want a non-empty vector: %w", info.Name, info.Shape, format.ErrShape)
	}
	return int(info.Shape[0]), nil
}

// checkHalves reports a module that lacks its A or its B tensor, or whose
// B has a rank (bRank, its column count) other than A's. nameA and nameB
// are the tensors' names as the file format spells them.
func checkHalves(m *Module, bRank int, nameA, nameB string) error {
	switch {
	case m.A == nil:
		return fmt.Errorf("module %q: %s without %s: %w", m.Name, nameB, nameA, format.ErrFormat)
	case m.B == nil:
		return fmt.Errorf("module %q: %s without %s: %w", m.Name, nameA, nameB, format.ErrFormat)
	case bRank != m.Rank:
		return fmt.Errorf("module %q: %s has rank %d, %s %d: %w", m.Name, nameA, m.Rank, nameB, bRank, format.ErrShape)
	}
	return nil
}

// copyTensor copies a full tensor out of src (its bytes outlive the Source).
func copyTensor(src format.Source, info format.TensorInfo) (Tensor, error) {
	want, err := info.NumBytes()
	if err != nil {
		return Tensor{}, err
	}
	data, err := src.TensorData(info.Name)
	if err != nil {
		return Tensor{}, err
	}
	if int64(len(data)) != want {
		return Tensor{}, fmt.Errorf("tensor %q: %d bytes, want %d for %v: %w", info.Name, len(data), want, info, format.ErrFormat)
	}
	return Tensor{Name: info.Name, DType: info.DType, Shape: append([]int64(nil), info.Shape...), Data: append([]byte(nil), data...)}, nil
}

// outTensor is one tensor to write: its info and its float32 values (or raw
// bytes for a saved tensor).
type outTensor struct {
	info format.TensorInfo
	vals []float32
	raw  []byte
}

// encode returns the tensor's bytes in its declared dtype.
func (t outTensor) encode() ([]byte, error) {
	if t.raw != nil {
		return t.raw, nil
	}
	n, err := t.info.NumBytes()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	if err := format.FromFloat32(buf, t.vals, t.info.DType); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.info.Name, err)
	}
	return buf, nil
}

// writeTensors plans a Sink of the named format at path and streams the
// tensors into it; on any error the output is discarded.
func writeTensors(formatName, path string, ts []outTensor, md format.Metadata, force bool) error {
	infos := make([]format.TensorInfo, len(ts))
	for i, t := range ts {
		infos[i] = t.info
	}
	sink, err := format.Create(formatName, path, infos, md, format.CreateOptions{Force: force})
	if err != nil {
		return err
	}
	for _, t := range ts {
		data, err := t.encode()
		if err == nil {
			err = sink.WriteTensor(t.info.Name, data)
		}
		if err != nil {
			sink.Abort()
			return err
		}
	}
	return sink.Close()
}

// outDType resolves WriteOptions.DType: F32 unless a float type the
// container can hold was asked for.
func outDType(dt format.DType) (format.DType, error) {
	if dt == format.Invalid {
		return format.F32, nil
	}
	if !format.CanEncode(dt) || !(dt.IsFloat() || dt.IsBlock()) {
		return 0, fmt.Errorf("lora: cannot write adapter tensors as %v: %w", dt, format.ErrUnsupported)
	}
	return dt, nil
}

// WriteOptions control how an adapter is written.
type WriteOptions struct {
	// Force replaces an existing output (never an input).
	Force bool
	// DType is the element type of the LoRA tensors: F32 when unset; pass
	// Adapter.DType to keep the input's type (F16, BF16).
	DType format.DType
}
