package glue

import (
	"math"
	"math/rand/v2"

	"github.com/lorakit/lorakit/model/encoder"
	"github.com/lorakit/lorakit/train/optim"
)

// schedule is what Train and Pretrain share of their configurations.
type schedule struct {
	LR, WeightDecay, WarmupRatio float64
	Epochs, Batch                int
}

// fit runs the loop Train and Pretrain share: AdamW over m's trainable
// parameters, a linear schedule warming up over s.WarmupRatio of the
// steps, s.Epochs passes over n examples in batches of s.Batch shuffled by
// rng. loss(i, scale) returns example i's loss and accumulates its
// gradient times scale; onStep, when set, sees every step.
func fit(m *encoder.Model, n int, s schedule, rng *rand.Rand, loss func(i int, scale float64) (float64, error), onStep func(Step)) error {
	var params []optim.Param
	for _, p := range m.Params() {
		params = append(params, optim.Param{Name: p.Name, Data: p.Data, Grad: p.Grad})
	}
	ocfg := optim.DefaultAdamW()
	ocfg.WeightDecay = s.WeightDecay
	opt, err := optim.NewAdamW(params, ocfg)
	if err != nil {
		return err
	}
	steps := s.Epochs * ((n + s.Batch - 1) / s.Batch)
	sched := optim.Linear(s.LR, int(math.Round(s.WarmupRatio*float64(steps))), steps)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	k := 0
	for ep := range s.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for lo := 0; lo < len(order); lo += s.Batch {
			hi := min(lo+s.Batch, len(order))
			optim.ZeroGrad(params)
			sum := 0.0
			for _, i := range order[lo:hi] {
				l, err := loss(i, 1/float64(hi-lo))
				if err != nil {
					return err
				}
				sum += l
			}
			lr := sched(k)
			opt.Step(lr)
			if onStep != nil {
				onStep(Step{Step: k + 1, Epoch: ep + 1, LR: lr, Loss: sum / float64(hi-lo)})
			}
			k++
		}
	}
	return nil
}
