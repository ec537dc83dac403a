package quant

import (
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
