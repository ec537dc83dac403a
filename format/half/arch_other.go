//go:build !amd64 || purego

package half

// Without an assembly path every conversion runs the portable Go code: the
// arch hooks convert nothing and leave the whole slice to it.

func f32ToF16Arch([]uint16, []float32) int  { return 0 }
func f16ToF32Arch([]float32, []uint16) int  { return 0 }
func f32ToBF16Arch([]uint16, []float32) int { return 0 }
func bf16ToF32Arch([]float32, []uint16) int { return 0 }
