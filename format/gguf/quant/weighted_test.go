package quant

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// TestQuantizeRowsWeightedNil checks that a nil imatrix gives QuantizeRows's
// bytes for every type QuantizeRows knows, and that both refuse the types
// ggml only makes with importance weights.
func TestQuantizeRowsWeightedNil(t *testing.T) {
	x := benchValues[:4*256]
	for dt, c := range codecs {
		want := make([]byte, len(x)/dt.BlockSize()*dt.BlockBytes())
		got := make([]byte, len(want))
		if c.needsWeights {
			for _, err := range []error{QuantizeRows(want, x, 256, dt), QuantizeRowsWeighted(got, x, 256, dt, nil), Quantize(got, x, dt)} {
				if !errors.Is(err, format.ErrUnsupported) {
					t.Errorf("%v without importance: got %v, want ErrUnsupported", dt, err)
				}
			}
			continue
		}
		if err := QuantizeRows(want, x, 256, dt); err != nil {
			t.Fatal(err)
		}
		if err := QuantizeRowsWeighted(got, x, 256, dt, nil); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%v: nil imatrix differs from QuantizeRows", dt)
		}
	}
}

func TestQuantizeRowsWeightedErrors(t *testing.T) {
	x := benchValues[:512]
	ones := make([]float32, 256)
	for i := range ones {
		ones[i] = 1
	}
	bad := func(i int, v float32) []float32 {
		w := append([]float32(nil), ones...)
		w[i] = v
		return w
	}
	nan := append([]float32(nil), x...)
	nan[300] = float32(math.NaN())
	dst := make([]byte, 2*format.Q4_K.BlockBytes())
	for _, tc := range []struct {
		name string
		dt   format.DType
		src  []float32
		qw   []float32
		want error
	}{
		{"unsupported", format.MXFP4, x, ones, format.ErrUnsupported},
		{"short imatrix", format.Q4_K, x, ones[:255], format.ErrShape},
		{"negative importance", format.Q4_K, x, bad(3, -1), format.ErrFormat},
		{"NaN importance", format.Q4_K, x, bad(3, float32(math.NaN())), format.ErrFormat},
		{"Inf importance", format.Q4_K, x, bad(3, float32(math.Inf(1))), format.ErrFormat},
		{"NaN value", format.Q4_K, nan, ones, ErrNonFinite},
		{"bad row length", format.Q4_K, x, ones, format.ErrShape},
	} {
		rowLen := 256
		if tc.name == "bad row length" {
			rowLen = 100
		}
		err := QuantizeRowsWeighted(dst, tc.src, rowLen, tc.dt, tc.qw)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestRequiresImatrix(t *testing.T) {
	for _, tc := range []struct {
		dt   format.DType
		want bool
	}{
		{format.IQ1_S, true}, {format.IQ1_M, true}, {format.IQ2_XXS, true}, {format.IQ2_XS, true},
		{format.IQ2_S, true}, {format.IQ3_XXS, true}, {format.IQ3_S, false}, {format.IQ4_XS, false},
		{format.IQ4_NL, false}, {format.Q2_K, false}, {format.Q4_K, false}, {format.TQ1_0, false},
	} {
		if got := RequiresImatrix(tc.dt); got != tc.want {
			t.Errorf("RequiresImatrix(%v) = %v, want %v", tc.dt, got, tc.want)
		}
	}
}
