package gemm

import "testing"

// BenchmarkPack measures packing one (96,512) block of A in each layout;
// the bytes are those written.
func BenchmarkPack(b *testing.B) {
	const mc, kc = 96, 512
	src := make([]float32, mc*kc)
	dst := make([]float32, mc*kc)
	for _, trans := range []bool{false, true} {
		name := "interleave"
		ld := kc
		if trans {
			name, ld = "copy", mc
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(4 * mc * kc)
			for b.Loop() {
				packA(dst, operand{src, ld, trans}, 0, mc, 0, kc, 12)
			}
		})
	}
}
