package check

import (
	"context"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/merge"
)

// TestCheckExpertAdapter: llama.cpp's 3-D expert adapter on the Mixtral
// fixture finds its stacked base tensors, and survival is measured over
// the whole stack (every expert's rows), Q8_0 keeping nearly all of it.
func TestCheckExpertAdapter(t *testing.T) {
	rep, err := Check(context.Background(), testshared.Path(t, "fixtures/arch/mixtral-f32.gguf"), Options{
		Adapters: []merge.Input{{Path: testshared.Path(t, "fixtures/arch/mixtral-lora-r4.gguf"), Scale: 1}},
		Quants:   presets(t, "Q8_0"),
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := lora.Open(testshared.Path(t, "fixtures/arch/mixtral-lora-r4.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, m := range a.Modules {
		if m.Experts > 0 {
			want++
		}
	}
	n := 0
	for _, m := range rep.Adapters[0].Modules {
		if !strings.HasSuffix(m.Name, "_exps") {
			continue
		}
		n++
		if m.Problem != "" || m.Target != m.Name+".weight" {
			t.Errorf("%s: target %q, problem %q", m.Name, m.Target, m.Problem)
		}
		if s := m.Survival["Q8_0"]; s.Cosine < 0.99 {
			t.Errorf("%s: Q8_0 survival %.3f, want > 0.99", m.Name, s.Cosine)
		}
	}
	if n == 0 || n != want {
		t.Errorf("%d expert modules reported, want %d", n, want)
	}
}
