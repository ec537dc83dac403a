package lora

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
)

func TestDetect(t *testing.T) {
	peft := writePEFTDir(t, `{"peft_type": "LORA", "r": 2}`,
		f32Tensor("base_model.model.q.lora_A.weight", []int64{2, 2}, seq(4, 1)),
		f32Tensor("base_model.model.q.lora_B.weight", []int64{2, 2}, seq(4, 1)))
	mlx := mlxDir(t, `{"lora_parameters": {"rank": 2, "scale": 1}}`)
	gguf := filepath.Join(t.TempDir(), "a.gguf")
	a := &Adapter{Arch: "llama", Modules: []*Module{{Name: "blk.0.attn_q", Rank: 2, In: 2, Out: 2, Alpha: 2, A: seq(4, 1), B: seq(4, 1)}}}
	if err := WriteGGUF(a, gguf, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "x.bin")
	os.WriteFile(other, []byte("not an adapter"), 0o644)
	noConfig := t.TempDir()

	tests := []struct {
		path string
		want Kind
		err  error
	}{
		{peft, KindPEFT, nil},
		{filepath.Join(peft, peftWeightsFile), KindPEFT, nil},
		{mlx, KindMLX, nil},
		{gguf, KindGGUF, nil},
		{other, "", format.ErrUnsupported},
		{noConfig, "", format.ErrNotFound},
		{filepath.Join(noConfig, "missing"), "", format.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			kind, _, err := Detect(tt.path)
			if kind != tt.want || !errors.Is(err, tt.err) {
				t.Fatalf("Detect(%s) = %q, %v, want %q, %v", tt.path, kind, err, tt.want, tt.err)
			}
			if err != nil {
				return
			}
			ad, err := Open(tt.path)
			if err != nil || ad.Kind != tt.want || len(ad.Modules) != 1 {
				t.Errorf("Open(%s) = %+v, %v", tt.path, ad, err)
			}
		})
	}
}
