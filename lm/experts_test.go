package lm

import (
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/merge"
)

// TestOpenExpertAdapter: a llama.cpp LoRA GGUF with modules on stacked
// MoE experts (ffn_up_exps, ffn_down_exps) attaches at run time and gives
// the logits of llama-export-lora's merge of it.
func TestOpenExpertAdapter(t *testing.T) {
	fx := testshared.Path(t, "fixtures/arch")
	g := func(s string) string { return filepath.Join(fx, s+".gguf") }
	ids := []int{1, 2, 3, 4, 5}
	for _, stem := range []string{"mixtral", "qwen3moe"} {
		t.Run(stem, func(t *testing.T) {
			l, err := Open(g(stem+"-f32"), Options{Adapters: []merge.Input{{Path: g(stem + "-lora-r4"), Scale: 1}}, Model: Run})
			if err != nil {
				t.Fatal(err)
			}
			merged, err := Open(g(stem+"-merged-f32"), Options{Model: Run})
			if err != nil {
				t.Fatal(err)
			}
			got, err := l.Model.Logits(ids)
			if err != nil {
				t.Fatal(err)
			}
			want, err := merged.Model.Logits(ids)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(got, want); d > sameTolLlama {
				t.Errorf("runtime expert adapter vs llama-export-lora's merge: logits differ by %.3g > %g", d, sameTolLlama)
			}
		})
	}
}
