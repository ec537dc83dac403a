package verify

import (
	"math"
	"testing"

	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/gguf/quant"
)

func TestULP(t *testing.T) {
	tests := []struct {
		dt   format.DType
		x    float64
		want float64
	}{
		{format.F32, 1, 0x1p-23},
		{format.F32, 0.75, 0x1p-24},
		{format.F32, 0, 0x1p-149},
		{format.F16, 1, 0x1p-10},
		{format.F16, -3, 0x1p-9},
		{format.F16, 0, 0x1p-24},
		{format.F16, 1e-6, 0x1p-24}, // subnormal
		{format.BF16, 1, 0x1p-7},
		{format.F64, 1, 0x1p-52},
	}
	for _, tc := range tests {
		if got := ulp(tc.dt, tc.x); got != tc.want {
			t.Errorf("ulp(%v, %g) = %g, want %g", tc.dt, tc.x, got, tc.want)
		}
	}
}

func encode(t *testing.T, dt format.DType, x []float32) []byte {
	t.Helper()
	n, err := dt.RowBytes(int64(len(x)))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, n)
	if err := format.FromFloat32(b, x, dt); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCompareFloat: one F16 ulp is rounding, 0.01 is not.
func TestCompareFloat(t *testing.T) {
	x := []float32{0.5, -0.25, 0.125, 1}
	info := format.TensorInfo{Name: "w", DType: format.F16, Shape: []int64{4}}
	want := encode(t, format.F16, x)
	tests := []struct {
		name   string
		change float32
		exact  bool
		within bool
	}{
		{"same", 0, true, true},
		{"one ulp", 0x1p-11, false, true}, // 0.5's ulp
		{"0.01", 0.01, false, false},
	}
	for _, tc := range tests {
		y := append([]float32(nil), x...)
		y[0] += tc.change
		c, err := compareFloat(info, encode(t, format.F16, y), want)
		if err != nil || c.exact != tc.exact || c.within != tc.within {
			t.Errorf("%s: exact %v within %v (%v); want %v %v", tc.name, c.exact, c.within, err, tc.exact, tc.within)
		}
	}
}

// TestCompareBlocks: a Q8_0 block quantized from values a float32 ulp away
// is within requantization; one with a quant moved by a step is not.
func TestCompareBlocks(t *testing.T) {
	x := make([]float32, 64)
	for i := range x {
		x[i] = float32(math.Sin(float64(i))) * 0.1
	}
	info := format.TensorInfo{Name: "w", DType: format.Q8_0, Shape: []int64{2, 32}}
	want := encode(t, format.Q8_0, x)
	near := append([]float32(nil), x...)
	for i := range near {
		near[i] = math.Nextafter32(near[i], 1)
	}
	stepped := append([]byte(nil), want...)
	stepped[2+5]++ // block 0: its scale is 2 bytes, then one int8 per value
	tests := []struct {
		name    string
		release []byte
		within  bool
	}{
		{"requantized from neighbours", encode(t, format.Q8_0, near), true},
		{"one quant a step off", stepped, false},
	}
	for _, tc := range tests {
		c, err := compareBlocks(info, tc.release, want, x)
		if err != nil || c.within != tc.within {
			t.Errorf("%s: within %v (%v, %s), want %v", tc.name, c.within, err, c.note, tc.within)
		}
	}
}
