package quant

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// imatrixFixtureTypes are the types of ../shared/fixtures/imatrix's
// llama-quantize outputs (qdev-llama-imat-<type>.gguf, made with --imatrix).
var imatrixFixtureTypes = []string{
	"iq1_s", "iq1_m", "iq2_xxs", "iq2_xs", "iq2_s", "iq2_m", "iq3_xxs", "iq3_xs", "iq3_s", "iq3_m",
	"iq4_xs", "iq4_nl", "q4_k_m", "q2_k", "q3_k_s", "tq1_0", "tq2_0",
}

// importanceFromFixture reads an imatrix GGUF as llama-quantize's
// load_imatrix does: per weight, in_sum2[i]/counts (1 where counts is 0).
func importanceFromFixture(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	tensors := readGGUFTensors(t, path)
	for name, sums := range tensors {
		w, ok := cutSuffix(name, ".in_sum2")
		if !ok {
			continue
		}
		counts, ok := tensors[w+".counts"]
		if !ok || sums.typ != 0 || counts.typ != 0 || len(sums.ne) < 1 {
			t.Fatalf("%s: %s: no F32 counts beside F32 in_sum2", path, w)
		}
		ne0, ne1 := int(sums.ne[0]), 1
		if len(sums.ne) > 1 {
			ne1 = int(sums.ne[1])
		}
		e := make([]float32, ne0*ne1)
		for j := range ne1 {
			c := math.Float32frombits(binary.LittleEndian.Uint32(counts.data[4*j:]))
			for i := range ne0 {
				e[j*ne0+i] = 1
				if c > 0 {
					e[j*ne0+i] = math.Float32frombits(binary.LittleEndian.Uint32(sums.data[4*(j*ne0+i):])) / c
				}
			}
		}
		out[w] = e
	}
	return out
}

// cutSuffix is strings.CutSuffix.
func cutSuffix(s, suffix string) (string, bool) {
	if len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// TestQuantizeWeightedMatchesLlamaQuantize quantizes every tensor of the
// F32 model that llama-quantize quantized in each --imatrix output, to the
// type it chose, with the importance llama-quantize derives from the same
// imatrix file (none for tensors the imatrix lacks), and compares bytes.
func TestQuantizeWeightedMatchesLlamaQuantize(t *testing.T) {
	dir := sharedDir(t, "fixtures/imatrix")
	src := readGGUFTensors(t, filepath.Join(dir, "qdev-llama-f32.gguf"))
	imatrix := importanceFromFixture(t, filepath.Join(dir, "qdev-llama.imatrix.gguf"))
	compared := map[string]int{}
	for _, typ := range imatrixFixtureTypes {
		t.Run(typ, func(t *testing.T) {
			ref := readGGUFTensors(t, filepath.Join(dir, "qdev-llama-imat-"+typ+".gguf"))
			for name, rt := range ref {
				dt, ok := format.FromGGMLType(int(rt.typ))
				if !ok {
					t.Fatalf("%s: unknown ggml type %d", name, rt.typ)
				}
				if dt == format.F32 {
					continue
				}
				st := src[name]
				rowLen := int(st.ne[0])
				n := rowLen
				for _, d := range st.ne[1:] {
					n *= int(d)
				}
				x := make([]float32, n)
				for i := range x {
					x[i] = math.Float32frombits(binary.LittleEndian.Uint32(st.data[4*i:]))
				}
				got := make([]byte, n/dt.BlockSize()*dt.BlockBytes())
				if err := QuantizeRowsWeighted(got, x, rowLen, dt, imatrix[name]); err != nil {
					t.Fatalf("%s (%v): %v", name, dt, err)
				}
				if want := rt.data[:len(got)]; !bytes.Equal(got, want) {
					t.Errorf("%s (%v, imatrix %v): %s", name, dt, imatrix[name] != nil, firstDiff(got, want, dt.BlockBytes()))
				}
				compared[fmt.Sprintf("%v/imatrix=%v", dt, imatrix[name] != nil)]++
			}
		})
	}
	if len(compared) == 0 {
		t.Fatal("no tensor compared")
	}
	t.Logf("tensors compared per type: %v", compared)
}
