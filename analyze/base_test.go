package analyze

import (
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/resolve"
)

// TestStreamDecodesAsResolve: a base weight read a few rows at a time holds
// exactly the values resolve.Base.Weight decodes from the whole tensor, for
// quantized, BF16 and stacked-expert bases of llama.cpp's fixtures.
func TestStreamDecodesAsResolve(t *testing.T) {
	fx := filepath.Join(sharedDir(t), "fixtures")
	cases := []struct{ adapter, base string }{
		{"llama-lora-r8.gguf", "llama-q4_k_m.gguf"},
		{"gpt2-lora-r4.gguf", "gpt2-bf16.gguf"},
		{"arch/mixtral-lora-r4.gguf", "arch/mixtral-q8_0.gguf"},
	}
	for _, c := range cases {
		t.Run(c.base, func(t *testing.T) {
			a, err := lora.Open(filepath.Join(fx, c.adapter))
			if err != nil {
				t.Fatal(err)
			}
			rb, err := resolve.Open(filepath.Join(fx, c.base))
			if err != nil {
				t.Fatal(err)
			}
			defer rb.Close()
			base := NewBase(rb)
			mods, err := base.Modules(a, c.adapter)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range mods {
				w, err := base.Stream(m.Name)
				if err != nil {
					t.Fatal(err)
				}
				if w.Transposed() {
					t.Fatalf("%s: stored transposed, want (out, in) as llama.cpp stores it", m.Name)
				}
				out, in := w.Dims()
				got := make([]float64, out*in)
				for i := 0; i < out; i += 3 { // bands of 3 rows
					if err := w.ReadRows(got[i*in:min(out, i+3)*in], i, min(out, i+3)); err != nil {
						t.Fatal(err)
					}
				}
				tg := base.targets[m.Name]
				want, err := rb.Weight(tg.t)
				if err != nil {
					t.Fatal(err)
				}
				if tg.expert >= 0 {
					want = want[tg.expert*out*in : (tg.expert+1)*out*in]
				}
				for k, v := range got {
					if v != float64(want[k]) {
						t.Fatalf("%s: element (%d, %d) = %g streamed, %g decoded whole", m.Name, k/in, k%in, v, want[k])
					}
				}
			}
		})
	}
}
