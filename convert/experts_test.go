package convert

import (
	"errors"
	"fmt"
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
	var E int64
	data := map[string][]byte{}
	for _, ti := range st.Tensors() {
		raw, _ := st.TensorData(ti.Name)
		if ti.Name == "model.layers.0.block_sparse_moe.gate.weight" { // (E, H) -> (E-1, H)
			E = ti.Shape[0]
			ti.Shape = []int64{E - 1, ti.Shape[1]}
			raw = raw[:(E-1)*ti.Shape[1]*4]
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
		{"config says fewer experts", copyHFDir(t, src, map[string]any{"num_local_experts": E - 1}), format.ErrShape, fmt.Sprintf("config.json says %d experts", E-1)},
		{"config says more experts", copyHFDir(t, src, map[string]any{"num_local_experts": E + 1}), format.ErrShape, fmt.Sprintf("%d experts", E+1)},
		{"router of the wrong shape", router, format.ErrShape, "model.layers.0.block_sparse_moe.gate.weight"},
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
