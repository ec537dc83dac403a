package train

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/lorakit/lorakit/internal/parallel"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/model/generate"
	"github.com/lorakit/lorakit/tokenizer"
	"github.com/lorakit/lorakit/train/data"
	"github.com/lorakit/lorakit/train/metrics"
)

// PaperDecoding returns the paper's E2E decoding: beam search with 10
// beams, length penalty 0.9, no repeated 4-grams, at most 64 new tokens.
func PaperDecoding() generate.Options {
	return generate.Options{Beams: 10, LengthPenalty: 0.9, NoRepeatNGram: 4, MaxNew: 64}
}

// Prediction is one decoded output with its prompt and references.
type Prediction struct {
	Prompt string   `json:"prompt"`
	Output string   `json:"output"`
	Refs   []string `json:"references,omitempty"`
}

// Evaluation is the result of Evaluate.
type Evaluation struct {
	Predictions []Prediction   `json:"predictions"`
	Scores      metrics.Scores `json:"scores"`
}

// Decode generates the completion of every prompt with m, framed as b
// frames training examples, on all cores (sessions of one model decode in
// parallel). o.Context and o.Stop default to the model's context and
// tok's EOS. progress, if set, is called after each prompt.
func Decode(ctx context.Context, m *model.Model, tok *tokenizer.Tokenizer, b data.Builder, prompts []string, o generate.Options, progress func(done, total int)) ([]string, error) {
	if o.Context == 0 {
		o.Context = m.Config.Context
	}
	if o.Stop == nil && tok.Vocab().EOS >= 0 {
		o.Stop = []int{tok.Vocab().EOS}
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	outs := make([]string, len(prompts))
	errs := make([]error, len(prompts))
	var mu sync.Mutex
	done := 0
	err := parallel.ForEach(ctx, len(prompts), func(i int) {
		res, err := generate.Generate(ctx, generate.FromModel(m), PromptTokens(b, prompts[i]), o)
		outs[i], errs[i] = strings.TrimSpace(tok.Decode(res.Tokens)), err
		if progress != nil {
			mu.Lock()
			done++
			progress(done, len(prompts))
			mu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("train: decoding prompt %d: %w", i+1, err)
		}
	}
	return outs, nil
}

// Evaluate decodes each group's prompt (each distinct meaning
// representation once) and scores the outputs against all the group's
// references with the E2E challenge's metrics.
func Evaluate(ctx context.Context, m *model.Model, tok *tokenizer.Tokenizer, b data.Builder, groups []data.Group, o generate.Options, progress func(done, total int)) (*Evaluation, error) {
	prompts := make([]string, len(groups))
	refs := make([][]string, len(groups))
	for i, g := range groups {
		prompts[i], refs[i] = g.Prompt, g.Refs
	}
	outs, err := Decode(ctx, m, tok, b, prompts, o, progress)
	if err != nil {
		return nil, err
	}
	sc, err := metrics.E2E(outs, refs)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	ev := &Evaluation{Scores: sc, Predictions: make([]Prediction, len(groups))}
	for i := range groups {
		ev.Predictions[i] = Prediction{Prompt: prompts[i], Output: outs[i], Refs: refs[i]}
	}
	return ev, nil
}
