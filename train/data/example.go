package data

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// Example is one tokenized training sequence: Tokens[:Prompt] are context
// (no loss), the rest are predicted. Line is the source line.
type Example struct {
	Tokens []int
	Prompt int
	Line   int
	// Loss, when not nil, has one entry per token and marks those in the
	// loss (a chat's assistant turns, BuildChat); Prompt is then the first
	// marked token.
	Loss []bool
}

// Policy says what Build does with an example longer than the context.
type Policy int

const (
	// Truncate keeps the first Seq+1 tokens (cutting the completion's end,
	// EOS included) and counts it in Stats.Truncated; an example whose
	// prompt leaves no completion token is skipped and counted in
	// Stats.Skipped.
	Truncate Policy = iota
	// Refuse fails on the first example longer than the context, naming
	// its line.
	Refuse
)

// Builder turns pairs into examples.
type Builder struct {
	// Encode tokenizes text without adding BOS or EOS itself (for
	// package tokenizer: t.AddBOS, t.AddEOS = false, false; t.Encode).
	Encode func(string) []int
	// BOS (if ≥ 0) starts every example; EOS (if ≥ 0) ends every
	// completion (and separates text documents).
	BOS, EOS int
	// Sep is put between prompt and completion. loralib's E2E examples
	// use the GPT-2 end-of-text id 50256 here.
	Sep []int
	// CompletionPrefix is prepended to the completion's text before
	// encoding (loralib encodes ' ' + completion).
	CompletionPrefix string
	// Seq is the context length: an example feeds at most Seq input
	// positions, so it holds at most Seq+1 tokens (inputs and targets
	// shifted by one).
	Seq    int
	Policy Policy
}

// Stats reports what Build did.
type Stats struct {
	Examples  int // examples built
	Tokens    int // tokens in them
	Truncated int // examples cut to Seq+1 tokens
	Skipped   int // examples dropped: no room for any completion token
}

// LoRAE2E returns loralib's E2E recipe for a GPT-2 vocabulary: prompt, the
// end-of-text token as separator, " " + reference, end-of-text, truncated
// to seq.
func LoRAE2E(encode func(string) []int, eot, seq int) Builder {
	return Builder{Encode: encode, BOS: -1, EOS: eot, Sep: []int{eot}, CompletionPrefix: " ", Seq: seq}
}

func (b Builder) check() error {
	if b.Encode == nil || b.Seq < 1 {
		return fmt.Errorf("data: builder needs an encoder and a context length ≥ 1 (have %d): %w", b.Seq, format.ErrFormat)
	}
	return nil
}

// Build tokenizes prompt/completion pairs (name is the file, for errors).
// The loss mask of an example covers the completion and its EOS.
func (b Builder) Build(pairs []Pair, name string) ([]Example, Stats, error) {
	if err := b.check(); err != nil {
		return nil, Stats{}, err
	}
	var st Stats
	out := make([]Example, 0, len(pairs))
	for _, p := range pairs {
		var toks []int
		if b.BOS >= 0 {
			toks = append(toks, b.BOS)
		}
		toks = append(toks, b.Encode(p.Prompt)...)
		toks = append(toks, b.Sep...)
		prompt := len(toks)
		toks = append(toks, b.Encode(b.CompletionPrefix+p.Completion)...)
		if b.EOS >= 0 {
			toks = append(toks, b.EOS)
		}
		if prompt == 0 && len(toks) > 0 { // nothing predicts the first token
			prompt = 1
		}
		if len(toks) > b.Seq+1 {
			if b.Policy == Refuse {
				return nil, st, &LineError{name, p.Line, fmt.Errorf("%d tokens, longer than the context of %d (+1): %w", len(toks), b.Seq, format.ErrShape)}
			}
			if prompt >= b.Seq+1 {
				st.Skipped++
				continue
			}
			toks = toks[:b.Seq+1]
			st.Truncated++
		}
		if len(toks) < 2 || prompt >= len(toks) {
			st.Skipped++
			continue
		}
		out = append(out, Example{Tokens: toks, Prompt: prompt, Line: p.Line})
		st.Tokens += len(toks)
	}
	st.Examples = len(out)
	if len(out) == 0 {
		return nil, st, fmt.Errorf("data: %s: no example fits the context of %d tokens (%d skipped): %w", name, b.Seq, st.Skipped, format.ErrShape)
	}
	return out, st, nil
}

// BuildText tokenizes text documents for language modelling: BOS (if set)
// once, each document followed by EOS (if set), the stream cut into
// windows of Seq+1 tokens that overlap by one (so every token is
// predicted once); the last window may be shorter. The loss covers
// every predicted token; Line is the line of a window's first document.
func (b Builder) BuildText(docs []Pair, name string) ([]Example, Stats, error) {
	if err := b.check(); err != nil {
		return nil, Stats{}, err
	}
	var stream, lines []int // token, and the line of its document
	if b.BOS >= 0 && len(docs) > 0 {
		stream, lines = append(stream, b.BOS), append(lines, docs[0].Line)
	}
	for _, d := range docs {
		toks := b.Encode(d.Prompt + d.Completion)
		if b.EOS >= 0 {
			toks = append(toks, b.EOS)
		}
		for range toks {
			lines = append(lines, d.Line)
		}
		stream = append(stream, toks...)
	}
	var st Stats
	var out []Example
	for lo := 0; lo+1 < len(stream); lo += b.Seq {
		hi := min(lo+b.Seq+1, len(stream))
		out = append(out, Example{Tokens: stream[lo:hi:hi], Prompt: 1, Line: lines[lo]})
		st.Tokens += hi - lo
	}
	st.Examples = len(out)
	if len(out) == 0 {
		return nil, st, fmt.Errorf("data: %s: fewer than two tokens of text: %w", name, format.ErrFormat)
	}
	return out, st, nil
}
