package glue

import (
	"fmt"
	"math/rand/v2"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/model/encoder"
)

// PretrainConfig is BERT's masked-LM recipe at small scale: MaskProb of
// the ordinary tokens (at least one per sequence) are predicted; of those
// 80% are replaced by Mask, 10% by a random ordinary token (ids
// FirstWord..vocab-1), 10% kept.
type PretrainConfig struct {
	Mask, FirstWord int
	MaskProb        float64
	LR, WeightDecay float64
	Epochs, Batch   int
	WarmupRatio     float64
	Seed            uint64
}

// DefaultPretrainConfig returns the recipe for a tiny encoder.
func DefaultPretrainConfig(mask, firstWord int) PretrainConfig {
	return PretrainConfig{Mask: mask, FirstWord: firstWord, MaskProb: 0.15, LR: 1e-3, WeightDecay: 0.01,
		Epochs: 1, Batch: 32, WarmupRatio: 0.06, Seed: 1}
}

// MaskTokens draws one masked-LM example from a framed sequence: the input
// with tokens replaced and the targets (encoder.IgnoreLabel where nothing
// is predicted). Tokens below FirstWord (special tokens) are never masked.
func MaskTokens(s encoder.Sequence, vocab int, cfg PretrainConfig, rng *rand.Rand) (encoder.Sequence, []int) {
	ids := append([]int(nil), s.IDs...)
	targets := make([]int, len(ids))
	var cand []int
	for i, id := range ids {
		targets[i] = encoder.IgnoreLabel
		if id >= cfg.FirstWord {
			cand = append(cand, i)
		}
	}
	if len(cand) == 0 {
		return s, targets
	}
	picked := 0
	for _, i := range cand {
		if rng.Float64() < cfg.MaskProb {
			targets[i] = ids[i]
			picked++
		}
	}
	if picked == 0 {
		i := cand[rng.IntN(len(cand))]
		targets[i] = ids[i]
	}
	for i, t := range targets {
		if t == encoder.IgnoreLabel {
			continue
		}
		switch r := rng.Float64(); {
		case r < 0.8:
			ids[i] = cfg.Mask
		case r < 0.9:
			ids[i] = cfg.FirstWord + rng.IntN(vocab-cfg.FirstWord)
		}
	}
	out := s
	out.IDs = ids
	return out, targets
}

// MLMEval is the mean masked-LM loss over seqs with masks drawn from seed
// (the same masks for every call with the same seed).
func MLMEval(m *encoder.Model, seqs []encoder.Sequence, cfg PretrainConfig, seed uint64) (float64, error) {
	rng := rand.New(rand.NewPCG(seed, 0x6d6c6d))
	sum := 0.0
	for _, s := range seqs {
		in, tg := MaskTokens(s, m.Config.Vocab, cfg, rng)
		l, err := m.MLMLoss(in, tg, false, 1)
		if err != nil {
			return 0, err
		}
		sum += l
	}
	return sum / float64(len(seqs)), nil
}

// Pretrain trains every weight of m (which must have an MLM head) on
// seqs with the masked-LM loss, AdamW and a linear schedule; onStep sees
// each step's mean loss.
func Pretrain(m *encoder.Model, seqs []encoder.Sequence, cfg PretrainConfig, onStep func(Step)) error {
	if len(seqs) == 0 || cfg.Batch <= 0 || cfg.Epochs <= 0 || !(cfg.LR > 0) || cfg.FirstWord >= m.Config.Vocab || cfg.Mask < 0 || cfg.Mask >= m.Config.Vocab {
		return fmt.Errorf("glue: pretraining %d sequences, batch %d, %d epochs, lr %g, mask %d, words from %d of %d: %w",
			len(seqs), cfg.Batch, cfg.Epochs, cfg.LR, cfg.Mask, cfg.FirstWord, m.Config.Vocab, format.ErrInvalidOption)
	}
	m.TrainEverything()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x707274))
	s := schedule{LR: cfg.LR, WeightDecay: cfg.WeightDecay, WarmupRatio: cfg.WarmupRatio, Epochs: cfg.Epochs, Batch: cfg.Batch}
	return fit(m, len(seqs), s, rng, func(i int, scale float64) (float64, error) {
		in, tg := MaskTokens(seqs[i], m.Config.Vocab, cfg, rng)
		l, err := m.MLMLoss(in, tg, true, scale)
		if err != nil {
			return 0, fmt.Errorf("glue: pretraining sequence %d: %w", i, err)
		}
		return l, nil
	}, onStep)
}
