package convert

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// TestFusedExpertCheckpoints: the hand-written Mixtral and Qwen3-MoE
// checkpoints re-saved in transformers 5's fused layout (per layer
// mlp.experts.gate_up_proj (E, 2·I, H) with each expert's gate rows first,
// mlp.experts.down_proj (E, H, I), Mixtral's router as mlp.gate) convert
// to exactly llama.cpp's GGUF of the per-expert originals.
func TestFusedExpertCheckpoints(t *testing.T) {
	root := testshared.Path(t, "fixtures/hf-convert")
	for _, c := range []struct {
		stem           string
		expert         *regexp.Regexp // layer, expert, projection
		gate, up, down string
		router         *regexp.Regexp
	}{
		{"mixtral", regexp.MustCompile(`^model\.layers\.(\d+)\.block_sparse_moe\.experts\.(\d+)\.(w[123])\.weight$`), "w1", "w3", "w2",
			regexp.MustCompile(`^model\.layers\.(\d+)\.block_sparse_moe\.gate\.weight$`)},
		{"qwen3moe", regexp.MustCompile(`^model\.layers\.(\d+)\.mlp\.experts\.(\d+)\.(\w+_proj)\.weight$`), "gate_proj", "up_proj", "down_proj", nil},
	} {
		t.Run(c.stem, func(t *testing.T) {
			src := filepath.Join(root, "hf", c.stem)
			dir := copyHFDir(t, src, nil)
			st, err := format.Open(filepath.Join(src, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			experts := map[string]map[int][]byte{} // "L.proj" -> expert -> bytes
			shapes := map[string][]int64{}
			var infos []format.TensorInfo
			data := map[string][]byte{}
			for _, ti := range st.Tensors() {
				raw, _ := st.TensorData(ti.Name)
				if m := c.expert.FindStringSubmatch(ti.Name); m != nil {
					var e int
					fmt.Sscan(m[2], &e)
					key := m[1] + "." + m[3]
					if experts[key] == nil {
						experts[key] = map[int][]byte{}
					}
					experts[key][e], shapes[key] = raw, ti.Shape
					continue
				}
				if c.router != nil {
					if m := c.router.FindStringSubmatch(ti.Name); m != nil {
						ti.Name = "model.layers." + m[1] + ".mlp.gate.weight"
					}
				}
				infos = append(infos, ti)
				data[ti.Name] = raw
			}
			for l := 0; experts[fmt.Sprintf("%d.%s", l, c.gate)] != nil; l++ {
				g, u, d := fmt.Sprintf("%d.%s", l, c.gate), fmt.Sprintf("%d.%s", l, c.up), fmt.Sprintf("%d.%s", l, c.down)
				E := int64(len(experts[g]))
				var gu, dn []byte
				for e := range int(E) {
					gu = append(append(gu, experts[g][e]...), experts[u][e]...)
					dn = append(dn, experts[d][e]...)
				}
				p := fmt.Sprintf("model.layers.%d.mlp.experts.", l)
				infos = append(infos,
					format.TensorInfo{Name: p + "gate_up_proj", DType: format.F32, Shape: []int64{E, 2 * shapes[g][0], shapes[g][1]}},
					format.TensorInfo{Name: p + "down_proj", DType: format.F32, Shape: []int64{E, shapes[d][0], shapes[d][1]}})
				data[p+"gate_up_proj"], data[p+"down_proj"] = gu, dn
			}
			writeRaw(t, filepath.Join(dir, "model.safetensors"), infos, data)
			out := filepath.Join(t.TempDir(), "out.gguf")
			if err := Model(t.Context(), dir, out, ModelOptions{}); err != nil {
				t.Fatal(err)
			}
			sameHashes(t, "fused -> GGUF", hashes(t, out), hashes(t, filepath.Join(root, c.stem+"-f32.gguf")))
		})
	}
}

// TestFusedExpertsTransposed: a fused layout stored (E, H, 2·I), as
// gpt-oss's is_transposed experts are, is refused rather than read as
// (E, 2·I, H).
func TestFusedExpertsTransposed(t *testing.T) {
	src := fakeSource{infos: []format.TensorInfo{{Name: "model.layers.0.mlp.experts.gate_up_proj", DType: format.F32, Shape: []int64{4, 64, 96}}}}
	f, err := arch.Lookup("qwen3moe")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unfuseExperts(src, f, 64, "dir"); !errors.Is(err, format.ErrShape) || !strings.Contains(err.Error(), "gate_up_proj") {
		t.Errorf("unfuseExperts(transposed) = %v, want ErrShape naming gate_up_proj", err)
	}
}
