package quant

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// TestRequantizeFixtureModels: quantizing each tensor of the F32 source
// model with the type llama-quantize gave it reproduces llama-quantize's
// bytes, checked against llama-gguf-hash's per-tensor sha256 list.
func TestRequantizeFixtureModels(t *testing.T) { forEachPath(t, testRequantizeFixtureModels) }

func testRequantizeFixtureModels(t *testing.T) {
	dir := sharedDir(t, "fixtures")
	for _, stem := range []string{
		"gpt2-q8_0", "gpt2-q4_0", "gpt2-q4_1", "gpt2-q5_0", "gpt2-q5_1",
		"llama-q8_0", "llama-q2_k", "llama-q3_k_m", "llama-q4_k_m", "llama-q5_k_m", "llama-q6_k",
	} {
		t.Run(stem, func(t *testing.T) {
			src := readGGUFTensors(t, filepath.Join(dir, strings.SplitN(stem, "-", 2)[0]+"-f32.gguf"))
			quantized := readGGUFTensors(t, filepath.Join(dir, stem+".gguf"))
			want := testshared.TensorHashes(t, filepath.Join(dir, "tensor-sha256", stem+".txt"))
			checked := 0
			for name, qt := range quantized {
				dt, ok := format.FromGGMLType(int(qt.typ))
				if !ok || !dt.IsBlock() {
					continue // F32 tensors are copied, not quantized
				}
				st := src[name]
				n := int64(1)
				for _, d := range st.ne {
					n *= int64(d)
				}
				x := make([]float32, n)
				for i := range x {
					x[i] = math.Float32frombits(binary.LittleEndian.Uint32(st.data[4*i:]))
				}
				nb, err := dt.RowBytes(n)
				if err != nil {
					t.Fatal(err)
				}
				b := make([]byte, nb)
				if err := QuantizeRows(b, x, int(st.ne[0]), dt); err != nil {
					t.Fatalf("QuantizeRows(%s, %v) = %v", name, dt, err)
				}
				sum := sha256.Sum256(b)
				if got := hex.EncodeToString(sum[:]); got != want[name] {
					t.Errorf("sha256(QuantizeRows(%s, %v)) = %s, want %s", name, dt, got, want[name])
				}
				checked++
			}
			if checked == 0 {
				t.Fatalf("%s: no quantized tensors found", stem)
			}
		})
	}
}
