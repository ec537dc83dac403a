package generate

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/model"
)

// Options choose the decoding method and when it stops.
//
// Beams > 1 selects beam search; otherwise Temperature 0 selects greedy
// decoding and Temperature > 0 sampling, with TopK and TopP narrowing the
// candidates.
type Options struct {
	// MaxNew bounds the number of generated tokens (the stop token
	// included); it must be positive.
	MaxNew int
	// MinNew forbids stop tokens before this many tokens were generated
	// (loralib's min_length).
	MinNew int
	// Context is the model's context length: the prompt and the generated
	// tokens together never exceed it. 0 means no limit.
	Context int
	// Stop lists the token ids that end the sequence (EOS and any others).
	Stop []int

	// Temperature divides the logits before sampling; 0 means greedy.
	Temperature float64
	// TopK keeps the K most likely tokens (0: all).
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability
	// reaches P (0 or 1: all).
	TopP float64
	// Seed seeds the sampler (math/rand/v2's PCG): the same seed, model and
	// options give the same tokens.
	Seed uint64

	// Beams is the beam width; > 1 runs beam search.
	Beams int
	// LengthPenalty is the exponent of the length normalisation of a
	// finished beam's log probability: score = logp / len^LengthPenalty
	// (0: raw log probability; the paper uses 0.9 on E2E).
	LengthPenalty float64
	// NoRepeatNGram forbids any n-gram of this size from occurring twice
	// among the generated tokens (0: off), in every decoding method.
	NoRepeatNGram int

	// Emit, when set, receives each token as it is chosen (greedy and
	// sampling; beam search emits its result's tokens at the end). Stop tokens
	// are not emitted.
	Emit func(id int)
}

// Reason says why decoding ended.
type Reason int

// Reasons for the end of decoding.
const (
	StopToken   Reason = iota // a stop token was generated
	MaxTokens                 // MaxNew tokens were generated
	ContextFull               // the sequence reached the model's context
)

func (r Reason) String() string {
	switch r {
	case StopToken:
		return "stop"
	case MaxTokens:
		return "length"
	case ContextFull:
		return "context"
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Result is a generated continuation.
type Result struct {
	// Tokens are the generated ids, without the stop token.
	Tokens []int
	// Stop is the stop token that ended the sequence, -1 if none did.
	Stop int
	// Reason says why decoding ended.
	Reason Reason
	// LogProb is the sum of the model's log probabilities (the plain
	// softmax of its logits) of the generated tokens, the stop token
	// included.
	LogProb float64
	// Score is beam search's ranking of the result: its log probability
	// under the constrained distribution divided by len^LengthPenalty, len
	// counting the stop token. Other methods leave it 0.
	Score float64
}

// Errors in a generation request; each wraps a format sentinel for
// errors.Is while keeping its own message.
var (
	// ErrOptions: an option is out of range (wraps
	// format.ErrInvalidOption).
	ErrOptions error = &kindError{"bad generation options", format.ErrInvalidOption}
	// ErrEmptyPrompt: generation needs at least one token to start from
	// (wraps format.ErrShape).
	ErrEmptyPrompt error = &kindError{"empty prompt", format.ErrShape}
)

// kindError is a sentinel with its own message that is also one of
// format's sentinels.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// Validate checks that every option is in range; errors wrap ErrOptions.
// Generate calls it.
func (o Options) Validate() error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("generate: %s: %w", fmt.Sprintf(f, a...), ErrOptions)
	}
	switch {
	case o.MaxNew <= 0:
		return bad("max new tokens %d, want > 0", o.MaxNew)
	case o.MinNew < 0:
		return bad("min new tokens %d", o.MinNew)
	case o.Context < 0:
		return bad("context %d", o.Context)
	case !(o.Temperature >= 0) || math.IsInf(o.Temperature, 0):
		return bad("temperature %v, want >= 0", o.Temperature)
	case o.TopK < 0:
		return bad("top-k %d, want >= 0", o.TopK)
	case !(o.TopP >= 0 && o.TopP <= 1):
		return bad("top-p %v, want in [0, 1]", o.TopP)
	case o.Beams < 0:
		return bad("beam width %d", o.Beams)
	case math.IsNaN(o.LengthPenalty) || math.IsInf(o.LengthPenalty, 0):
		return bad("length penalty %v", o.LengthPenalty)
	case o.NoRepeatNGram < 0:
		return bad("no-repeat n-gram size %d", o.NoRepeatNGram)
	case o.Beams > 1 && o.Temperature > 0:
		return bad("beam search is deterministic: give a temperature or beams, not both")
	}
	return nil
}

// check validates o for a prompt of n tokens.
func (o *Options) check(n int) error {
	if err := o.Validate(); err != nil {
		return err
	}
	switch {
	case n == 0:
		return fmt.Errorf("generate: %w", ErrEmptyPrompt)
	case o.Context > 0 && n >= o.Context:
		return fmt.Errorf("generate: prompt of %d tokens leaves no room in the context of %d: %w", n, o.Context, model.ErrContext)
	}
	return nil
}

// room is how many tokens may be generated after a prompt of n tokens.
func (o *Options) room(n int) int {
	if o.Context > 0 {
		return min(o.MaxNew, o.Context-n)
	}
	return o.MaxNew
}

// isStop reports whether id ends the sequence.
func (o *Options) isStop(id int) bool {
	for _, s := range o.Stop {
		if s == id {
			return true
		}
	}
	return false
}
