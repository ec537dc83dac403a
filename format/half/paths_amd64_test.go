//go:build amd64 && !purego

package half

// archPaths lists one path per kernel set this CPU can run: AVX2 and F16C
// without AVX-512, then everything.
func archPaths() []codePath {
	var ps []codePath
	if avx := (features{f16c: have.f16c, avx2: have.avx2}); avx != (features{}) {
		ps = append(ps, pathUsing("avx2", avx))
	}
	if have.avx512bf16 {
		ps = append(ps, pathUsing("avx512", have))
	}
	return ps
}

// pathUsing runs the kernels that f allows and the Go code for the rest.
func pathUsing(name string, f features) codePath {
	return codePath{
		name: name,
		f32ToF16: func(dst []uint16, src []float32) {
			n := f32ToF16Using(f, dst[:len(src)], src)
			f32ToF16Generic(dst[n:len(src)], src[n:])
		},
		f16ToF32: func(dst []float32, src []uint16) {
			n := f16ToF32Using(f, dst[:len(src)], src)
			f16ToF32Generic(dst[n:len(src)], src[n:])
		},
		f32ToBF16: func(dst []uint16, src []float32) {
			n := f32ToBF16Using(f, dst[:len(src)], src)
			f32ToBF16Generic(dst[n:len(src)], src[n:])
		},
		bf16ToF32: func(dst []float32, src []uint16) {
			n := bf16ToF32Using(f, dst[:len(src)], src)
			bf16ToF32Generic(dst[n:len(src)], src[n:])
		},
	}
}
