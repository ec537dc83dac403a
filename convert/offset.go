package convert

import (
	"fmt"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
)

// positionSkip is the number of leading rows llama.cpp's converter cuts
// from an encoder's position embedding t (arch.EncoderPositionOffset),
// checked against its shape.
func positionSkip(cfg arch.Config, t format.TensorInfo) (int64, error) {
	off, err := arch.EncoderPositionOffset(cfg)
	if err != nil {
		return 0, err
	}
	if off > 0 && (len(t.Shape) != 2 || t.Shape[0] <= int64(off)) {
		return 0, fmt.Errorf("tensor %q: shape %v has no rows beyond the %d position-offset rows: %w", t.Name, t.Shape, off, format.ErrShape)
	}
	return int64(off), nil
}

// skipRows drops the first n rows of the matrix t (data its bytes).
//
//	data (rows, cols) -> (rows-n, cols)
func skipRows(data []byte, t format.TensorInfo, n int64) ([]byte, format.TensorInfo, error) {
	if len(t.Shape) != 2 || n >= t.Shape[0] {
		return nil, t, fmt.Errorf("tensor %q: cannot drop %d rows of %v: %w", t.Name, n, t.Shape, format.ErrShape)
	}
	rowBytes, err := t.DType.RowBytes(t.Shape[1])
	if err != nil || int64(len(data)) != t.Shape[0]*rowBytes {
		return nil, t, fmt.Errorf("tensor %q: %d bytes for %v: %w", t.Name, len(data), t.Shape, format.ErrShape)
	}
	t.Shape = []int64{t.Shape[0] - n, t.Shape[1]}
	return data[n*rowBytes:], t, nil
}

// dropPooler leaves BERT's pooler (arch.PoolerWeight, arch.PoolerBias) out
// of a GGUF view, giving exactly the tensors llama.cpp's converter writes
// (llama.cpp refuses a model file with tensors it does not create).
func dropPooler(src format.Source) format.Source {
	var infos []format.TensorInfo
	for _, t := range src.Tensors() {
		if t.Name != arch.PoolerWeight && t.Name != arch.PoolerBias {
			infos = append(infos, t)
		}
	}
	return orderedSource{Source: src, infos: infos}
}
