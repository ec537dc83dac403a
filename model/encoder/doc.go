// Package encoder is lorakit's CPU encoder: BERT, RoBERTa and DeBERTa-v2/v3
// as transformers runs them in eval mode (BertModel / RobertaModel /
// DebertaV2Model and their ...ForSequenceClassification and
// ...ForTokenClassification heads), with LoRA on any linear layer, the
// classification head trainable in full (PEFT's modules_to_save), full
// fine-tuning of the linears, and masked-LM pre-training of every weight.
//
// The block is post-LayerNorm with bidirectional attention:
//
//	x  = LN(tok[id] + type[t] + pos[p])
//	h  = LN(x + Wo·attn(Wq x, Wk x, Wv x))        per layer
//	x' = LN(h + Wdown·gelu(Wup h))                exact (erf) GELU
//
// DeBERTa replaces absolute positions by disentangled attention over
// log-bucketed relative positions (deberta.go). Heads read the first
// token's last hidden state h0: BERT's pooler and classifier,
// logits = Wc·tanh(Wp·h0 + bp) + bc; RoBERTa's classification head,
// logits = Wout·tanh(Wd·h0 + bd) + bout; DeBERTa's context pooler,
// logits = Wc·gelu(Wp·h0 + bp) + bc; a token head classifies every token.
// One label is regression (MSE loss), more are classes (cross entropy).
//
// Weights are kept as float32 under llama.cpp's GGUF names (a BERT/RoBERTa
// Hugging Face directory is read through convert's GGUF view, so both
// sources give the same model); activations and all arithmetic are float64,
// so a forward pass agrees with a float64 reference to rounding of the
// float32 weights' products (about 1e-15), and gradients can be checked by
// finite differences without float32 noise. Forward and backward are side
// by side per layer (linear.go, attention.go, norm.go, head.go, mlm.go).
//
// Positions: BERT numbers tokens 0..n-1. RoBERTa numbers non-padding tokens
// from pad_token_id + 1 (transformers' create_position_ids_from_input_ids);
// llama.cpp's conversion has cut the rows before that, so the k-th
// non-padding token reads row k. Padding tokens are masked out of
// attention, which makes every other token's output independent of them;
// their own rows are not meaningful.
package encoder
