package quant_test

import (
	"errors"
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf/quant"
)

func ExampleQuantize() {
	x := make([]float32, 32) // one Q8_0 block
	for i := range x {
		x[i] = float32(i) / 31
	}
	b := make([]byte, format.Q8_0.BlockBytes())
	if err := quant.Quantize(b, x, format.Q8_0); err != nil {
		panic(err)
	}
	fmt.Printf("d % x, first quants %d %d, last %d\n", b[:2], int8(b[2]), int8(b[3]), int8(b[33]))

	x[5] = float32(math.NaN())
	err := quant.Quantize(b, x, format.Q8_0)
	fmt.Println(errors.Is(err, quant.ErrNonFinite), errors.Is(err, format.ErrFormat))
	// Output:
	// d 08 20, first quants 0 4, last 127
	// true true
}

func ExampleDequantize() {
	// A Q4_0 block: f16 scale 1.0 (3c00), then 16 bytes of two 4-bit
	// quants each; value = (q-8)·d.
	b := append([]byte{0x00, 0x3c}, make([]byte, 16)...)
	b[2] = 0xF9 // value 0: q=9 -> 1; value 16: q=15 -> 7
	y := make([]float32, 32)
	if err := quant.Dequantize(y, b, format.Q4_0); err != nil {
		panic(err)
	}
	fmt.Println(y[0], y[1], y[16])
	// Output: 1 -8 7
}

func ExampleQuantizeRows() {
	const rows, rowLen = 4, 256
	x := make([]float32, rows*rowLen)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	nb, _ := format.Q4_K.RowBytes(rows * rowLen)
	b := make([]byte, nb)
	if err := quant.QuantizeRows(b, x, rowLen, format.Q4_K); err != nil {
		panic(err)
	}
	y := make([]float32, len(x))
	if err := quant.DequantizeRows(y, b, rowLen, format.Q4_K); err != nil {
		panic(err)
	}
	var worst float64
	for i := range x {
		worst = max(worst, math.Abs(float64(x[i]-y[i])))
	}
	fmt.Printf("%d bytes, max error %.2f\n", nb, worst)
	fmt.Println(quant.CanQuantize(format.Q4_K), quant.CanQuantize(format.IQ2_XXS))
	// Output:
	// 576 bytes, max error 0.07
	// true false
}

func ExampleQuantizeRowsWeighted() {
	// Two rows of 256 values and one importance value per column, as
	// llama-quantize derives them from an imatrix file (in_sum2/counts).
	const rowLen = 256
	x := make([]float32, 2*rowLen)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	imatrix := make([]float32, rowLen)
	for i := range imatrix {
		imatrix[i] = 1 + float32(i%7)
	}
	dt := format.IQ2_XS
	b := make([]byte, len(x)/dt.BlockSize()*dt.BlockBytes())
	if err := quant.QuantizeRowsWeighted(b, x, rowLen, dt, imatrix); err != nil {
		panic(err)
	}
	fmt.Println(len(b), "bytes;", dt, "needs an imatrix:", quant.RequiresImatrix(dt))

	err := quant.QuantizeRowsWeighted(b, x, rowLen, dt, nil)
	fmt.Println(errors.Is(err, format.ErrUnsupported))
	// Output:
	// 148 bytes; IQ2_XS needs an imatrix: true
	// true
}
