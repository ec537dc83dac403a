package model

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// weight is one tensor the model loaded, by its GGUF name: a view of its
// current values (trained in place, dequantized by MergeLoRA).
type weight struct {
	name  string
	shape []int64
	w     *Matrix
}

// info describes the tensor as Weights hands it out: F32, or the stored
// type of a kept-quantized matrix.
func (t weight) info() format.TensorInfo {
	return format.TensorInfo{Name: t.name, DType: t.w.DType, Shape: t.shape}
}

// Weights returns the model's weights as a format.Source with llama.cpp's
// GGUF tensor names, in the order Load read them, and the metadata the
// model was loaded with (general.file_type set to F32 when every weight is
// F32): what a GGUF writer needs to save a fully fine-tuned or merged
// model that Load reads back with the same logits. Float weights are their
// current float32 values; frozen matrices kept quantized are their stored
// bytes. LoRA layers are not part of it: call MergeLoRA first to include
// them. TensorData encodes one tensor per call (a copy for F32, bounded by
// the largest tensor); the Source reads the live model, so the model must
// not change while it is used. Close does nothing.
func (m *Model) Weights() format.Source {
	infos := make([]format.TensorInfo, len(m.tensors))
	allF32 := true
	for i, t := range m.tensors {
		infos[i] = t.info()
		allF32 = allF32 && t.w.DType == format.F32
	}
	md := m.md.Clone()
	if _, ok := md.Get("general.file_type"); ok && allF32 {
		md.Set("general.file_type", uint32(0)) // llama.cpp's LLAMA_FTYPE_ALL_F32
	}
	return &weights{m: m, infos: infos, md: md}
}

// weights is the Source Weights returns.
type weights struct {
	m     *Model
	infos []format.TensorInfo
	md    format.Metadata
}

func (s *weights) Format() string               { return "model" }
func (s *weights) Tensors() []format.TensorInfo { return s.infos }
func (s *weights) Metadata() format.Metadata    { return s.md }
func (s *weights) Close() error                 { return nil }

// TensorData returns the named tensor's bytes: the little-endian float32
// values, or a kept-quantized matrix's stored rows (not to be modified).
func (s *weights) TensorData(name string) ([]byte, error) {
	for _, t := range s.m.tensors {
		if t.name != name {
			continue
		}
		if t.w.F32 == nil {
			return t.w.raw, nil
		}
		buf := make([]byte, 4*len(t.w.F32))
		if err := format.FromFloat32(buf, t.w.F32, format.F32); err != nil {
			return nil, fmt.Errorf("model: tensor %q: %w", name, err)
		}
		return buf, nil
	}
	return nil, fmt.Errorf("model: tensor %q: %w", name, format.ErrNotFound)
}
