package convert

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// TestExpertCountsDisagree: an HF Mixtral whose config.json states another
// expert count than its tensors hold, or whose router has the wrong number
// of rows, is refused with an error naming the tensor and both counts.
func TestExpertCountsDisagree(t *testing.T) {
	root := testshared.Path(t, "fixtures/hf-convert")
	src := filepath.Join(root, "hf", "mixtral")
	router := copyHFDir(t, src, nil)
	st, err := format.Open(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var infos []format.TensorInfo
	data := map[string][]byte{}
	for _, ti := range st.Tensors() {
		raw, _ := st.TensorData(ti.Name)
		if ti.Name == "model.layers.1.block_sparse_moe.gate.weight" { // (4, 64) -> (3, 64)
			ti.Shape = []int64{3, ti.Shape[1]}
			raw = raw[:3*ti.Shape[1]*4]
		}
		infos = append(infos, ti)
		data[ti.Name] = raw
	}
	writeRaw(t, filepath.Join(router, "model.safetensors"), infos, data)
	for _, c := range []struct {
		name, dir string
		want      error
		say       string
	}{
		{"config says fewer experts", copyHFDir(t, src, map[string]any{"num_local_experts": 3}), format.ErrShape, "config.json says 3 experts"},
		{"config says more experts", copyHFDir(t, src, map[string]any{"num_local_experts": 5}), format.ErrShape, "5 experts"},
		{"router of the wrong shape", router, format.ErrShape, "model.layers.1.block_sparse_moe.gate.weight"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.gguf")
			err := Model(t.Context(), c.dir, out, ModelOptions{})
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.say) {
				t.Errorf("Model = %v, want %v naming %q", err, c.want, c.say)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Error("failed conversion left an output")
			}
		})
	}
}
