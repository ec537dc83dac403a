package model

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/lora"
)

// tolMerge: merged and runtime LoRA differ only by float32 rounding
// (llama.cpp's own two paths differ by up to 1.1e-5 on these fixtures).
const tolMerge = 2e-5

func TestMergeMatchesRuntime(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "fixtures")
	// the architecture fixtures: TestArchMergedWeights
	for _, c := range []struct{ base, adapter string }{{"gpt2-f32", "gpt2-lora-r4"}, {"llama-f32", "llama-lora-r8"}, {"gpt2-q8_0", "gpt2-lora-r4"}} {
		t.Run(c.base, func(t *testing.T) {
			m := loadModel(t, filepath.Join(dir, c.base+".gguf"), Options{KeepQuantized: true})
			a, err := lora.Open(filepath.Join(dir, c.adapter+".gguf"))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.ApplyAdapter(a, 0.5); err != nil {
				t.Fatal(err)
			}
			ids := []int{1, 2, 3, 4, 5}
			runtime, err := m.Logits(ids)
			if err != nil {
				t.Fatal(err)
			}
			m.MergeLoRA()
			if len(m.Params()) != 0 {
				t.Errorf("after MergeLoRA, Params() has %d values, want 0", len(m.Params()))
			}
			merged, err := m.Logits(ids)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(merged, runtime); d > tolMerge {
				t.Errorf("merged logits differ from runtime LoRA by %.3g, want < %g", d, tolMerge)
			}
		})
	}
}

// TestAdapterRoundTrip: Adapter() exports the per-part q/v LoRA of a fused
// attn_qkv (GPT-2, Phi-3) as one attn_qkv module whose update equals the
// parts' (zero in k's rows), and for every recipe applying the exported
// adapter to a fresh model reproduces the logits.
func TestAdapterRoundTrip(t *testing.T) {
	for _, tc := range tinyFamilies {
		t.Run(tc.name(), func(t *testing.T) {
			m, err := Load(tinySource(tc), Options{})
			if err != nil {
				t.Fatal(err)
			}
			targets := []string{"q", "v", "up", "down"}
			if tc.experts > 0 {
				targets = []string{"q", "v", "router"}
			}
			if err := m.AddLoRA(LoRAConfig{Targets: targets, Rank: 2, Alpha: 8, RSLoRA: true, Seed: 1}); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			for i := range m.Params() {
				m.Params()[i] = float32(rng.NormFloat64() * 0.3)
			}
			ids := []int{1, 2, 3, 4, 5}
			want, _ := m.Logits(ids)
			a := m.Adapter()
			if err := a.Validate(); err != nil {
				t.Fatal(err)
			}
			if m.blocks[0].qkv != nil {
				mod := a.Module("blk.0.attn_qkv")
				if mod == nil || mod.Rank != 4 {
					t.Fatalf("Adapter() module blk.0.attn_qkv = %+v, want rank 4 (q and v parts)", mod)
				}
				for r := m.Config.QDim(); r < m.Config.QDim()+m.Config.KVDim(); r++ { // k rows
					for j := range mod.Rank {
						if mod.B[r*mod.Rank+j] != 0 {
							t.Fatalf("Adapter() attn_qkv B[%d,%d] = %v, want 0 (k not adapted)", r, j, mod.B[r*mod.Rank+j])
						}
					}
				}
			}
			fresh, _ := Load(tinySource(tc), Options{})
			if err := fresh.ApplyAdapter(a, 1); err != nil {
				t.Fatal(err)
			}
			got, _ := fresh.Logits(ids)
			if d := maxAbsDiff(got, want); d > tolMerge {
				t.Errorf("logits through Adapter() differ by %.3g, want < %g", d, tolMerge)
			}
		})
	}
}

// sgdRate and sgdSteps are the plain SGD learning rate and length of the sanity run.
const (
	sgdRate  = 0.1
	sgdSteps = 300
)

// TestSGDSanity: 300 plain SGD steps on one fixed batch drive the LoRA loss
// of a tiny model of every recipe down by more than 90%.
func TestSGDSanity(t *testing.T) {
	for _, tc := range tinyFamilies {
		// Wider than the gradient-check models: with a frozen lm head, logits
		// scale with √n_embd, and n_embd 16 cannot drive the loss near zero.
		tc.embd = 48
		if tc.arch == ArchGPT2 {
			tc.hd = 24
		}
		if tc.finalCap > 0 {
			tc.finalCap = 30 // a cap of 1.5 bounds the logits, and the loss with them
		}
		t.Run(tc.name(), func(t *testing.T) {
			m, err := Load(tinySource(tc), Options{})
			if err != nil {
				t.Fatal(err)
			}
			targets := []string{"q", "v", "o", "up", "down"}
			if tc.experts > 0 {
				targets = []string{"q", "k", "v", "o"} // experts take runtime LoRA only
			}
			if err := m.AddLoRA(LoRAConfig{Targets: targets, Rank: 4, Alpha: 8, Seed: 1}); err != nil {
				t.Fatal(err)
			}
			// a language-modelling batch: each position predicts the next token
			b := tinyBatch(tc.vocab, 4, 8, 9)
			b.Mask = nil
			for i := range b.Targets {
				if (i+1)%b.T != 0 {
					b.Targets[i] = b.Tokens[i+1]
				}
			}
			var first, last float32
			for step := range sgdSteps {
				loss := trainStep(t, m, b)
				for i, g := range m.Grads() {
					m.Params()[i] -= sgdRate * g
				}
				if step == 0 {
					first = loss
				}
				last = loss
			}
			if last > 0.1*first {
				t.Errorf("loss after %d SGD steps = %.4f, first %.4f: want a drop of more than 90%%", sgdSteps, last, first)
			}
		})
	}
}

// TestDropoutOnlyInForward: dropout changes Forward's loss but not Loss.
func TestDropoutOnlyInForward(t *testing.T) {
	m, _ := Load(tinySource(tinyGPT2), Options{})
	if err := m.AddLoRA(LoRAConfig{Targets: []string{"q", "v"}, Rank: 2, Alpha: 2, Dropout: 0.5, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range m.Params() {
		m.Params()[i] = 0.5
	}
	b := tinyBatch(tinyGPT2.vocab, 1, 6, 1)
	l1, _ := m.Loss(b)
	l2, _ := m.Loss(b)
	f, _ := m.Forward(b)
	if l1 != l2 || f == l1 {
		t.Errorf("Loss = %v, %v; Forward with dropout = %v: want equal Loss values and a different Forward", l1, l2, f)
	}
}
