//go:build amd64 && !purego

package quant

import "github.com/lorakit/lorakit/internal/cpu"

// q8_0BlocksAVX2 quantizes up to n blocks of 32 values of src into dst (34
// bytes each) as quantizeQ8_0Go does, stopping before the first block the
// scalar code must handle; it returns the number of blocks done. Needs
// AVX2 and F16C.
//
//go:noescape
func q8_0BlocksAVX2(dst *byte, src *float32, n int) int

// q8_0Fast is the vector Q8_0 kernel, or nil on CPUs without it.
var q8_0Fast = func() func(dst []byte, src []float32, n int) int {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasF16C {
		return nil
	}
	return func(dst []byte, src []float32, n int) int {
		if n <= 0 {
			return 0
		}
		_ = dst[34*n-1]
		_ = src[32*n-1]
		return q8_0BlocksAVX2(&dst[0], &src[0], n)
	}
}()
