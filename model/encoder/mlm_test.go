package encoder

import (
	"math/rand/v2"
	"testing"
)

// TestMLMGradients: finite differences of the masked-LM loss with every
// weight trained (linears, LayerNorms, token/position/type embeddings
// shared with the decoder, the MLM head), on a BERT and a DeBERTa
// encoder, padded.
func TestMLMGradients(t *testing.T) {
	for _, c := range []struct {
		name string
		m    func() *Model
	}{
		{"bert", func() *Model {
			m, err := NewRandom(Config{Layers: 2, Hidden: 16, Heads: 2, FF: 24, Vocab: 20, Positions: 16, Types: 2, Eps: 1e-12}, 0.2, 12)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}},
		{"deberta", func() *Model { return tinyDeBERTa(t, 13) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.m()
			rng := rand.New(rand.NewPCG(6, 6))
			m.AddMLMHead(0.2, rng)
			m.TrainEverything()
			seq := Sequence{IDs: []int{2, 4, 6, 4, 9, 3, 0}, Types: []int{0, 0, 0, 1, 1, 1, 0}, Mask: []bool{true, true, true, true, true, true, false}}
			if m.typ == nil {
				seq.Types = nil
			}
			targets := []int{IgnoreLabel, 7, IgnoreLabel, 11, IgnoreLabel, IgnoreLabel, IgnoreLabel}
			checkGradientsOf(t, m, func(grad bool) float64 {
				l, err := m.MLMLoss(seq, targets, grad, 1)
				if err != nil {
					t.Fatal(err)
				}
				return l
			})
		})
	}
}
