package half_test

import (
	"fmt"

	"github.com/lorakit/lorakit/format/half"
)

func ExampleF32ToF16() {
	src := []float32{1, -2.5, 65504, 1e6, 1.0 / 3}
	h := make([]uint16, len(src))
	half.F32ToF16(h, src)
	back := make([]float32, len(h))
	half.F16ToF32(back, h)
	for i := range src {
		fmt.Printf("%v -> %#04x -> %v\n", src[i], h[i], back[i])
	}
	// Output:
	// 1 -> 0x3c00 -> 1
	// -2.5 -> 0xc100 -> -2.5
	// 65504 -> 0x7bff -> 65504
	// 1e+06 -> 0x7c00 -> +Inf
	// 0.33333334 -> 0x3555 -> 0.33325195
}

func ExampleF32ToBF16() {
	src := []float32{1, 3.14159, -1e30}
	h := make([]uint16, len(src))
	half.F32ToBF16(h, src)
	back := make([]float32, len(h))
	half.BF16ToF32(back, h)
	for i := range src {
		fmt.Printf("%v -> %#04x -> %v\n", src[i], h[i], back[i])
	}
	// Output:
	// 1 -> 0x3f80 -> 1
	// 3.14159 -> 0x4049 -> 3.140625
	// -1e+30 -> 0xf14a -> -1.00025555e+30
}

func ExampleF32ToF8E4M3() {
	src := []float32{1, 0.3, 448, 464, 500}
	b := make([]uint8, len(src))
	half.F32ToF8E4M3(b, src)
	back := make([]float32, len(b))
	half.F8E4M3ToF32(back, b)
	for i := range src {
		fmt.Printf("%v -> %#02x -> %v\n", src[i], b[i], back[i])
	}
	// Output:
	// 1 -> 0x38 -> 1
	// 0.3 -> 0x2a -> 0.3125
	// 448 -> 0x7e -> 448
	// 464 -> 0x7e -> 448
	// 500 -> 0x7f -> NaN
}

func ExampleF32ToF8E5M2() {
	src := []float32{1, 0.3, 57344, 70000}
	b := make([]uint8, len(src))
	half.F32ToF8E5M2(b, src)
	back := make([]float32, len(b))
	half.F8E5M2ToF32(back, b)
	for i := range src {
		fmt.Printf("%v -> %#02x -> %v\n", src[i], b[i], back[i])
	}
	// Output:
	// 1 -> 0x3c -> 1
	// 0.3 -> 0x35 -> 0.3125
	// 57344 -> 0x7b -> 57344
	// 70000 -> 0x7c -> +Inf
}

func ExampleBF16() {
	fmt.Printf("%#04x %v\n", half.BF16(1.5), half.BF16Float32(0x3fc0))
	// Output: 0x3fc0 1.5
}

func ExampleF16() {
	fmt.Printf("%#04x %v\n", half.F16(0.5), half.F16Float32(0x3800))
	// Output: 0x3800 0.5
}
