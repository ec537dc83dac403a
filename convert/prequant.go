package convert

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/mx"
)

// Suffixes of the companion tensors of pre-quantized Hugging Face weights.
const (
	fp8ScaleSuffix = "_scale_inv" // X.weight (F8) + X.weight_scale_inv: DeepSeek / Qwen FP8
	mxBlocksSuffix = "_blocks"    // X_blocks + X_scales: MXFP4 (gpt-oss)
	mxScalesSuffix = "_scales"
)

// prequantized presents a checkpoint's pre-quantized weights as F32
// tensors, dequantized when read, one tensor at a time, and hides their
// scale tensors:
//   - FP8 block-scaled: an F8_E4M3 (or F8_E5M2) tensor X.weight with
//     X.weight_scale_inv (F32/BF16/F16) of shape (…, ⌈out/bo⌉, ⌈in/bi⌉),
//     [bo, bi] config.json's quantization_config.weight_block_size:
//     W[…, i, j] = fp8(X[…, i, j]) · scale_inv[…, i/bo, j/bi] (the
//     "inverse" scale is multiplied, as DeepSeek-V3's weight_dequant does);
//   - MXFP4: X_blocks (U8, (…, G, 16)) with X_scales (U8, (…, G)) become X
//     of shape (…, 32·G), decoded as package mx's Hugging Face layout.
type prequantized struct {
	format.Source
	infos []format.TensorInfo
	fp8   map[string]format.TensorInfo // weight name -> its scale tensor
	mx    map[string][2]string         // output name -> blocks, scales
	hide  map[string]bool              // scale and block tensors, not listed
	block [2]int64
}

// dequantizePrequantized wraps src when it holds pre-quantized weights;
// otherwise it returns src. cfg is config.json (for the FP8 block size),
// dir names the checkpoint in errors.
func dequantizePrequantized(src format.Source, cfg arch.Config, dir string) (format.Source, error) {
	byName := map[string]format.TensorInfo{}
	for _, t := range src.Tensors() {
		byName[t.Name] = t
	}
	p := &prequantized{Source: src, fp8: map[string]format.TensorInfo{}, mx: map[string][2]string{}}
	hidden := map[string]bool{}
	where := filepath.Join(dir, "model.safetensors")
	for _, t := range src.Tensors() {
		switch {
		case strings.HasSuffix(t.Name, fp8ScaleSuffix):
			w, ok := byName[strings.TrimSuffix(t.Name, fp8ScaleSuffix)]
			if !ok {
				return nil, fmt.Errorf("%s: scale %q has no weight %q: %w", where, t.Name, strings.TrimSuffix(t.Name, fp8ScaleSuffix), format.ErrFormat)
			}
			if w.DType != format.F8_E4M3 && w.DType != format.F8_E5M2 {
				return nil, fmt.Errorf("%s: %q is %v, want an FP8 weight beside its block scales %q: %w", where, w.Name, w.DType, t.Name, format.ErrFormat)
			}
			p.fp8[w.Name] = t
			hidden[t.Name] = true
		case strings.HasSuffix(t.Name, mxBlocksSuffix):
			name := strings.TrimSuffix(t.Name, mxBlocksSuffix)
			s, ok := byName[name+mxScalesSuffix]
			if !ok {
				return nil, fmt.Errorf("%s: MXFP4 blocks %q without scales %q: %w", where, t.Name, name+mxScalesSuffix, format.ErrFormat)
			}
			if err := checkMXShapes(t, s); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			p.mx[name] = [2]string{t.Name, s.Name}
			hidden[t.Name], hidden[s.Name] = true, true
		}
	}
	if len(p.fp8) == 0 && len(p.mx) == 0 {
		return src, nil
	}
	p.hide = hidden
	if len(p.fp8) > 0 {
		bs, err := fp8BlockSize(cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
		}
		p.block = bs
	}
	for _, t := range src.Tensors() {
		switch {
		case hidden[t.Name] && !strings.HasSuffix(t.Name, mxBlocksSuffix):
		case strings.HasSuffix(t.Name, mxBlocksSuffix):
			shape := append([]int64(nil), t.Shape[:len(t.Shape)-1]...)
			shape[len(shape)-1] *= mx.BlockSize
			p.infos = append(p.infos, format.TensorInfo{Name: strings.TrimSuffix(t.Name, mxBlocksSuffix), DType: format.F32, Shape: shape})
		default:
			if s, ok := p.fp8[t.Name]; ok {
				if err := p.checkFP8Shapes(t, s); err != nil {
					return nil, fmt.Errorf("%s: %w", where, err)
				}
				t = format.TensorInfo{Name: t.Name, DType: format.F32, Shape: t.Shape}
			}
			p.infos = append(p.infos, t)
		}
	}
	return p, nil
}

// fp8BlockSize reads quantization_config.weight_block_size ([bo, bi]).
func fp8BlockSize(cfg arch.Config) ([2]int64, error) {
	qc, _ := cfg["quantization_config"].(map[string]any)
	v, _ := qc["weight_block_size"].([]any)
	if len(v) != 2 {
		return [2]int64{}, fmt.Errorf("FP8 weights with weight_scale_inv, but no quantization_config.weight_block_size [rows, cols] says how many values each scale covers: %w", format.ErrFormat)
	}
	var bs [2]int64
	for i, x := range v {
		f, ok := x.(float64)
		if !ok || f < 1 || f > 1<<20 || f != float64(int64(f)) {
			return [2]int64{}, fmt.Errorf("quantization_config.weight_block_size %v: want two positive integers: %w", v, format.ErrFormat)
		}
		bs[i] = int64(f)
	}
	return bs, nil
}

// checkFP8Shapes checks a block-scale tensor against its weight.
func (p *prequantized) checkFP8Shapes(w, s format.TensorInfo) error {
	n := len(w.Shape)
	ok := n >= 2 && len(s.Shape) == n && (s.DType == format.F32 || s.DType == format.BF16 || s.DType == format.F16)
	for i := 0; ok && i < n-2; i++ {
		ok = s.Shape[i] == w.Shape[i]
	}
	if ok {
		ok = s.Shape[n-2] == ceilDiv(w.Shape[n-2], p.block[0]) && s.Shape[n-1] == ceilDiv(w.Shape[n-1], p.block[1])
	}
	if !ok {
		return fmt.Errorf("scale %q is %v %v, want float (…, ⌈%d/%d⌉, ⌈%d/%d⌉) for weight %q %v: %w", s.Name, s.DType, s.Shape,
			w.Shape[max(0, n-2)], p.block[0], w.Shape[n-1], p.block[1], w.Name, w.Shape, format.ErrShape)
	}
	return nil
}

// checkMXShapes checks an MXFP4 pair: blocks (…, G, 16) U8, scales (…, G) U8.
func checkMXShapes(b, s format.TensorInfo) error {
	n := len(b.Shape)
	ok := b.DType == format.U8 && s.DType == format.U8 && n >= 2 && b.Shape[n-1] == mx.BlockSize/2 && format.SameShape(b.Shape[:n-1], s.Shape)
	if !ok {
		return fmt.Errorf("MXFP4 blocks %q %v %v and scales %q %v %v: want U8 (…, G, 16) and U8 (…, G): %w", b.Name, b.DType, b.Shape, s.Name, s.DType, s.Shape, format.ErrShape)
	}
	return nil
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// Tensors lists the checkpoint's tensors with the pre-quantized ones as F32.
func (p *prequantized) Tensors() []format.TensorInfo { return p.infos }

// TensorData returns a tensor's bytes, dequantizing pre-quantized ones into
// a new F32 buffer.
func (p *prequantized) TensorData(name string) ([]byte, error) {
	if s, ok := p.fp8[name]; ok {
		return p.fp8Data(name, s)
	}
	if pair, ok := p.mx[name]; ok {
		return p.mxData(pair)
	}
	if p.hide[name] {
		return nil, fmt.Errorf("tensor %q (a scale or block tensor, read with its weight): %w", name, format.ErrNotFound)
	}
	return p.Source.TensorData(name)
}

// fp8Data dequantizes a block-scaled FP8 weight.
func (p *prequantized) fp8Data(name string, s format.TensorInfo) ([]byte, error) {
	w, _ := format.TensorIndex(p.Source.Tensors(), name)
	raw, err := p.Source.TensorData(name)
	if err != nil {
		return nil, err
	}
	sraw, err := p.Source.TensorData(s.Name)
	if err != nil {
		return nil, err
	}
	n, _ := w.NumElements()
	ns, _ := s.NumElements()
	vals, scales := make([]float32, n), make([]float32, ns)
	if err := format.ToFloat32(vals, raw, w.DType); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", name, err)
	}
	if err := format.ToFloat32(scales, sraw, s.DType); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", s.Name, err)
	}
	k := len(w.Shape)
	rows, cols := w.Shape[k-2], w.Shape[k-1]
	srows, scols := s.Shape[k-2], s.Shape[k-1]
	for m := int64(0); m < n/(rows*cols); m++ { // leading dimensions (experts)
		for i := range rows {
			row := vals[(m*rows+i)*cols:][:cols]
			sr := scales[(m*srows+i/p.block[0])*scols:][:scols]
			for j := range row {
				row[j] *= sr[int64(j)/p.block[1]]
			}
		}
	}
	out := make([]byte, 4*n)
	if err := format.FromFloat32(out, vals, format.F32); err != nil {
		return nil, err
	}
	return out, nil
}

// mxData decodes an MXFP4 pair.
func (p *prequantized) mxData(pair [2]string) ([]byte, error) {
	blocks, err := p.Source.TensorData(pair[0])
	if err != nil {
		return nil, err
	}
	scales, err := p.Source.TensorData(pair[1])
	if err != nil {
		return nil, err
	}
	vals := make([]float32, len(scales)*mx.BlockSize)
	if err := mx.DecodeHF(vals, blocks, scales); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", pair[0], err)
	}
	out := make([]byte, 4*len(vals))
	if err := format.FromFloat32(out, vals, format.F32); err != nil {
		return nil, err
	}
	return out, nil
}

// Release forwards to the wrapped Source, for the weight and its scales.
func (p *prequantized) Release(name string) {
	format.Release(p.Source, name)
	if s, ok := p.fp8[name]; ok {
		format.Release(p.Source, s.Name)
	}
	if pair, ok := p.mx[name]; ok {
		format.Release(p.Source, pair[0])
		format.Release(p.Source, pair[1])
	}
}
