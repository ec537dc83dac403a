package half

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzConvert feeds arbitrary bit patterns, of any length (so that kernel
// blocks and tails mix), through every code path and checks them against
// the references: x448 for F16, bf16Ref for BF16, and exact round trips.
func FuzzConvert(f *testing.F) {
	edge := []uint32{0, 0x80000000, 0x3f800000, 0x477ff000, 0x7f800000, 0xff800001,
		0x7fa00000, 0x00018000, 0x33000000, 0x387fe000, 0x3f808000, 0x43e80000}
	seed := make([]byte, 4*len(edge))
	for i, u := range edge {
		binary.LittleEndian.PutUint32(seed[4*i:], u)
	}
	f.Add(seed)
	f.Add(append(append(append([]byte{}, seed...), seed...), seed[:7]...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		bits := make([]uint32, len(data)/4)
		for i := range bits {
			bits[i] = binary.LittleEndian.Uint32(data[4*i:])
		}
		src := f32sOf(bits)
		halves := make([]uint16, len(data)/2)
		for i := range halves {
			halves[i] = binary.LittleEndian.Uint16(data[2*i:])
		}
		u16 := make([]uint16, len(src))
		f32 := make([]float32, len(halves))
		for _, p := range allPaths() {
			p.f32ToF16(u16, src)
			for i, u := range bits {
				if want := x448F16(u); u16[i] != want {
					t.Fatalf("%s f32ToF16(%#08x) = %#04x, want %#04x", p.name, u, u16[i], want)
				}
			}
			p.f32ToBF16(u16, src)
			for i, u := range bits {
				if want := bf16Ref(u); u16[i] != want {
					t.Fatalf("%s f32ToBF16(%#08x) = %#04x, want %#04x", p.name, u, u16[i], want)
				}
			}
			p.f16ToF32(f32, halves)
			for i, h := range halves {
				if got, want := math.Float32bits(f32[i]), x448F32(h); got != want {
					t.Fatalf("%s f16ToF32(%#04x) = %#08x, want %#08x", p.name, h, got, want)
				}
			}
			p.bf16ToF32(f32, halves)
			for i, h := range halves {
				if got, want := math.Float32bits(f32[i]), uint32(h)<<16; got != want {
					t.Fatalf("%s bf16ToF32(%#04x) = %#08x, want %#08x", p.name, h, got, want)
				}
			}
		}
		u8 := make([]uint8, len(data))
		for _, ff := range f8Formats {
			dec := make([]float32, len(data))
			ff.decodeS(dec, data)
			ff.encodeS(u8, dec)
			for i, b := range data {
				if math.IsNaN(float64(dec[i])) {
					if u8[i] != ff.nan|b&0x80 {
						t.Fatalf("%s encode(decode(%#02x)) = %#02x, want NaN %#02x", ff.name, b, u8[i], ff.nan|b&0x80)
					}
				} else if u8[i] != b {
					t.Fatalf("%s encode(decode(%#02x)) = %#02x, want %#02x", ff.name, b, u8[i], b)
				}
			}
		}
	})
}
