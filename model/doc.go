// Package model is lorakit's CPU transformer, forward and backward, with
// LoRA layers, in the explicit style of karpathy/llm.c — each layer's
// forward and backward side by side in one file per concept
// (embedding.go, layernorm.go, rmsnorm.go, rope.go, attention.go, gelu.go,
// glu.go, linear.go, classifier.go), one float32 parameter buffer,
// activation buffers per batch shape, no general autograd. Products go
// through package gemm; attention runs in parallel over (sequence, head).
//
// Families. A model is assembled from its architecture's recipe (package
// arch, by GGUF general.architecture), block.go putting the pieces
// together: GPT-2; Llama (Llama 1-3, Mistral; Llama 3.1's rope_freqs
// factors); Qwen2 (q/k/v biases, NEOX RoPE); Qwen3 (per-head q/k
// RMSNorm, explicit head dim); Gemma 2 (post-attention and post-FFN norms,
// attention and final soft-caps, sliding window on alternate layers,
// GeGLU, embeddings ×√n_embd); Gemma 3 (q/k norm, window pattern, local and
// global RoPE bases); Phi-3 (fused attn_qkv and gate|up ffn_up); mixtures
// of experts (Mixtral on llama, Qwen3-MoE: softmax top-k routing with
// renormalised weights, moe.go). They compute what llama.cpp computes
// (src/models/*.cpp), to about 5e-7 on the llama.cpp-made fixtures. A
// tensor the recipe has no place for, an unknown architecture or a RoPE
// scaling other than linear is refused, never ignored.
//
// Loading. [Load] reads any format.Source with llama.cpp's GGUF tensor
// names and metadata: GGUF files, llama2.c checkpoints (format/llama2c),
// Hugging Face directories via convert.OpenHF(dir, "").GGUFSource(). Weights
// are dequantized on load, or, with Options.KeepQuantized, frozen matrices
// stay in their stored type (Q8_0, Q4_0, Q4_K, F16, BF16, ...) and are
// dequantized a block of rows at a time inside each product, forward and
// backward (dx only). Options.RoundActivations and Options.GELUF16Table
// reproduce llama.cpp's CPU arithmetic where it rounds (activations before
// products with quantized or half weights; GELU through an F16 table), for
// comparing logits with it.
//
// Training. [LoRAConfig] targets (q, k, v, o, gate, up, down; GPT-2's fused
// attn_qkv takes per-part q/k/v adapters as loralib's MergedLinear) are
// added with [Model.AddLoRA]: y = x·Wᵀ + s·dropout(x)·Aᵀ·Bᵀ, s = alpha/r or
// alpha/√r. The base stays frozen: [Model.Backward] computes dx, dA and dB
// only. With Options.FullFineTune every weight is trainable instead.
// [Model.Params] and [Model.Grads] are the trainable values and their
// gradients as flat slices for an optimizer:
//
//	m.ZeroGrad()
//	loss, err := m.Forward(batch) // lm head softmax + cross-entropy fused
//	err = m.Backward()
//	// update m.Params() from m.Grads()
//
// [Model.Loss] is the forward pass alone. Batches carry a loss mask (only
// completion tokens count) and optional label smoothing. The LoRA dropout
// generators' state is saved and restored exactly with
// [Model.DropoutState] and [Model.SetDropoutState], so that a resumed run
// draws the masks the uninterrupted one would have.
//
// Adapters. [Model.Adapter] returns the LoRA layers as a *lora.Adapter
// with GGUF module names; [Model.ApplyAdapter] attaches a GGUF-named
// adapter at run time with a user scale (llama.cpp's runtime LoRA);
// [Model.MergeLoRA] folds every update into its weight, W += s·B·A.
// [Model.Weights] hands out every weight with its GGUF name and the
// loaded metadata as a format.Source, for writing a fully fine-tuned or
// merged model as GGUF.
//
// Inference. [Model.NewSession] decodes incrementally with a KV cache
// ([Session.Step] returns the next-token logits; [Session.Clone] forks it
// for beam search); [Model.Logits] is the one-shot form.
//
// Performance. A LoRA training step is matrix products (package gemm,
// about 90% of its CPU time); what remains is kept off the critical
// path: the softmax over the vocabulary, GELU and its derivative run as
// AVX2/FMA loops (vec_amd64.s, chosen when gemm picks an assembly kernel;
// plain Go elsewhere and with -tags purego), elementwise and per-row
// work is spread over the cores in pieces handed out dynamically
// (parallel.go), the lm head's logits buffer is kept between steps, and
// the frozen base computes no dW, nor an input gradient below the first
// block. Decoding a few tokens at a time multiplies by dot products
// (gemv.go) instead of packing whole weight matrices.
//
// Bad input gives one-line errors wrapping format's sentinels (and
// [ErrTokenRange], [ErrContext], which wrap them too), never a panic.
package model
