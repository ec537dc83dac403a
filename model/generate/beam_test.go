package generate

import (
	"context"
	"math"
	"runtime"
	"slices"
	"testing"
)

func TestBeamFindsLikelierSequence(t *testing.T) {
	// x → A (.5) or B (.4). After A the best is x (.4): greedy's A x has
	// probability .20. After B the stop token has .7: B stop has .28.
	table := bySeq([]float64{0.25, 0.25, 0.25, 0.25}, map[string][]float64{
		"[0]":   {0.05, 0.5, 0.4, 0.05},
		"[0 1]": {0.4, 0.3, 0.2, 0.1},
		"[0 2]": {0.1, 0.1, 0.1, 0.7},
	})
	o := Options{MaxNew: 2, Stop: []int{stop}}
	greedy := gen(t, table, []int{0}, o)
	if !slices.Equal(greedy.Tokens, []int{1, 0}) || math.Abs(greedy.LogProb-math.Log(0.2)) > tolLogProb {
		t.Fatalf("greedy = %v (log p %v), want [1 0] (log .2)", greedy.Tokens, greedy.LogProb)
	}
	o.Beams = 2
	res := gen(t, table, []int{0}, o)
	if !slices.Equal(res.Tokens, []int{2}) || res.Stop != stop || res.Reason != StopToken {
		t.Errorf("beam 2 = %v stop %d (%v), want [2] stop %d", res.Tokens, res.Stop, res.Reason, stop)
	}
	if want := math.Log(0.28); math.Abs(res.LogProb-want) > tolLogProb || math.Abs(res.Score-want) > tolLogProb {
		t.Errorf("beam 2 log p %v score %v, want both log .28 = %v", res.LogProb, res.Score, want)
	}
}

func TestBeamLengthPenalty(t *testing.T) {
	// x → stop (.3) or A (.6); x A → stop (.4), x (.3). Finished: "stop"
	// log .3 over 1 token; "A stop" log .24 over 2 tokens; live at the end:
	// "A x" log .18 over 2.
	table := bySeq([]float64{0.25, 0.25, 0.25, 0.25}, map[string][]float64{
		"[0]":   {0.05, 0.6, 0.05, 0.3},
		"[0 1]": {0.3, 0.2, 0.1, 0.4},
	})
	cases := []struct {
		penalty float64
		tokens  []int
		score   float64
	}{
		// Raw log probabilities: the short sequence wins.
		{0, nil, math.Log(0.3)},
		// log .24 / 2 = -0.71 beats log .3 = -1.20.
		{1, []int{1}, math.Log(0.24) / 2},
		// The paper's E2E setting: log .24 / 2^0.9 = -0.76.
		{0.9, []int{1}, math.Log(0.24) / math.Pow(2, 0.9)},
	}
	for _, c := range cases {
		res := gen(t, table, []int{0}, Options{MaxNew: 2, Beams: 2, LengthPenalty: c.penalty, Stop: []int{stop}})
		if !slices.Equal(res.Tokens, c.tokens) || res.Stop != stop || math.Abs(res.Score-c.score) > tolLogProb {
			t.Errorf("beam 2, length penalty %v = %v stop %d score %v, want %v stop %d score %v",
				c.penalty, res.Tokens, res.Stop, res.Score, c.tokens, stop, c.score)
		}
	}
}

func TestBeamUnfinished(t *testing.T) {
	// With no stop tokens the live beams compete after MaxNew steps, by
	// log p / len^penalty: the A B cycle (.6 · .6 · .6) wins.
	res := gen(t, byLast(cycle), []int{0}, Options{MaxNew: 3, Beams: 3, LengthPenalty: 0.9})
	want := 3 * math.Log(0.6)
	if !slices.Equal(res.Tokens, []int{1, 2, 1}) || res.Reason != MaxTokens || res.Stop != -1 ||
		math.Abs(res.Score-want/math.Pow(3, 0.9)) > tolLogProb || math.Abs(res.LogProb-want) > tolLogProb {
		t.Errorf("beam 3 = %+v, want [1 2 1], length, log p %v", res, want)
	}
	res = gen(t, byLast(cycle), []int{0}, Options{MaxNew: 9, Context: 3, Beams: 3})
	if len(res.Tokens) != 2 || res.Reason != ContextFull {
		t.Errorf("beam 3 in a context of 3 = %+v, want 2 tokens, context", res)
	}
}

func TestBeamOneIsGreedy(t *testing.T) {
	// The beam code with K = 1 must pick the argmax at each step.
	for _, n := range []int{0, 2, 3} {
		o := Options{MaxNew: 8, NoRepeatNGram: n, Stop: []int{stop}}
		greedy := gen(t, byLast(cycle), []int{0}, o)
		got, err := beamSearch(t.Context(), newFake(byLast(cycle)), []int{0}, withBeams(o, 1))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Tokens, greedy.Tokens) || got.Stop != greedy.Stop {
			t.Errorf("beam search K=1, no-repeat %d = %v stop %d, greedy = %v stop %d", n, got.Tokens, got.Stop, greedy.Tokens, greedy.Stop)
		}
	}
}

func withBeams(o Options, k int) Options { o.Beams = k; return o }

func TestBeamNoRepeatNGram(t *testing.T) {
	// One beam per step keeps the constraint's effect visible: with
	// no-repeat 2 the A B A B ... cycle breaks as in greedy decoding.
	got, err := beamSearch(t.Context(), newFake(byLast(cycle)), []int{0}, Options{MaxNew: 6, Beams: 1, NoRepeatNGram: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 2, 1, 3, 0, 1}; !slices.Equal(got.Tokens, want) {
		t.Errorf("beam 1, no-repeat 2 = %v, want %v", got.Tokens, want)
	}
	// Wider beams never hold a repeated bigram.
	res := gen(t, byLast(cycle), []int{0}, Options{MaxNew: 12, Beams: 4, NoRepeatNGram: 2})
	seen := map[[2]int]bool{}
	for i := 0; i+1 < len(res.Tokens); i++ {
		k := [2]int{res.Tokens[i], res.Tokens[i+1]}
		if seen[k] {
			t.Fatalf("beam 4, no-repeat 2 = %v repeats %v", res.Tokens, k)
		}
		seen[k] = true
	}
}

// TestBeamStepPanicReachesCaller: beams step in parallel; a panic inside a
// step (a bug, or a fault on a mapped model) is raised again on the caller
// of Generate, where it can be recovered, instead of ending the process
// from a worker goroutine.
func TestBeamStepPanicReachesCaller(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	rows := [][]float64{{0.25, 0.25, 0.25, 0.25}}
	s := newFake(func(seq []int) []float64 {
		if len(seq) > 1 { // the prompt is stepped alone, then the beams
			panic("boom")
		}
		return rows[0]
	})
	got := func() (r any) {
		defer func() { r = recover() }()
		_, err := Generate(context.Background(), s, []int{0}, Options{MaxNew: 3, Beams: 4})
		t.Errorf("Generate returned (err %v) instead of panicking", err)
		return nil
	}()
	if got != "boom" {
		t.Errorf("recovered %v from Generate, want the step's panic", got)
	}
}
