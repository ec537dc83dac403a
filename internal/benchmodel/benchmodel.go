// Package benchmodel builds the GPT-2-small-shaped models and adapters the
// merge and verify benchmarks stream (~499 MB in F32), and reads the peak
// resident set size they report.
package benchmodel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// Dir is tmpfs when there is one, else a temp dir of b.
func Dir(b *testing.B) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "lorakit-bench-*")
		if err == nil {
			b.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return b.TempDir()
}

// GGUF lists a GPT-2-small-shaped GGUF's tensors, matrices in dt (~499 MB
// in F32).
func GGUF(dt format.DType) []format.TensorInfo {
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

// HF is the same model under Hugging Face names, Conv1D weights stored
// (in, out).
func HF() []format.TensorInfo {
	var out []format.TensorInfo
	for _, t := range GGUF(format.F32) {
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

// Fill writes pseudo-random small values (encoded to each tensor's dtype)
// into sink, tensor by tensor, and closes it.
func Fill(b *testing.B, sink format.Sink, infos []format.TensorInfo) {
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

// QKVAdapter is a rank-8 adapter on attn_qkv of all 12 layers (PEFT names
// of the Conv1D c_attn when hf).
func QKVAdapter(hf bool) *lora.Adapter {
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

// ResetPeak resets the process's peak RSS (VmHWM), where the kernel allows.
func ResetPeak() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// PeakKiB reads the process's peak resident set size in KiB (0 if unknown).
func PeakKiB() int64 {
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

// DataSize is the size of all tensor data of infos.
func DataSize(infos []format.TensorInfo) int64 {
	var n int64
	for _, t := range infos {
		s, _ := t.NumBytes()
		n += s
	}
	return n
}
