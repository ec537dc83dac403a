package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// benchValues is 1 Mi float32 values drawn like real weights (0.02·N(0,1)).
var benchValues = func() []float32 {
	r := rand.New(rand.NewPCG(42, 42))
	x := make([]float32, 1<<20)
	for i := range x {
		x[i] = float32(0.02 * r.NormFloat64())
	}
	return x
}()

// Throughput is in bytes of float32 input (or output, for dequantization).
func BenchmarkQuantize(b *testing.B) {
	for _, eb := range bounds {
		dt := eb.dt
		x := benchValues
		if dt.BlockSize() == 256 {
			x = x[:1<<17] // the K-quant searches are slow: keep iterations short
		}
		dst := make([]byte, len(x)/dt.BlockSize()*dt.BlockBytes())
		b.Run(dt.String(), func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Quantize(dst, x, dt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDequantize(b *testing.B) {
	for _, eb := range bounds {
		dt := eb.dt
		x := benchValues
		src := make([]byte, len(x)/dt.BlockSize()*dt.BlockBytes())
		if err := Quantize(src, x, dt); err != nil {
			b.Fatal(err)
		}
		out := make([]float32, len(x))
		b.Run(dt.String(), func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Dequantize(out, src, dt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkQuantizeRows is the parallel path on GOMAXPROCS cores for the
// types of llama-quantize's common presets (rows of 768, GPT-2 small).
func BenchmarkQuantizeRows(b *testing.B) {
	for _, dt := range []format.DType{format.Q8_0, format.Q4_0, format.Q4_K, format.Q6_K} {
		x := benchValues[:768*1024]
		if dt.BlockSize() == 256 {
			x = x[:768*128]
		}
		dst := make([]byte, len(x)/dt.BlockSize()*dt.BlockBytes())
		b.Run(dt.String(), func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			b.ReportAllocs()
			for b.Loop() {
				if err := QuantizeRows(dst, x, 768, dt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// weightedBenchTypes are the types BenchmarkQuantizeWeighted measures.
var weightedBenchTypes = []format.DType{
	format.Q4_0, format.Q4_1, format.Q5_0, format.Q5_1, format.Q2_K, format.Q3_K, format.Q4_K, format.Q5_K, format.Q6_K,
	format.IQ4_NL, format.IQ4_XS, format.TQ1_0, format.TQ2_0, format.IQ3_XXS, format.IQ3_S,
	format.IQ2_XXS, format.IQ2_XS, format.IQ2_S, format.IQ1_S, format.IQ1_M,
}

// BenchmarkQuantizeWeighted is QuantizeRowsWeighted on one core (rows of
// 4096 of benchValues, an importance matrix of exp(N(0,1)) values), in
// bytes of float32 input.
func BenchmarkQuantizeWeighted(b *testing.B) {
	const rowLen = 4096
	r := rand.New(rand.NewPCG(3, 4))
	qw := make([]float32, rowLen)
	for i := range qw {
		qw[i] = float32(math.Exp(r.NormFloat64()))
	}
	x := benchValues[:16*rowLen]
	for _, dt := range weightedBenchTypes {
		dst := make([]byte, len(x)/dt.BlockSize()*dt.BlockBytes())
		b.Run(dt.String(), func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			if err := QuantizeRowsWeighted(dst, x, rowLen, dt, qw); err != nil { // builds the grids, untimed
				b.Fatal(err)
			}
			for b.Loop() {
				if err := QuantizeRowsWeighted(dst, x, rowLen, dt, qw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
