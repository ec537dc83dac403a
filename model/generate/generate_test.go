package generate

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/model"
)

// tolLogProb: the fake's logits are float32 logs of the table's numbers,
// so sums of three or four of them agree with float64 logs to about 1e-7.
const tolLogProb = 1e-6

// Tokens of the small tables: 0 "x", 1 "A", 2 "B", 3 the stop token.
const stop = 3

// cycle prefers A after x, B after A, A after B: greedy decoding loops
// "A B A B ..." (rows by the last token; row 3 follows the stop token).
var cycle = [][]float64{
	{0.1, 0.6, 0.2, 0.1},
	{0.1, 0.05, 0.6, 0.25},
	{0.25, 0.6, 0.05, 0.1},
	{0.6, 0.2, 0.1, 0.1},
}

func gen(t *testing.T, next func([]int) []float64, prompt []int, o Options) Result {
	t.Helper()
	res, err := Generate(context.Background(), newFake(next), prompt, o)
	if err != nil {
		t.Fatalf("Generate(%v, %+v): %v", prompt, o, err)
	}
	return res
}

func TestGreedy(t *testing.T) {
	// x → A (.5), x A → B (.7), x A B → stop (.6).
	table := bySeq([]float64{0.25, 0.25, 0.25, 0.25}, map[string][]float64{
		"[0]":     {0.1, 0.5, 0.3, 0.1},
		"[0 1]":   {0.1, 0.1, 0.7, 0.1},
		"[0 1 2]": {0.2, 0.1, 0.1, 0.6},
	})
	cases := []struct {
		name    string
		o       Options
		tokens  []int
		stop    int
		reason  Reason
		logProb float64
	}{
		{"stop token", Options{MaxNew: 10, Stop: []int{stop}}, []int{1, 2}, stop, StopToken, math.Log(0.5) + math.Log(0.7) + math.Log(0.6)},
		{"max new", Options{MaxNew: 1, Stop: []int{stop}}, []int{1}, -1, MaxTokens, math.Log(0.5)},
		{"context", Options{MaxNew: 10, Context: 3, Stop: []int{stop}}, []int{1, 2}, -1, ContextFull, math.Log(0.5) + math.Log(0.7)},
		// With the stop token forbidden before 3 tokens, x A B → x (.2).
		{"min new", Options{MaxNew: 3, MinNew: 3, Stop: []int{stop}}, []int{1, 2, 0}, -1, MaxTokens, math.Log(0.5) + math.Log(0.7) + math.Log(0.2)},
		{"no stop tokens", Options{MaxNew: 3}, []int{1, 2, 3}, -1, MaxTokens, math.Log(0.5) + math.Log(0.7) + math.Log(0.6)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var emitted []int
			c.o.Emit = func(id int) { emitted = append(emitted, id) }
			res := gen(t, table, []int{0}, c.o)
			if !slices.Equal(res.Tokens, c.tokens) || res.Stop != c.stop || res.Reason != c.reason {
				t.Errorf("Generate = %v stop %d (%v), want %v stop %d (%v)", res.Tokens, res.Stop, res.Reason, c.tokens, c.stop, c.reason)
			}
			if math.Abs(res.LogProb-c.logProb) > tolLogProb {
				t.Errorf("LogProb = %v, want %v", res.LogProb, c.logProb)
			}
			if !slices.Equal(emitted, res.Tokens) {
				t.Errorf("emitted %v, want %v", emitted, res.Tokens)
			}
		})
	}
}

func TestGreedyTiesPickLowestID(t *testing.T) {
	res := gen(t, byLast([][]float64{{0.1, 0.4, 0.4, 0.1}}), []int{0}, Options{MaxNew: 1})
	if !slices.Equal(res.Tokens, []int{1}) {
		t.Errorf("Generate with a tie between 1 and 2 = %v, want [1]", res.Tokens)
	}
}

func TestNoRepeatNGram(t *testing.T) {
	cases := []struct {
		n    int
		want []int
	}{
		// Unconstrained: the A B cycle.
		{0, []int{1, 2, 1, 2, 1, 2}},
		// After A B A, "A B" may not recur: A → stop token (.25) instead
		// of B; then the stop token → x, x → A.
		{2, []int{1, 2, 1, 3, 0, 1}},
		// After A B A B, "B A" ... "A B A" may not recur: B → x (.25).
		{3, []int{1, 2, 1, 2, 0, 1}},
		// Unigrams forbid every repeat (the prompt does not count, as in
		// loralib): x → A, A → B, B → x (.25; A and B used), x → stop.
		{1, []int{1, 2, 0, 3}},
	}
	for _, c := range cases {
		res := gen(t, byLast(cycle), []int{0}, Options{MaxNew: len(c.want), NoRepeatNGram: c.n})
		if !slices.Equal(res.Tokens, c.want) {
			t.Errorf("greedy, no-repeat %d = %v, want %v", c.n, res.Tokens, c.want)
		}
	}
	// With every token used, unigram blocking leaves nothing to choose.
	_, err := Generate(context.Background(), newFake(byLast(cycle)), []int{0}, Options{MaxNew: 5, NoRepeatNGram: 1})
	if !errors.Is(err, ErrOptions) {
		t.Errorf("Generate with all tokens forbidden: err = %v, want ErrOptions", err)
	}
}

func TestBannedNGram(t *testing.T) {
	seq := []int{5, 6, 7, 5, 6}
	cases := []struct {
		n    int
		want []int
	}{
		{1, []int{5, 6, 7, 5, 6}},
		{2, []int{7}}, // 6 was followed by 7
		{3, []int{7}}, // 5 6 was followed by 7
		{4, nil},      // 7 5 6 occurs only at the end
		{6, nil},      // fewer than 5 tokens precede: nothing to match
		{5, nil},      // 6 7 5 6 occurs only at the end
	}
	for _, c := range cases {
		if got := bannedNGram(seq, c.n); !slices.Equal(got, c.want) {
			t.Errorf("bannedNGram(%v, %d) = %v, want %v", seq, c.n, got, c.want)
		}
	}
	if got := bannedNGram([]int{4, 4, 4}, 2); !slices.Equal(got, []int{4, 4}) {
		t.Errorf("bannedNGram([4 4 4], 2) = %v, want [4 4]", got)
	}
}

func TestOptionErrors(t *testing.T) {
	ok := Options{MaxNew: 4}
	cases := []struct {
		name   string
		prompt []int
		edit   func(*Options)
		want   error
	}{
		{"max new 0", []int{0}, func(o *Options) { o.MaxNew = 0 }, ErrOptions},
		{"negative temperature", []int{0}, func(o *Options) { o.Temperature = -1 }, ErrOptions},
		{"NaN temperature", []int{0}, func(o *Options) { o.Temperature = math.NaN() }, ErrOptions},
		{"top-p above 1", []int{0}, func(o *Options) { o.TopP = 1.5 }, ErrOptions},
		{"negative top-k", []int{0}, func(o *Options) { o.TopK = -1 }, ErrOptions},
		{"beams and temperature", []int{0}, func(o *Options) { o.Beams, o.Temperature = 2, 1 }, ErrOptions},
		{"negative n-gram", []int{0}, func(o *Options) { o.NoRepeatNGram = -2 }, ErrOptions},
		{"empty prompt", nil, func(*Options) {}, ErrEmptyPrompt},
		{"prompt fills the context", []int{0, 1, 2}, func(o *Options) { o.Context = 3 }, model.ErrContext},
		{"prompt longer than the context", []int{0, 1, 2, 1}, func(o *Options) { o.Context = 3 }, format.ErrShape},
		{"token out of range", []int{0, 9}, func(*Options) {}, format.ErrFormat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := ok
			c.edit(&o)
			for _, beams := range []int{0, 3} {
				if o.Temperature == 0 {
					o.Beams = max(o.Beams, beams)
				}
				_, err := Generate(context.Background(), newFake(byLast(cycle)), c.prompt, o)
				if !errors.Is(err, c.want) {
					t.Errorf("Generate(%v, %+v) err = %v, want %v", c.prompt, o, err, c.want)
				}
			}
		})
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, beams := range []int{1, 4} {
		_, err := Generate(ctx, newFake(byLast(cycle)), []int{0}, Options{MaxNew: 5, Beams: beams})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Generate(cancelled, beams %d) err = %v, want context.Canceled", beams, err)
		}
	}
}
