package merge

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/lora"
)

// benchDir is tmpfs when there is one (the setting), else a temp dir.
func benchDir(b *testing.B) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "lorakit-bench-*")
		if err == nil {
			b.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return b.TempDir()
}

// gpt2SmallGGUF lists a GPT-2-small-shaped GGUF's tensors (~499 MB in F32).
func gpt2SmallGGUF(dt format.DType) []format.TensorInfo {
	var infos []format.TensorInfo
	add := func(name string, dt format.DType, shape ...int64) {
		infos = append(infos, format.TensorInfo{Name: name, DType: dt, Shape: shape})
	}
	add("token_embd.weight", dt, 50257, 768)
	add("position_embd.weight", format.F32, 1024, 768)
	for l := range 12 {
		p := fmt.Sprintf("blk.%d.", l)
		add(p+"attn_norm.weight", format.F32, 768)
		add(p+"attn_norm.bias", format.F32, 768)
		add(p+"attn_qkv.weight", dt, 2304, 768)
		add(p+"attn_qkv.bias", format.F32, 2304)
		add(p+"attn_output.weight", dt, 768, 768)
		add(p+"attn_output.bias", format.F32, 768)
		add(p+"ffn_norm.weight", format.F32, 768)
		add(p+"ffn_norm.bias", format.F32, 768)
		add(p+"ffn_up.weight", dt, 3072, 768)
		add(p+"ffn_up.bias", format.F32, 3072)
		add(p+"ffn_down.weight", dt, 768, 3072)
		add(p+"ffn_down.bias", format.F32, 768)
	}
	add("output_norm.weight", format.F32, 768)
	add("output_norm.bias", format.F32, 768)
	return infos
}

// gpt2SmallHF is the same model under Hugging Face names, Conv1D weights
// stored (in, out).
func gpt2SmallHF() []format.TensorInfo {
	var out []format.TensorInfo
	for _, t := range gpt2SmallGGUF(format.F32) {
		name := t.Name
		for _, r := range [][2]string{{"token_embd", "wte"}, {"position_embd", "wpe"}, {"blk.", "h."}, {"attn_norm", "ln_1"}, {"attn_qkv", "attn.c_attn"},
			{"attn_output", "attn.c_proj"}, {"ffn_norm", "ln_2"}, {"ffn_up", "mlp.c_fc"}, {"ffn_down", "mlp.c_proj"}, {"output_norm", "ln_f"}} {
			name = strings.Replace(name, r[0], r[1], 1)
		}
		shape := t.Shape
		if len(shape) == 2 && strings.HasPrefix(name, "h.") {
			shape = []int64{shape[1], shape[0]}
		}
		out = append(out, format.TensorInfo{Name: "transformer." + name, DType: t.DType, Shape: shape})
	}
	return out
}

// fillSink writes pseudo-random small values (encoded to each tensor's
// dtype) into sink, tensor by tensor.
func fillSink(b *testing.B, sink format.Sink, infos []format.TensorInfo) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, t := range infos {
		n, _ := t.NumElements()
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(int32(rng.Uint32())) * (0.05 / math.MaxInt32)
		}
		size, _ := t.NumBytes()
		buf := make([]byte, size)
		if err := format.FromFloat32(buf, v, t.DType); err != nil {
			b.Fatal(err)
		}
		if err := sink.WriteTensor(t.Name, buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		b.Fatal(err)
	}
}

// qkvAdapter is a rank-8 adapter on attn_qkv of all 12 layers.
func qkvAdapter(hf bool) *lora.Adapter {
	a := &lora.Adapter{Kind: lora.KindGGUF, Arch: "gpt2", DType: format.F32}
	rng := rand.New(rand.NewPCG(3, 4))
	for l := range 12 {
		m := &lora.Module{Name: fmt.Sprintf("blk.%d.attn_qkv", l), Rank: 8, In: 768, Out: 2304, Alpha: 16,
			A: make([]float32, 8*768), B: make([]float32, 2304*8)}
		if hf {
			m.Name, m.FanInFanOut = fmt.Sprintf("transformer.h.%d.attn.c_attn", l), true
		}
		for i := range m.A {
			m.A[i] = float32(0.1 * rng.NormFloat64())
		}
		for i := range m.B {
			m.B[i] = float32(0.05 * rng.NormFloat64())
		}
		a.Modules = append(a.Modules, m)
	}
	if hf {
		a.Kind = lora.KindPEFT
	}
	return a
}

// benchMerge merges the adapter into base b.N times, reporting MB/s (of the
// base's tensor data) and the peak RSS of the merges (VmHWM, reset first).
func benchMerge(b *testing.B, basePath string, dataBytes int64, a *lora.Adapter, out string) {
	runtime.GC()
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM
	b.SetBytes(dataBytes)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := Merge(context.Background(), basePath, []Input{{Path: "bench-adapter", Adapter: a, Scale: 1}}, out, Options{Force: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if kb := vmHWM(); kb > 0 {
		b.ReportMetric(float64(kb)/1024, "peak-MiB")
	}
}

// vmHWM reads the process's peak resident set size in KiB.
func vmHWM() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func dataSize(infos []format.TensorInfo) int64 {
	var n int64
	for _, t := range infos {
		s, _ := t.NumBytes()
		n += s
	}
	return n
}

func benchGGUF(b *testing.B, dt format.DType) {
	dir := benchDir(b)
	base := filepath.Join(dir, "base.gguf")
	infos := gpt2SmallGGUF(dt)
	sink, err := format.Create("gguf", base, infos, format.Metadata{{Key: "general.architecture", Value: "gpt2"}}, format.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	fillSink(b, sink, infos)
	benchMerge(b, base, dataSize(infos), qkvAdapter(false), filepath.Join(dir, "out.gguf"))
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
	dir := benchDir(b)
	base := filepath.Join(dir, "base")
	infos := gpt2SmallHF()
	sink, err := safetensors.CreateSharded(base, infos, format.Metadata{{Key: "format", Value: "pt"}}, 130<<20, format.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	fillSink(b, sink, infos)
	if err := os.WriteFile(filepath.Join(base, "config.json"), []byte(`{"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "n_positions": 1024}`), 0o644); err != nil {
		b.Fatal(err)
	}
	benchMerge(b, base, dataSize(infos), qkvAdapter(true), filepath.Join(dir, "out"))
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
