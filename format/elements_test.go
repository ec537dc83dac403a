package format

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/x448/float16"
)

func TestIntegerConversions(t *testing.T) {
	src := []float32{0, 1.9, -1.9, 127.5, -200, 70000, float32(math.NaN()), float32(math.Inf(1))}
	for _, c := range []struct {
		dt   DType
		want []float32
	}{
		{I8, []float32{0, 1, -1, 127, -128, 127, 0, 127}},
		{U8, []float32{0, 1, 0, 127, 0, 255, 0, 255}},
		{I16, []float32{0, 1, -1, 127, -200, 32767, 0, 32767}},
		{U16, []float32{0, 1, 0, 127, 0, 65535, 0, 65535}},
		{I32, []float32{0, 1, -1, 127, -200, 70000, 0, 2147483648}},
		{I64, []float32{0, 1, -1, 127, -200, 70000, 0, 9.223372e18}},
		{BOOL, []float32{0, 1, 1, 1, 1, 1, 1, 1}},
	} {
		t.Run(c.dt.String(), func(t *testing.T) {
			raw := make([]byte, len(src)*c.dt.BlockBytes())
			if err := FromFloat32(raw, src, c.dt); err != nil {
				t.Fatal(err)
			}
			got := make([]float32, len(src))
			if err := ToFloat32(got, raw, c.dt); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("round trip of %v = %v, want %v", src[i], got[i], c.want[i])
				}
			}
		})
	}
}

func TestFloatRoundTrip(t *testing.T) {
	src := []float32{0, -0.5, 1, 65504, 1e-8, 3.14159, -2.5e38}
	for _, dt := range []DType{F32, F64} {
		raw := make([]byte, len(src)*dt.BlockBytes())
		if err := FromFloat32(raw, src, dt); err != nil {
			t.Fatal(err)
		}
		got := make([]float32, len(src))
		if err := ToFloat32(got, raw, dt); err != nil {
			t.Fatal(err)
		}
		for i := range src {
			if got[i] != src[i] {
				t.Errorf("%v round trip of %v = %v", dt, src[i], got[i])
			}
		}
	}
}

// TestF16Unaligned checks that the unaligned (scratch-buffer) path and the
// in-place path decode every F16 pattern identically to the oracle.
func TestF16Unaligned(t *testing.T) {
	const n = 1 << 16
	buf := make([]byte, 2*n+1)
	for i := range n {
		binary.LittleEndian.PutUint16(buf[1+2*i:], uint16(i))
	}
	for name, raw := range map[string][]byte{"unaligned": buf[1:], "aligned": append([]byte(nil), buf[1:]...)} {
		got := make([]float32, n)
		if err := ToFloat32(got, raw, F16); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			want := float16.Frombits(uint16(i)).Float32()
			if math.Float32bits(got[i]) != math.Float32bits(want) {
				t.Fatalf("%s: F16 %#04x = %#08x, want %#08x", name, i, math.Float32bits(got[i]), math.Float32bits(want))
			}
		}
		back := make([]byte, 2*n+1)[1:]
		if err := FromFloat32(back, got, F16); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if v := binary.LittleEndian.Uint16(back[2*i:]); v != uint16(i) && !(isF16NaN(v) && isF16NaN(uint16(i))) {
				t.Fatalf("%s: F16 %#04x re-encoded as %#04x", name, i, v)
			}
		}
	}
}

func isF16NaN(v uint16) bool { return v&0x7c00 == 0x7c00 && v&0x3ff != 0 }

func TestConversionErrors(t *testing.T) {
	if err := ToFloat32(make([]float32, 3), make([]byte, 11), F32); !errors.Is(err, ErrShape) {
		t.Errorf("short input: %v, want ErrShape", err)
	}
	if err := ToFloat32(make([]float32, 31), make([]byte, 18), Q4_0); !errors.Is(err, ErrShape) {
		t.Errorf("partial block: %v, want ErrShape", err)
	}
	if err := ToFloat32(make([]float32, 32), make([]byte, 17), MXFP4); !errors.Is(err, ErrUnsupported) {
		t.Errorf("no codec: %v, want ErrUnsupported", err)
	}
	if err := FromFloat32(make([]byte, 4), []float32{1}, Invalid); !errors.Is(err, ErrUnsupported) {
		t.Errorf("invalid dtype: %v, want ErrUnsupported", err)
	}
}

func TestToFloat64(t *testing.T) {
	raw := make([]byte, 16)
	binary.LittleEndian.PutUint64(raw, math.Float64bits(1+1e-12))
	binary.LittleEndian.PutUint64(raw[8:], uint64(1<<60+1))
	got := make([]float64, 1)
	if err := ToFloat64(got, raw[:8], F64); err != nil || got[0] != 1+1e-12 {
		t.Errorf("ToFloat64(F64) = %v, %v: precision lost", got, err)
	}
	if err := ToFloat64(got, raw[8:], I64); err != nil || got[0] != float64(1<<60+1) {
		t.Errorf("ToFloat64(I64) = %v, %v", got, err)
	}
	// Small integers and BOOL are exact in float32, so both decoders agree.
	for _, dt := range []DType{I8, U8, I16, U16, I32, U32, I64, U64, BOOL} {
		vals := []float32{0, 1, 7, 100, -3, 65535, 1 << 20}
		b := make([]byte, len(vals)*dt.BlockBytes())
		if err := FromFloat32(b, vals, dt); err != nil {
			t.Fatal(err)
		}
		f32, f64 := make([]float32, len(vals)), make([]float64, len(vals))
		if err := ToFloat32(f32, b, dt); err != nil {
			t.Fatal(err)
		}
		if err := ToFloat64(f64, b, dt); err != nil {
			t.Fatal(err)
		}
		for i := range vals {
			if f64[i] != float64(f32[i]) {
				t.Errorf("ToFloat64(%v)[%d] = %v, want ToFloat32's %v", dt, i, f64[i], f32[i])
			}
		}
	}
	// A multi-chunk F16 tensor goes through the block-aligned loop.
	n := 3000
	f16 := make([]byte, 2*n)
	for i := range n {
		binary.LittleEndian.PutUint16(f16[2*i:], uint16(float16.Fromfloat32(float32(i))))
	}
	all := make([]float64, n)
	if err := ToFloat64(all, f16, F16); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if want := float64(float16.Fromfloat32(float32(i)).Float32()); all[i] != want {
			t.Fatalf("ToFloat64(F16)[%d] = %v, want %v", i, all[i], want)
		}
	}
}
