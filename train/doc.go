// Package train fine-tunes a model.Model: LoRA adapters on chosen
// projections (the paper's q,v by default) or, for comparison, every
// weight. It holds the training loop and everything around it that a
// PEFT or loralib user expects:
//
//   - AdamW with decoupled weight decay (package optim), linear warmup then
//     linear or cosine decay, clipping by global norm, gradient
//     accumulation, LoRA dropout, label smoothing and a loss on completion
//     tokens only;
//   - batches of similar lengths, padded and masked, in an order drawn from
//     the seed: the same seed gives the same loss curve, bit for bit;
//   - checkpoints every N steps (adapter, optimizer state, data position,
//     dropout generators, loss history) from which Resume continues
//     bit-identically and at once (nothing is replayed), also after a
//     cancelled context (Ctrl-C), which saves one before returning;
//   - held-out loss every N steps, a JSONL log and a loss-curve PNG;
//   - Evaluate: decode each distinct prompt (greedy or loralib's beam
//     search) and score the outputs against all their references with the
//     E2E challenge's metrics (package metrics);
//   - DemoConfig: the recipe package demo (the whole life of an adapter on
//     the embedded stories260K and an embedded slice of the E2E data) trains
//     with.
//
// A run lives in one output directory:
//
//	train.jsonl          one JSON object per step and per evaluation
//	loss.png             training and held-out loss against the step
//	checkpoint/          the latest checkpoint (replaced atomically)
//	adapter/             the final adapter as a PEFT directory
//	adapter.gguf         the final adapter as a llama.cpp LoRA GGUF
//	model.gguf           full fine-tuning instead: every weight (WriteModel)
//
// Sequences longer than Config.Seq are truncated to their first Seq tokens
// (Prepare reports how many); a sequence left with no completion token to
// learn from is an error.
package train
