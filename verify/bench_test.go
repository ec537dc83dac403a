package verify

import (
	"context"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/benchmodel"
	"github.com/lorakit/lorakit/merge"
)

// benchVerify writes a ~499 MB GPT-2-small-shaped GGUF with matrices in
// dt, merges a rank-8 attn_qkv adapter into it (the release), then
// verifies the release b.N times, reporting MB/s of the release's tensor
// data and the peak RSS of the verifications. Compare with merge's
// BenchmarkMergeGGUF_* on the same model.
func benchVerify(b *testing.B, dt format.DType) {
	dir := benchmodel.Dir(b)
	base, rel := filepath.Join(dir, "base.gguf"), filepath.Join(dir, "release.gguf")
	infos := benchmodel.GGUF(dt)
	sink, err := format.Create("gguf", base, infos, format.Metadata{{Key: "general.architecture", Value: "gpt2"}}, format.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	benchmodel.Fill(b, sink, infos)
	in := []merge.Input{{Path: "bench-adapter", Adapter: benchmodel.QKVAdapter(false), Scale: 1}}
	if _, err := merge.Merge(context.Background(), base, in, rel, merge.Options{}); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	benchmodel.ResetPeak()
	b.SetBytes(benchmodel.DataSize(infos))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rep, err := Verify(context.Background(), rel, Options{Base: base, Adapters: in})
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK {
			b.Fatalf("release does not verify: %v", rep.Offending)
		}
	}
	b.StopTimer()
	if kb := benchmodel.PeakKiB(); kb > 0 {
		b.ReportMetric(float64(kb)/1024, "peak-MiB")
	}
}

// BenchmarkVerifyGGUF_F32: verify a merge of the F32 model.
func BenchmarkVerifyGGUF_F32(b *testing.B) { benchVerify(b, format.F32) }

// BenchmarkVerifyGGUF_Q8_0: the same with Q8_0 matrices (the 12 merged
// attn_qkv tensors are requantized and compared byte for byte).
func BenchmarkVerifyGGUF_Q8_0(b *testing.B) { benchVerify(b, format.Q8_0) }
