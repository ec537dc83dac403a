package optim

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
)

// The state file: a safetensors file with two F32 tensors per parameter,
// "exp_avg.<name>" and "exp_avg_sq.<name>" (shape [len]), and metadata
// format=lorakit.adamw, step, and the hyperparameters (for inspection; they
// are not restored).
const (
	stateFormat = "lorakit.adamw"
	prefixM     = "exp_avg."
	prefixV     = "exp_avg_sq."
)

// WriteState writes the optimizer's state (step, m, v) to w as safetensors.
func (o *AdamW) WriteState(w io.Writer) error {
	infos := make([]format.TensorInfo, 0, 2*len(o.params))
	for _, p := range o.params {
		shape := []int64{int64(len(p.Data))}
		infos = append(infos,
			format.TensorInfo{Name: prefixM + p.Name, DType: format.F32, Shape: shape},
			format.TensorInfo{Name: prefixV + p.Name, DType: format.F32, Shape: shape})
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	md := format.Metadata{
		{Key: "format", Value: stateFormat},
		{Key: "step", Value: strconv.Itoa(o.step)},
		{Key: "beta1", Value: f(o.cfg.Beta1)},
		{Key: "beta2", Value: f(o.cfg.Beta2)},
		{Key: "eps", Value: f(o.cfg.Eps)},
		{Key: "weight_decay", Value: f(o.cfg.WeightDecay)},
	}
	sw, err := safetensors.NewWriter(w, infos, md)
	if err != nil {
		return fmt.Errorf("optim: state: %w", err)
	}
	for i, p := range o.params {
		for _, t := range []struct {
			name string
			x    []float32
		}{{prefixM + p.Name, o.m[i]}, {prefixV + p.Name, o.v[i]}} {
			buf := make([]byte, 4*len(t.x))
			if err := format.FromFloat32(buf, t.x, format.F32); err != nil {
				return fmt.Errorf("optim: state: %w", err)
			}
			if err := sw.WriteTensor(t.name, buf); err != nil {
				return fmt.Errorf("optim: state: %w", err)
			}
		}
	}
	if err := sw.Close(); err != nil {
		return fmt.Errorf("optim: state: %w", err)
	}
	return nil
}

// MarshalBinary returns WriteState's bytes.
func (o *AdamW) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	err := o.WriteState(&b)
	return b.Bytes(), err
}

// UnmarshalBinary restores state from MarshalBinary's bytes.
func (o *AdamW) UnmarshalBinary(data []byte) error {
	return o.ReadState(bytes.NewReader(data), int64(len(data)), "state")
}

// ReadState restores step, m and v from a state file of size bytes written
// by WriteState for the same parameters (names and lengths); name is used
// in errors. Nothing changes unless the whole file is valid.
func (o *AdamW) ReadState(r io.ReaderAt, size int64, name string) error {
	bad := func(msg string, args ...any) error {
		return fmt.Errorf("optim: state %s: "+msg, append([]any{name}, args...)...)
	}
	sr, err := safetensors.NewReader(r, size)
	if err != nil {
		return bad("%w", err)
	}
	md := sr.Metadata()
	if f, _ := md.String("format"); f != stateFormat {
		return bad("format %q, want %q: %w", f, stateFormat, format.ErrFormat)
	}
	s, _ := md.String("step")
	step, err := strconv.Atoi(s)
	if err != nil || step < 0 {
		return bad("step %q: %w", s, format.ErrFormat)
	}
	if n := len(sr.Tensors()); n != 2*len(o.params) {
		return bad("%d tensors for %d parameters: %w", n, len(o.params), format.ErrShape)
	}
	m := make([][]float32, len(o.params))
	v := make([][]float32, len(o.params))
	for i, p := range o.params {
		for _, t := range []struct {
			name string
			dst  *[]float32
		}{{prefixM + p.Name, &m[i]}, {prefixV + p.Name, &v[i]}} {
			info, ok := format.TensorIndex(sr.Tensors(), t.name)
			if !ok {
				return bad("tensor %q: %w", t.name, format.ErrNotFound)
			}
			if info.DType != format.F32 || len(info.Shape) != 1 || info.Shape[0] != int64(len(p.Data)) {
				return bad("tensor %q is %v %v, want F32 [%d]: %w", t.name, info.DType, info.Shape, len(p.Data), format.ErrShape)
			}
			raw, err := sr.TensorData(t.name)
			if err != nil {
				return bad("%w", err)
			}
			x := make([]float32, len(p.Data))
			if err := format.ToFloat32(x, raw, format.F32); err != nil {
				return bad("tensor %q: %w", t.name, err)
			}
			*t.dst = x
		}
	}
	o.step, o.m, o.v = step, m, v
	return nil
}
