package merge

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/internal/benchmodel"
	"github.com/lorakit/lorakit/lora"
)

// benchMerge merges the adapter into base b.N times, reporting MB/s (of the
// base's tensor data) and the peak RSS of the merges (VmHWM, reset first).
func benchMerge(b *testing.B, basePath string, dataBytes int64, a *lora.Adapter, out string) {
	runtime.GC()
	debug.FreeOSMemory()
	benchmodel.ResetPeak()
	b.SetBytes(dataBytes)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := Merge(context.Background(), basePath, []Input{{Path: "bench-adapter", Adapter: a, Scale: 1}}, out, Options{Force: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if kb := benchmodel.PeakKiB(); kb > 0 {
		b.ReportMetric(float64(kb)/1024, "peak-MiB")
	}
}

func benchGGUF(b *testing.B, dt format.DType) {
	dir := benchmodel.Dir(b)
	base := filepath.Join(dir, "base.gguf")
	infos := benchmodel.GGUF(dt)
	sink, err := format.Create("gguf", base, infos, format.Metadata{{Key: "general.architecture", Value: "gpt2"}}, format.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	benchmodel.Fill(b, sink, infos)
	benchMerge(b, base, benchmodel.DataSize(infos), benchmodel.QKVAdapter(false), filepath.Join(dir, "out.gguf"))
}

// BenchmarkMergeGGUF_F32: ~499 MB F32 GPT-2-small GGUF + rank-8 attn_qkv
// adapter, file to file (issue 5: ≥ 800 MB/s, ≤ 198 MiB peak RSS).
func BenchmarkMergeGGUF_F32(b *testing.B) { benchGGUF(b, format.F32) }

// BenchmarkMergeGGUF_Q8_0: the same with Q8_0 matrices (dequantize, merge,
// requantize the 12 attn_qkv tensors).
func BenchmarkMergeGGUF_Q8_0(b *testing.B) { benchGGUF(b, format.Q8_0) }

// BenchmarkMergeHFSharded: the F32 model as a Hugging Face directory in
// four shards, with a PEFT-named Conv1D adapter.
func BenchmarkMergeHFSharded(b *testing.B) {
	dir := benchmodel.Dir(b)
	base := filepath.Join(dir, "base")
	infos := benchmodel.HF()
	sink, err := safetensors.CreateSharded(base, infos, format.Metadata{{Key: "format", Value: "pt"}}, 130<<20, format.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	benchmodel.Fill(b, sink, infos)
	if err := os.WriteFile(filepath.Join(base, "config.json"), []byte(`{"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "n_positions": 1024}`), 0o644); err != nil {
		b.Fatal(err)
	}
	benchMerge(b, base, benchmodel.DataSize(infos), benchmodel.QKVAdapter(true), filepath.Join(dir, "out"))
}

// BenchmarkExtract4096 is the truncated SVD of one 4096×4096 update at
// rank 16 (issue 5: under a second).
func BenchmarkExtract4096(b *testing.B) {
	const n, r = 4096, 16
	rng := rand.New(rand.NewPCG(7, 8))
	u, v := make([]float32, n*r), make([]float32, r*n)
	for i := range u {
		u[i] = float32(rng.NormFloat64())
		v[i] = float32(rng.NormFloat64())
	}
	d := make([]float32, n*n)
	addLowRank(d, n, n, u, v, r, 1)
	for i := range d {
		d[i] += float32(1e-3 * rng.NormFloat64())
	}
	b.SetBytes(4 * n * n)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		f, err := truncatedSVD(d, n, n, r, svdOptions{oversample: 10, powerIters: 2})
		if err != nil {
			b.Fatal(err)
		}
		if len(f.S) != r {
			b.Fatal("rank")
		}
	}
}
