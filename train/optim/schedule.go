package optim

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
)

// Schedule gives the learning rate of optimizer step k, counting from 0
// (the k-th call of PyTorch's scheduler.get_last_lr() before step k).
type Schedule func(k int) float64

// Constant returns base at every step.
func Constant(base float64) Schedule { return func(int) float64 { return base } }

// Linear is transformers' get_linear_schedule_with_warmup: the rate rises
// linearly from 0 to base over warmup steps, then falls linearly to 0 at
// step total:
//
//	λ(k) = k/max(1, warmup)                             k < warmup
//	λ(k) = max(0, (total−k) / max(1, total−warmup))      otherwise
func Linear(base float64, warmup, total int) Schedule {
	return func(k int) float64 {
		if k < warmup {
			return base * float64(k) / float64(max(1, warmup))
		}
		return base * max(0, float64(total-k)/float64(max(1, total-warmup)))
	}
}

// Cosine is transformers' get_cosine_schedule_with_warmup with half a
// cycle: the same warmup, then λ(k) = max(0, ½(1 + cos(π·p))) with
// p = (k−warmup)/max(1, total−warmup).
func Cosine(base float64, warmup, total int) Schedule {
	return func(k int) float64 {
		if k < warmup {
			return base * float64(k) / float64(max(1, warmup))
		}
		p := float64(k-warmup) / float64(max(1, total-warmup))
		return base * max(0, 0.5*(1+math.Cos(math.Pi*p)))
	}
}

// ScheduleNames lists the names NewSchedule accepts.
var ScheduleNames = []string{"linear", "cosine", "constant"}

// NewSchedule returns the named schedule ("linear", "cosine", "constant").
func NewSchedule(name string, base float64, warmup, total int) (Schedule, error) {
	if warmup < 0 || total < 0 {
		return nil, fmt.Errorf("optim: schedule warmup %d, total %d must be ≥ 0: %w", warmup, total, format.ErrInvalidOption)
	}
	switch name {
	case "linear":
		return Linear(base, warmup, total), nil
	case "cosine":
		return Cosine(base, warmup, total), nil
	case "constant":
		return Constant(base), nil
	}
	return nil, fmt.Errorf("optim: schedule %q (want one of %v): %w", name, ScheduleNames, format.ErrUnsupported)
}
