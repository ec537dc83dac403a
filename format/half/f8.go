package half

// F8E4M3ToF32 decodes F8_E4M3 (the "fn" variant: no infinities, NaN =
// S.1111.111). len(dst) >= len(src).
func F8E4M3ToF32(dst []float32, src []uint8) {
	panic("half: F8E4M3ToF32 not implemented yet")
}

// F32ToF8E4M3 encodes float32 as F8_E4M3. len(dst) >= len(src).
func F32ToF8E4M3(dst []uint8, src []float32) {
	panic("half: F32ToF8E4M3 not implemented yet")
}

// F8E5M2ToF32 decodes F8_E5M2. len(dst) >= len(src).
func F8E5M2ToF32(dst []float32, src []uint8) {
	panic("half: F8E5M2ToF32 not implemented yet")
}

// F32ToF8E5M2 encodes float32 as F8_E5M2. len(dst) >= len(src).
func F32ToF8E5M2(dst []uint8, src []float32) {
	panic("half: F32ToF8E5M2 not implemented yet")
}
