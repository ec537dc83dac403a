// Package generate decodes text from a language model one token at a time:
// greedy decoding, sampling with temperature, top-k and top-p (seeded and
// reproducible), and beam search with a length penalty and a no-repeat
// n-gram constraint as loralib's NLG decoding does it (microsoft/LoRA,
// examples/NLG/src/gpt2_beam.py; the paper decodes E2E with 10 beams,
// length penalty 0.9 and no-repeat n-gram size 4).
//
// The model is reached through a Session, the small interface a KV-cache
// decoder offers: Step feeds tokens and returns the logits that predict the
// next one, Fork copies the cache for a second beam. FromModel wraps a
// *model.Model; tests use a hand-made table of logits.
//
//	s := generate.FromModel(m)
//	res, err := generate.Generate(ctx, s, []int{1}, generate.Options{MaxNew: 64, Stop: []int{2}})
//	fmt.Println(tok.Decode(res.Tokens))
//
// Decoding stops at a stop token (not included in Result.Tokens), after
// MaxNew tokens, or when the sequence fills the model's context.
package generate
