// Package check is the pre-flight report before merging or converting
// adapters: whether each adapter's modules find their base tensors (through
// package resolve) with the right shapes, which base weights no adapter
// touches, each module's rank, alpha and effective scale (rsLoRA and
// rank/alpha patterns resolved, the user's scale multiplied in), DoRA,
// modules_to_save, LoRA on embeddings or the output head of a base that
// ties them, the tokenizer's size against the embedding's rows,
// initialisations that assume a modified base (PiSSA, OLoRA, CorDA, LoftQ),
// and how much of each update survives quantization:
//
//	survival = ‖Q(W+ΔW) − Q(W)‖_F / ‖ΔW‖_F
//
// for the type llama-quantize gives the tensor under a preset (the base's
// own, or one chosen): 1 keeps the whole update, 0 rounds it away.
// Blockers make the report fail; warnings do not.
package check
