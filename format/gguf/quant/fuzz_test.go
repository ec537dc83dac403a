package quant

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// fuzzTypes are the types FuzzDequantize picks from by its selector byte.
var fuzzTypes = func() []format.DType {
	var out []format.DType
	for _, eb := range bounds {
		out = append(out, eb.dt)
	}
	out = append(out, weightedBenchTypes[9:]...) // the IQ and TQ types
	return append(out, format.MXFP4, format.F32) // no codec: must error
}()

// FuzzDequantize feeds arbitrary bytes to every dequantizer: whole blocks
// must decode without panicking and, for types with f16 scales, to values
// bounded by what the layout allows; other lengths and types must give an
// error, never a panic or an out-of-range access.
func FuzzDequantize(f *testing.F) {
	f.Add(uint8(0), []byte{})
	f.Add(uint8(4), make([]byte, 34))
	f.Add(uint8(2), []byte{0x00, 0x80, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88})
	f.Add(uint8(13), make([]byte, 66))
	f.Add(uint8(1), make([]byte, 35))
	// Seeds from the ggml fixtures: the first blocks of each quant/*.bin.
	if dir, err := os.Getwd(); err == nil {
		paths, _ := filepath.Glob(filepath.Join(dir, "..", "..", "..", "..", "shared", "fixtures", "quant", "*.bin"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			dt, err := format.ParseDType(filepath.Base(p[:len(p)-4]))
			if err != nil {
				continue
			}
			for i, t := range fuzzTypes {
				if t == dt {
					f.Add(uint8(i), b[:min(len(b), 3*dt.BlockBytes())])
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		dt := fuzzTypes[int(sel)%len(fuzzTypes)]
		bb, bs := dt.BlockBytes(), dt.BlockSize()
		n := len(data) / bb * bs
		out := make([]float32, n)
		err := Dequantize(out, data, dt)
		switch {
		case !CanDequantize(dt):
			if !errors.Is(err, format.ErrUnsupported) {
				t.Fatalf("Dequantize(%v) = %v, want ErrUnsupported", dt, err)
			}
			return
		case len(data)%bb != 0:
			if !errors.Is(err, format.ErrShape) {
				t.Fatalf("Dequantize(%d bytes of %v) = %v, want ErrShape", len(data), dt, err)
			}
			return
		case err != nil:
			t.Fatalf("Dequantize(%d bytes of %v) = %v", len(data), dt, err)
		}
		if dt != format.Q8_K {
			// f16 scales are at most 65504 (or Inf/NaN); with codes below
			// 128 and levels below 128 no finite-scale block can exceed this.
			for i, v := range out {
				if a := math.Abs(float64(v)); a > 65504*128*128*2 && !math.IsInf(a, 0) {
					t.Fatalf("Dequantize(%v)[%d] = %g: beyond any representable value", dt, i, v)
				}
			}
		}
		// A length one value off must be refused.
		if err := Dequantize(make([]float32, n+1), data, dt); !errors.Is(err, format.ErrShape) {
			t.Fatalf("Dequantize(%d values, %d bytes, %v) = %v, want ErrShape", n+1, len(data), dt, err)
		}
	})
}

// FuzzQuantize quantizes arbitrary float32 bit patterns: either an error
// of the documented kinds, or blocks that decode to finite values.
func FuzzQuantize(f *testing.F) {
	f.Add(uint8(0), make([]byte, 4*32))
	f.Add(uint8(6), make([]byte, 4*256))
	f.Add(uint8(12), []byte{0, 0, 0x80, 0x7f}) // +Inf
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		dt := bounds[int(sel)%len(bounds)].dt
		bs := dt.BlockSize()
		blocks := max(1, len(data)/4/bs)
		x := make([]float32, blocks*bs)
		for i := range min(len(x), len(data)/4) {
			x[i] = math.Float32frombits(uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24)
		}
		b := make([]byte, blocks*dt.BlockBytes())
		if err := Quantize(b, x, dt); err != nil {
			if !errors.Is(err, ErrNonFinite) && !errors.Is(err, ErrScaleOverflow) {
				t.Fatalf("Quantize(%v) = %v, want nil, ErrNonFinite or ErrScaleOverflow", dt, err)
			}
			return
		}
		y := make([]float32, len(x))
		if err := Dequantize(y, b, dt); err != nil {
			t.Fatal(err)
		}
		for i, v := range y {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("Dequantize(Quantize(x, %v))[%d] = %v (x = %v), want finite", dt, i, v, x[i])
			}
		}
	})
}

// FuzzQuantizeWeighted quantizes arbitrary float32 bit patterns with
// arbitrary importance values (one row of one block): either an error of
// the documented kinds, or blocks that decode to finite values; never a
// panic.
func FuzzQuantizeWeighted(f *testing.F) {
	f.Add(uint8(0), make([]byte, 4*256), make([]byte, 4*256))
	f.Add(uint8(15), []byte{0, 0, 0x80, 0x7f}, []byte{0xff, 0xff, 0x7f, 0x7f}) // +Inf, FLT_MAX importance
	f.Add(uint8(17), []byte{0x00, 0x50, 0xc3, 0x51}, []byte{0xff, 0xff, 0x7f, 0x7e})
	f.Fuzz(func(t *testing.T, sel uint8, data, imp []byte) {
		dt := weightedBenchTypes[int(sel)%len(weightedBenchTypes)]
		bs := dt.BlockSize()
		x, qw := make([]float32, bs), make([]float32, bs)
		for i := range bs {
			if 4*i+4 <= len(data) {
				x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			}
			if 4*i+4 <= len(imp) {
				qw[i] = math.Float32frombits(binary.LittleEndian.Uint32(imp[4*i:]))
			}
		}
		b := make([]byte, dt.BlockBytes())
		if err := QuantizeRowsWeighted(b, x, bs, dt, qw); err != nil {
			if !errors.Is(err, ErrNonFinite) && !errors.Is(err, ErrScaleOverflow) && !errors.Is(err, format.ErrFormat) {
				t.Fatalf("QuantizeRowsWeighted(%v) = %v, want nil, ErrNonFinite, ErrScaleOverflow or ErrFormat", dt, err)
			}
			return
		}
		y := make([]float32, bs)
		if err := Dequantize(y, b, dt); err != nil {
			t.Fatal(err)
		}
		for i, v := range y {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("Dequantize(QuantizeRowsWeighted(x, %v))[%d] = %v (x = %v, qw = %v), want finite", dt, i, v, x, qw)
			}
		}
	})
}
