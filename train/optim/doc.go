// Package optim holds what a training loop needs besides the model: the
// AdamW optimizer over flat float32 parameters, gradient clipping by global
// norm, gradient accumulation, and learning-rate schedules.
//
// AdamW follows torch.optim.AdamW (the single-tensor CPU path) operation by
// operation in float32, so that a run can be compared with PyTorch's:
//
//	p ← p·(1 − lr·wd)                      decoupled weight decay
//	m ← m + (1−β1)·(g − m)                 exp_avg.lerp_(grad, 1−β1)
//	v ← v·β2 + (1−β2)·g·g                  exp_avg_sq.mul_(β2).addcmul_(g, g, 1−β2)
//	p ← p − (lr/(1−β1^t))·m / (√v/√(1−β2^t) + ε)
//
// Its state (step, m, v) is written as a safetensors file and read back bit
// for bit, so a resumed run continues exactly where it stopped.
//
// Schedules match Hugging Face transformers' get_linear_schedule_with_warmup
// and get_cosine_schedule_with_warmup: the rate for optimizer step k
// (counting from 0) is base·λ(k), so the first step of a warmup runs at 0.
package optim
