package model

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/lorakit/lorakit/tokenizer"
)

// greedy decodes n tokens greedily from prompt through a KV-cache session.
func greedy(t *testing.T, m *Model, prompt []int, n int) []int {
	t.Helper()
	s := m.NewSession()
	logits, err := s.Step(prompt)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for range n {
		id := argmax(logits)
		out = append(out, id)
		if logits, err = s.Step([]int{id}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// The greedy continuations from BOS that data/PROVENANCE.md lists, checked
// there with an independent numpy forward pass and llama2.c's documented
// output.
func TestGreedyPretrained(t *testing.T) {
	data := filepath.Join(sharedDir(t), "data", "models")
	cases := []struct {
		path string
		want []int
	}{
		{"stories260K/stories260K.bin", []int{403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433}},
		{"aidreams260K/aidreams260K.bin", []int{319, 459, 355, 260, 275, 429, 339, 315, 374, 327}},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			m := loadModel(t, filepath.Join(data, c.path), Options{})
			if got := greedy(t, m, []int{1}, len(c.want)); !slices.Equal(got, c.want) {
				t.Errorf("greedy from BOS = %v, want %v", got, c.want)
			}
		})
	}
}

// tolNLL: PROVENANCE.md states the mean NLL to three digits (0.324).
const tolNLL = 0.0005

func TestStoriesNLL(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "data", "models", "stories260K")
	v, err := tokenizer.LoadSentencePiece(filepath.Join(dir, "tok512.model"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	// The opening of the greedy story through "big, red ball." (BOS
	// first): PROVENANCE.md's figure is the mean NLL over this text.
	ids := tok.Encode("Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.")
	if ids[0] != 1 {
		ids = append([]int{1}, ids...)
	}
	m := loadModel(t, filepath.Join(dir, "stories260K.bin"), Options{})
	T := len(ids) - 1
	loss, err := m.Loss(Batch{B: 1, T: T, Tokens: ids[:T], Targets: ids[1:]})
	if err != nil {
		t.Fatal(err)
	}
	if d := abs64(float64(loss) - 0.324); d > tolNLL {
		t.Errorf("Loss(%v) = %.4f, want 0.324", ids, loss)
	}
}
