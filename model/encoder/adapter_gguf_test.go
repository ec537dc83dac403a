package encoder

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/lora"
)

// TestAdapterGGUFRoundTrip: PEFT sequence-classification adapters (the
// real RoBERTa one for klue/roberta-base, r 8 on query/value, a 60-label
// head in modules_to_save; and the fixtures') go to a GGUF LoRA with the
// head under cls.* and come back as byte-identical PEFT files (the fixtures' configs but for
// the final newline their generator added).
func TestAdapterGGUFRoundTrip(t *testing.T) {
	for _, dir := range []string{
		testshared.Path(t, "data/adapters/roberta-seqcls-lora-r8-modules_to_save"),
		testshared.Path(t, "fixtures/encoder/adapters/roberta-seqcls-lora"),
		testshared.Path(t, "fixtures/encoder/adapters/bert-seqcls-lora"),
	} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			a, err := lora.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			g, err := AdapterToGGUF(a)
			if err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			ggufPath := filepath.Join(tmp, "adapter.gguf")
			if err := lora.WriteGGUF(g, ggufPath, lora.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			back, err := lora.Open(ggufPath)
			if err != nil {
				t.Fatal(err)
			}
			heads := 0
			for _, s := range back.Saved {
				if s.Name[:4] == "cls." {
					heads++
				}
			}
			if heads != len(a.Saved) {
				t.Errorf("GGUF holds %d head tensors under cls.*, the adapter %d", heads, len(a.Saved))
			}
			p, err := AdapterFromGGUF(back, "")
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(tmp, "peft")
			if err := lora.WritePEFT(p, out, lora.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"adapter_model.safetensors", "adapter_config.json"} {
				want, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(filepath.Join(out, f))
				if err != nil {
					t.Fatal(err)
				}
				// PEFT writes no final newline; the fixtures' generator did
				want = bytes.TrimSuffix(want, []byte("\n"))
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs after PEFT -> GGUF -> PEFT (%d bytes, original %d)", f, len(got), len(want))
				}
			}
		})
	}
}
