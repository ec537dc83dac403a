package quant

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// f16Rel is binary16's relative rounding error (half an ulp, 2⁻¹¹) and
// f16Sub its smallest subnormal (2⁻²⁴): the error of storing a scale.
const (
	f16Rel = 1.0 / 2048
	f16Sub = 1.0 / (1 << 24)
)

// errorBound is the analytical bound on |x - dequantize(quantize(x))| of a
// type for one block x, in terms of A = max|x| and R = max(x,0) - min(x,0).
type errorBound struct {
	dt    format.DType
	bound func(A, R float64) float64
	why   string
}

// bounds holds one analytical bound per codec. The legacy and 8-bit bounds
// are tight: half a grid step, the grid end that ggml's scale choice leaves
// uncovered, plus the f16 rounding of the scale (and min) times the largest
// level. K-quant scales are least-squares fits stored as 6-bit (Q2_K: 4-bit)
// codes, so there the bound is one step of the b-bit grid over the block,
// widened by 1/4 for the fitted scale sitting below range/(2^b-1) (rmin) and
// the scale-code rounding, plus half a min-code step (A/126, Q2_K A/30)
// for the types with a min; IQ4_NL's worst case is its 14-unit shortfall at the top
// of the 127-unit level table, widened the same way.
var bounds = []errorBound{
	{format.Q8_0, func(A, R float64) float64 { return A*(1.0/254+f16Rel) + 127*f16Sub }, "d/2 + 127·f16(d) error, d = A/127"},
	{format.Q8_1, func(A, R float64) float64 { return A*(1.0/254+f16Rel) + 127*f16Sub }, "as Q8_0"},
	{format.Q8_K, func(A, R float64) float64 { return A * (1.0/254 + 1e-6) }, "d/2, d = A/127 kept in float32"},
	{format.Q4_0, func(A, R float64) float64 { return A*(1.0/8+f16Rel) + 8*f16Sub }, "levels -8d..7d: the far end is short by d = A/8"},
	{format.Q5_0, func(A, R float64) float64 { return A*(1.0/16+f16Rel) + 16*f16Sub }, "levels -16d..15d: the far end is short by d = A/16"},
	{format.Q4_1, func(A, R float64) float64 { return R*(1.0/30+f16Rel) + A*f16Rel + 16*f16Sub }, "d/2 with d = R/15, plus f16 d and m"},
	{format.Q5_1, func(A, R float64) float64 { return R*(1.0/62+f16Rel) + A*f16Rel + 32*f16Sub }, "d/2 with d = R/31, plus f16 d and m"},
	{format.Q2_K, func(A, R float64) float64 { return 1.25*R/3 + A/30 }, "one 2-bit step of R, +1/4, + half a 4-bit min code"},
	{format.Q3_K, func(A, R float64) float64 { return 1.25 * A / 4 }, "one 3-bit step (A/4), +1/4"},
	{format.Q4_K, func(A, R float64) float64 { return 1.25*R/15 + A/126 }, "one 4-bit step of R, +1/4, + half a 6-bit min code"},
	{format.Q5_K, func(A, R float64) float64 { return 1.25*R/31 + A/126 }, "one 5-bit step of R, +1/4, + half a 6-bit min code"},
	{format.Q6_K, func(A, R float64) float64 { return 1.25 * A / 32 }, "one 6-bit step (A/32), +1/4"},
	{format.IQ4_NL, func(A, R float64) float64 { return 1.25 * A * 14 / 113 }, "top level 113 of 127: 14 units short, +1/4"},
}

// blockKinds generate test blocks of n values.
var blockKinds = []struct {
	name string
	gen  func(r *rand.Rand, x []float32)
}{
	{"gaussian", func(r *rand.Rand, x []float32) {
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
	}},
	{"uniform", func(r *rand.Rand, x []float32) {
		for i := range x {
			x[i] = float32(2*r.Float64() - 1)
		}
	}},
	{"outliers", func(r *rand.Rand, x []float32) {
		for i := range x {
			x[i] = float32(0.01 * r.NormFloat64())
			if r.IntN(40) == 0 {
				x[i] = float32(r.NormFloat64())
			}
		}
	}},
	{"positive", func(r *rand.Rand, x []float32) {
		for i := range x {
			x[i] = float32(r.Float64() + 0.5)
		}
	}},
	{"negative", func(r *rand.Rand, x []float32) {
		for i := range x {
			x[i] = -float32(r.Float64())
		}
	}},
	{"constant", func(r *rand.Rand, x []float32) {
		for i := range x {
			x[i] = 0.0125
		}
	}},
	{"±max", func(r *rand.Rand, x []float32) {
		for i := range x {
			x[i] = 0.75
			if i%3 == 0 {
				x[i] = -0.75
			}
		}
	}},
	{"huge", func(r *rand.Rand, x []float32) {
		for i := range x {
			x[i] = float32(300 * r.NormFloat64())
		}
	}},
}

// roundTrip quantizes and dequantizes x with dt.
func roundTrip(t *testing.T, x []float32, dt format.DType) []float32 {
	t.Helper()
	b := make([]byte, len(x)/dt.BlockSize()*dt.BlockBytes())
	if err := Quantize(b, x, dt); err != nil {
		t.Fatalf("Quantize(%v) = %v", dt, err)
	}
	y := make([]float32, len(x))
	if err := Dequantize(y, b, dt); err != nil {
		t.Fatalf("Dequantize(%v) = %v", dt, err)
	}
	return y
}

func TestRoundTripErrorBound(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, eb := range bounds {
		for _, kind := range blockKinds {
			t.Run(eb.dt.String()+"/"+kind.name, func(t *testing.T) {
				bs := eb.dt.BlockSize()
				x := make([]float32, 64*bs)
				for b := 0; b < len(x); b += bs {
					kind.gen(r, x[b:b+bs])
				}
				y := roundTrip(t, x, eb.dt)
				for b := 0; b < len(x); b += bs {
					var A, lo, hi float64
					for _, v := range x[b : b+bs] {
						A, lo, hi = max(A, math.Abs(float64(v))), min(lo, float64(v)), max(hi, float64(v))
					}
					limit := eb.bound(A, hi-lo)
					for i := b; i < b+bs; i++ {
						if e := math.Abs(float64(x[i]) - float64(y[i])); !(e <= limit) {
							t.Fatalf("|x - deq(quant(x))| at %d = %g (x %g, got %g), want <= %g (%s)", i, e, x[i], y[i], limit, eb.why)
						}
					}
				}
			})
		}
	}
}

// TestAllZero: a zero block decodes to zeros, and its bytes are ggml's:
// zero everywhere except Q4_0/Q5_0, whose scale max/-8 is f16 -0 (00 80)
// with the +8/+16 offset in the quants, and IQ4_NL, whose level for 0 is 8.
func TestAllZero(t *testing.T) {
	special := map[format.DType][]byte{
		format.Q4_0:   append([]byte{0x00, 0x80}, bytes.Repeat([]byte{0x88}, 16)...),
		format.Q5_0:   append([]byte{0x00, 0x80, 0xff, 0xff, 0xff, 0xff}, make([]byte, 16)...),
		format.IQ4_NL: append([]byte{0x00, 0x00}, bytes.Repeat([]byte{0x88}, 16)...),
	}
	for _, eb := range bounds {
		dt := eb.dt
		t.Run(dt.String(), func(t *testing.T) {
			x := make([]float32, dt.BlockSize())
			b := make([]byte, dt.BlockBytes())
			if err := Quantize(b, x, dt); err != nil {
				t.Fatal(err)
			}
			want, ok := special[dt]
			if !ok {
				want = make([]byte, dt.BlockBytes())
			}
			if !bytes.Equal(b, want) {
				t.Errorf("Quantize(zeros, %v) = % x, want % x", dt, b, want)
			}
			y := make([]float32, len(x))
			if err := Dequantize(y, b, dt); err != nil {
				t.Fatal(err)
			}
			for i, v := range y {
				if v != 0 {
					t.Fatalf("Dequantize(Quantize(zeros, %v))[%d] = %g, want 0", dt, i, v)
				}
			}
		})
	}
}

// TestTiny: values of 1e-6 make f16 scales underflow; the result must stay
// finite and never exceed max|x| by more than 128 f16 subnormals (ggml's
// Q8_0 rounds with the unrounded 1/d, quirk 9 of the fixtures).
func TestTiny(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for _, eb := range bounds {
		dt := eb.dt
		t.Run(dt.String(), func(t *testing.T) {
			x := make([]float32, 8*dt.BlockSize())
			var A float64
			for i := range x {
				x[i] = float32(1e-6 * r.NormFloat64())
				A = max(A, math.Abs(float64(x[i])))
			}
			y := roundTrip(t, x, dt)
			for i, v := range y {
				if math.IsNaN(float64(v)) || math.Abs(float64(v)) > A+128*f16Sub {
					t.Fatalf("tiny %v: deq[%d] = %g, want finite and |.| <= %g", dt, i, v, A+128*f16Sub)
				}
			}
		})
	}
}

// TestNonFinite: NaN and ±Inf anywhere give ErrNonFinite (format.ErrFormat)
// naming the value's index.
func TestNonFinite(t *testing.T) {
	bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for _, eb := range bounds {
		dt := eb.dt
		for _, v := range bad {
			t.Run(dt.String(), func(t *testing.T) {
				x := make([]float32, 2*dt.BlockSize())
				at := dt.BlockSize() + 5
				x[at] = v
				b := make([]byte, 2*dt.BlockBytes())
				for _, f := range []func() error{
					func() error { return Quantize(b, x, dt) },
					func() error { return QuantizeRows(b, x, dt.BlockSize(), dt) },
				} {
					err := f()
					if !errors.Is(err, ErrNonFinite) || !errors.Is(err, format.ErrFormat) {
						t.Fatalf("Quantize(%v at %d, %v) = %v, want ErrNonFinite", v, at, dt, err)
					}
				}
			})
		}
	}
}

// TestScaleOverflow: values beyond what an f16 scale can carry are refused
// rather than written as blocks that decode to Inf/NaN. Q8_K keeps a
// float32 scale and takes them.
func TestScaleOverflow(t *testing.T) {
	for _, eb := range bounds {
		dt := eb.dt
		for _, mag := range []float32{1e9, 1e30} {
			t.Run(dt.String(), func(t *testing.T) {
				x := make([]float32, dt.BlockSize())
				for i := range x {
					x[i] = float32(i%7) * mag
				}
				b := make([]byte, dt.BlockBytes())
				err := Quantize(b, x, dt)
				if dt == format.Q8_K {
					if err != nil {
						t.Fatalf("Quantize(1e30s, Q8_K) = %v, want nil", err)
					}
					return
				}
				if !errors.Is(err, ErrScaleOverflow) || !errors.Is(err, format.ErrUnsupported) {
					t.Fatalf("Quantize(%g·(i%%7), %v) = %v, want ErrScaleOverflow", mag, dt, err)
				}
			})
		}
	}
}

func TestLengthAndTypeErrors(t *testing.T) {
	tests := []struct {
		name   string
		n, nb  int
		dt     format.DType
		target error
	}{
		{"partial block", 31, 34, format.Q8_0, format.ErrShape},
		{"short dst", 32, 33, format.Q8_0, format.ErrShape},
		{"long dst", 256, 145, format.Q4_K, format.ErrShape},
		{"scalar type", 4, 16, format.F32, format.ErrUnsupported},
		{"no codec", 32, 17, format.MXFP4, format.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, b := make([]float32, tt.n), make([]byte, tt.nb)
			if err := Quantize(b, x, tt.dt); !errors.Is(err, tt.target) {
				t.Errorf("Quantize(%d values, %d bytes, %v) = %v, want %v", tt.n, tt.nb, tt.dt, err, tt.target)
			}
			if err := Dequantize(x, b, tt.dt); !errors.Is(err, tt.target) {
				t.Errorf("Dequantize(%d values, %d bytes, %v) = %v, want %v", tt.n, tt.nb, tt.dt, err, tt.target)
			}
		})
	}
	if err := QuantizeRows(make([]byte, 68), make([]float32, 64), 48, format.Q8_0); !errors.Is(err, format.ErrShape) {
		t.Errorf("QuantizeRows(rowLen 48, Q8_0) = %v, want ErrShape", err)
	}
	if err := DequantizeRows(make([]float32, 64), make([]byte, 68), 0, format.Q8_0); !errors.Is(err, format.ErrShape) {
		t.Errorf("DequantizeRows(rowLen 0, Q8_0) = %v, want ErrShape", err)
	}
	for _, dt := range []format.DType{format.F16, format.MXFP4} {
		if CanQuantize(dt) || CanDequantize(dt) || CanQuantizeWeighted(dt) {
			t.Errorf("CanQuantize/CanDequantize/CanQuantizeWeighted(%v) = true, want false", dt)
		}
	}
	for _, dt := range []format.DType{format.IQ2_XXS, format.IQ2_XS, format.IQ1_S} {
		if CanQuantize(dt) || !CanDequantize(dt) || !CanQuantizeWeighted(dt) {
			t.Errorf("%v: CanQuantize %v, CanDequantize %v, CanQuantizeWeighted %v; want false, true, true",
				dt, CanQuantize(dt), CanDequantize(dt), CanQuantizeWeighted(dt))
		}
	}
}

// TestRowsMatchQuantize: the parallel row functions give Quantize's and
// Dequantize's bytes, and format's generic conversions use this package.
func TestRowsMatchQuantize(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	const rows, rowLen = 96, 1024
	x := make([]float32, rows*rowLen)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for _, eb := range bounds {
		dt := eb.dt
		t.Run(dt.String(), func(t *testing.T) {
			nb := len(x) / dt.BlockSize() * dt.BlockBytes()
			want, got, viaFormat := make([]byte, nb), make([]byte, nb), make([]byte, nb)
			if err := Quantize(want, x, dt); err != nil {
				t.Fatal(err)
			}
			if err := QuantizeRows(got, x, rowLen, dt); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("QuantizeRows(%v) differs from Quantize at %s", dt, firstDiff(got, want, dt.BlockBytes()))
			}
			if err := format.FromFloat32(viaFormat, x, dt); err != nil || !bytes.Equal(viaFormat, want) {
				t.Errorf("format.FromFloat32(%v) = %v, or bytes differ from Quantize", dt, err)
			}
			y1, y2 := make([]float32, len(x)), make([]float32, len(x))
			if err := Dequantize(y1, want, dt); err != nil {
				t.Fatal(err)
			}
			if err := DequantizeRows(y2, want, rowLen, dt); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f32Bytes(y1), f32Bytes(y2)) {
				t.Errorf("DequantizeRows(%v) differs from Dequantize", dt)
			}
		})
	}
}

// TestRowsEarliestError: with bad values in several rows, QuantizeRows
// reports the earliest.
func TestRowsEarliestError(t *testing.T) {
	const rows, rowLen = 64, 1024
	x := make([]float32, rows*rowLen)
	x[60*rowLen+3] = float32(math.NaN())
	x[10*rowLen+7] = float32(math.Inf(1))
	b := make([]byte, len(x)/32*34)
	err := QuantizeRows(b, x, rowLen, format.Q8_0)
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("QuantizeRows = %v, want ErrNonFinite", err)
	}
	if want := "value 10247 (+Inf)"; !bytes.Contains([]byte(err.Error()), []byte("value 10247 is +Inf")) {
		t.Errorf("QuantizeRows error = %q, want it to name %s", err, want)
	}
}
