package glue

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/model/encoder"
)

// TestMaskTokens: special tokens are never predicted, every sequence
// predicts at least one token, targets are the original ids, and the
// share of ordinary tokens picked is the one 15% plus the forced pick give.
func TestMaskTokens(t *testing.T) {
	cfg := DefaultPretrainConfig(4, 5)
	rng := rand.New(rand.NewPCG(1, 1))
	picked, ordinary := 0, 0
	for n := range 2000 {
		ids := []int{2}
		for range 1 + n%12 {
			ids = append(ids, 5+rng.IntN(50))
		}
		ids = append(ids, 3)
		in, tg := MaskTokens(encoder.Sequence{IDs: ids}, 60, cfg, rng)
		got := 0
		for i, target := range tg {
			if target == encoder.IgnoreLabel {
				if in.IDs[i] != ids[i] {
					t.Fatalf("token %d changed without a target", i)
				}
				continue
			}
			if ids[i] < 5 || target != ids[i] {
				t.Fatalf("target %d at token %d (id %d)", target, i, ids[i])
			}
			got++
		}
		if got == 0 {
			t.Fatal("a sequence without a target")
		}
		picked += got
		ordinary += len(ids) - 2
	}
	// expected: a sequence of L ordinary tokens predicts 0.15·L + 0.85^L
	// (one forced when none was drawn); L runs over 1..12 evenly
	want, total := 0.0, 0.0
	for L := 1; L <= 12; L++ {
		want += 0.15*float64(L) + math.Pow(0.85, float64(L))
		total += float64(L)
	}
	want /= total                                                                  // 0.2123
	if share := float64(picked) / float64(ordinary); math.Abs(share-want) > 0.01 { // ~3σ of 13,000 draws
		t.Errorf("%.4f of ordinary tokens predicted, want %.4f", share, want)
	}
}

// TestPretrain: masked-LM pre-training of a tiny random encoder on SST-2
// sentences (labels unused) lowers the held-out masked-LM loss.
func TestPretrain(t *testing.T) {
	dir := testshared.Path(t, "data/glue")
	task, _ := LookupTask("glue/sst2")
	rows, err := task.ReadFile(dir + "/SST-2/train.tsv")
	if err != nil {
		t.Fatal(err)
	}
	const V = 256
	wv, err := NewWordVocab(rows[:3000], V, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := Framing{CLS: 2, SEP: 3, MaxLen: 32}
	var train, held []encoder.Sequence
	for i, e := range task.Examples(rows[:1800], wv, f) {
		if i < 1500 {
			train = append(train, e.Seq)
		} else {
			held = append(held, e.Seq)
		}
	}
	m, err := encoder.NewRandom(encoder.Config{Layers: 2, Hidden: 32, Heads: 2, FF: 64, Vocab: V, Positions: 32, Types: 2, Eps: 1e-12}, 0.02, 3)
	if err != nil {
		t.Fatal(err)
	}
	m.AddMLMHead(0.02, rand.New(rand.NewPCG(1, 2)))
	cfg := DefaultPretrainConfig(4, 5)
	before, err := MLMEval(m, held, cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	if err := Pretrain(m, train, cfg, nil); err != nil {
		t.Fatal(err)
	}
	after, err := MLMEval(m, held, cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held-out masked-LM loss %.4f -> %.4f (ln %d = %.4f)", before, after, V, 5.5452)
	if after >= before-0.2 { // measured 5.0138 -> 4.6304
		t.Errorf("held-out masked-LM loss %.4f -> %.4f: want a fall of at least 0.2", before, after)
	}
	m.Freeze()
	if n := len(m.Params()); n != 0 {
		t.Errorf("%d trainable tensors after Freeze, want 0", n)
	}
}
