package mx

import (
	"errors"
	"math"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// TestE2M1AndE8M0: the element and scale values of OCP MX v1.0 (section
// 5.3.3, FP4 E2M1: 0, 0.5 subnormal, then 2^(e-1)·(1+m/2); section 5.4.1,
// E8M0: 2^(c-127), 0xFF NaN), written out by hand.
func TestE2M1AndE8M0(t *testing.T) {
	want := []float32{0, 0.5, 1, 1.5, 2, 3, 4, 6, 0, -0.5, -1, -1.5, -2, -3, -4, -6}
	for c, w := range want {
		if g := E2M1(uint8(c)); g != w || math.Signbit(float64(g)) != (c >= 8) {
			t.Errorf("E2M1(%#x) = %v, want %v (sign %v)", c, g, w, c >= 8)
		}
	}
	for _, c := range []struct {
		code uint8
		want float64
	}{{127, 1}, {128, 2}, {126, 0.5}, {0, 0x1p-127}, {254, 0x1p127}} {
		if g := E8M0(c.code); float64(g) != c.want {
			t.Errorf("E8M0(%d) = %v, want %v", c.code, g, c.want)
		}
	}
	if g := E8M0(0xFF); !math.IsNaN(float64(g)) {
		t.Errorf("E8M0(0xFF) = %v, want NaN", g)
	}
}

// TestDecodeGGMLHandBlock: one ggml block_mxfp4 decoded by hand: e = 128
// (scale 2^1 per the spec), qs[0] = 0x31 holds element 0 (code 1: 0.5) and
// element 16 (code 3: 1.5); qs[1] = 0xF7 holds element 1 (code 7: 6) and
// element 17 (code 15: -6); all other codes 0.
func TestDecodeGGMLHandBlock(t *testing.T) {
	b := make([]byte, 17)
	b[0], b[1], b[2] = 128, 0x31, 0xF7
	got := make([]float32, 32)
	if err := DecodeGGML(got, b); err != nil {
		t.Fatal(err)
	}
	want := make([]float32, 32)
	want[0], want[16], want[1], want[17] = 1, 3, 12, -12
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("element %d = %v, want %v", i, got[i], want[i])
		}
	}
	if err := DecodeGGML(make([]float32, 31), b); !errors.Is(err, format.ErrShape) {
		t.Errorf("DecodeGGML(31 values) = %v, want ErrShape", err)
	}
	// Registered with package format.
	f := make([]float32, 32)
	if err := format.ToFloat32(f, b, format.MXFP4); err != nil || f[17] != -12 {
		t.Errorf("format.ToFloat32(MXFP4) = %v, element 17 %v", err, f[17])
	}
}

// TestDecodeHFHandBlock: the Hugging Face layout interleaves nibbles:
// scale code 126 (0.5), byte 0 = 0x31 gives element 0 = 0.5·0.5 and element
// 1 = 1.5·0.5; byte 15 = 0x9E gives element 30 = -4·0.5, element 31 =
// -0.5·0.5. A NaN scale is refused.
func TestDecodeHFHandBlock(t *testing.T) {
	blocks := make([]byte, 16)
	blocks[0], blocks[15] = 0x31, 0x9E
	got := make([]float32, 32)
	if err := DecodeHF(got, blocks, []byte{126}); err != nil {
		t.Fatal(err)
	}
	want := make([]float32, 32)
	want[0], want[1], want[30], want[31] = 0.25, 0.75, -2, -0.25
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("element %d = %v, want %v", i, got[i], want[i])
		}
	}
	if err := DecodeHF(got, blocks, []byte{0xFF}); !errors.Is(err, format.ErrFormat) {
		t.Errorf("DecodeHF(NaN scale) = %v, want ErrFormat", err)
	}
}

// TestEncodeGGML: values on the E2M1 grid of their block's scale come back
// exactly (ggml's e = floor(log2(amax)) - 2 + 127 makes amax = 6·2^k land
// on code 7 at scale 2^k), an all-zero block has e = 0, and a value
// between two grid points goes to the nearer one, the lower code on ties.
func TestEncodeGGML(t *testing.T) {
	x := make([]float32, 64)
	for i := range 32 {
		x[i] = float32(math.Ldexp(float64(E2M1(uint8(i%16))), -3)) // grid of scale 2^-3, amax 6·2^-3
	}
	x[32], x[33] = 5, 2.5 // amax 5: e = floor(log2 5) - 2 + 127 = 127, scale 1; ties go to the lower code
	b := make([]byte, 34)
	if err := EncodeGGML(b, x); err != nil {
		t.Fatal(err)
	}
	if b[0] != 124 || b[17] != 127 {
		t.Errorf("scales %d, %d, want 124 and 127", b[0], b[17])
	}
	y := make([]float32, 64)
	if err := DecodeGGML(y, b); err != nil {
		t.Fatal(err)
	}
	for i := range 32 {
		if y[i] != x[i] {
			t.Errorf("element %d = %v, want %v", i, y[i], x[i])
		}
	}
	if y[32] != 4 || y[33] != 2 {
		t.Errorf("5 -> %v (want 4, code 6 before 7), 2.5 -> %v (want 2, code 4 before 5)", y[32], y[33])
	}
	z := make([]byte, 17)
	if err := EncodeGGML(z, make([]float32, 32)); err != nil || z[0] != 0 {
		t.Errorf("all-zero block: e = %d, %v; want 0", z[0], err)
	}
}
