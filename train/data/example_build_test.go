package data

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/tokenizer"
)

// wordIDs is a toy encoder: each space-separated word is its length times 10
// (so token values are predictable by eye); a leading space adds 1 to the
// first word's id.
func wordIDs(s string) []int {
	var ids []int
	for i, w := range strings.Fields(s) {
		id := 10 * len(w)
		if i == 0 && strings.HasPrefix(s, " ") {
			id++
		}
		ids = append(ids, id)
	}
	return ids
}

func TestBuild(t *testing.T) {
	const eot = 9
	b := LoRAE2E(wordIDs, eot, 8)
	pairs := []Pair{
		{"ab cde", "x yy", 1},                 // 20 30 | 9 | 11 20 | 9  = 6 tokens
		{"a b c d e f g", "hello world", 2},   // 7 + 1 = 8 prompt tokens, completion cut to 1 (9 total)
		{"a b c d e f g h i", "no room", 3},   // prompt 9+1 ≥ 9: skipped
		{"p", "a b c d e f g h i j k l m", 4}, // 1+1 then 13+1: cut to 9
	}
	ex, st, err := b.Build(pairs, "f")
	if err != nil {
		t.Fatal(err)
	}
	want := []Example{
		{[]int{20, 30, eot, 11, 20, eot}, 3, 1, nil},
		{[]int{10, 10, 10, 10, 10, 10, 10, eot, 51}, 8, 2, nil},
		{[]int{10, eot, 11, 10, 10, 10, 10, 10, 10}, 2, 4, nil},
	}
	if len(ex) != len(want) {
		t.Fatalf("Build = %+v, want %+v", ex, want)
	}
	for i := range want {
		if !slices.Equal(ex[i].Tokens, want[i].Tokens) || ex[i].Prompt != want[i].Prompt || ex[i].Line != want[i].Line {
			t.Errorf("Build[%d] = %+v, want %+v", i, ex[i], want[i])
		}
	}
	if wantSt := (Stats{Examples: 3, Tokens: 24, Truncated: 2, Skipped: 1}); st != wantSt {
		t.Errorf("Stats = %+v, want %+v", st, wantSt)
	}

	b.Policy = Refuse
	_, _, err = b.Build(pairs, "f")
	var le *LineError
	if !errors.Is(err, format.ErrShape) || !errors.As(err, &le) || le.Line != 2 {
		t.Errorf("Build(Refuse) = %v, want ErrShape at line 2", err)
	}
	if _, _, err := (Builder{Encode: wordIDs, Seq: 1}).Build(pairs[2:3], "f"); !errors.Is(err, format.ErrShape) {
		t.Errorf("Build(nothing fits) = %v, want ErrShape", err)
	}
	if _, _, err := (Builder{Seq: 4}).Build(pairs, "f"); !errors.Is(err, format.ErrFormat) {
		t.Errorf("Build(no encoder) = %v, want ErrFormat", err)
	}
}

// TestMakeBatchMask checks the (B, T) arrays of the first and third
// examples above by hand: row 0 has 5 inputs, row 1 has 8 (T = 8).
// Targets from position t are tokens t+1; the mask is 1 where t+1 ≥ Prompt.
func TestMakeBatchMask(t *testing.T) {
	const eot, pad = 9, -1
	ex := []Example{
		{[]int{20, 30, eot, 11, 20, eot}, 3, 1, nil},
		{[]int{10, eot, 11, 10, 10, 10, 10, 10, 10}, 2, 4, nil},
	}
	b := MakeBatch(ex, []int{0, 1}, pad)
	want := Batch{
		B: 2, T: 8,
		Inputs:  []int{20, 30, eot, 11, 20, pad, pad, pad, 10, eot, 11, 10, 10, 10, 10, 10},
		Targets: []int{30, eot, 11, 20, eot, pad, pad, pad, eot, 11, 10, 10, 10, 10, 10, 10},
		Mask:    []float32{0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1},
		Lengths: []int{5, 8},
	}
	if b.B != want.B || b.T != want.T || !slices.Equal(b.Inputs, want.Inputs) || !slices.Equal(b.Targets, want.Targets) ||
		!slices.Equal(b.Mask, want.Mask) || !slices.Equal(b.Lengths, want.Lengths) {
		t.Errorf("MakeBatch =\n%+v, want\n%+v", b, want)
	}
	if b.LossTokens() != 3+7 || b.Valid(0, 5) || !b.Valid(1, 7) {
		t.Errorf("LossTokens, Valid(0,5), Valid(1,7) = %d %v %v, want 10 false true", b.LossTokens(), b.Valid(0, 5), b.Valid(1, 7))
	}
}

// TestBuildText: a stream of 10 tokens in windows of Seq+1 = 5 tokens
// overlapping by one: targets 1..4, 5..8, 9: each token predicted once.
func TestBuildText(t *testing.T) {
	b := Builder{Encode: wordIDs, BOS: 1, EOS: 2, Seq: 4}
	docs := []Pair{{Completion: "a bb ccc", Line: 1}, {Completion: "dddd e ff", Line: 3}}
	ex, st, err := b.BuildText(docs, "f")
	if err != nil {
		t.Fatal(err)
	}
	// stream: 1 | 10 20 30 2 | 40 10 20 2 (9 tokens)
	want := [][]int{{1, 10, 20, 30, 2}, {2, 40, 10, 20, 2}}
	if len(ex) != len(want) || st.Tokens != 10 {
		t.Fatalf("BuildText = %+v (%+v), want windows %v", ex, st, want)
	}
	for i := range want {
		if !slices.Equal(ex[i].Tokens, want[i]) || ex[i].Prompt != 1 {
			t.Errorf("window %d = %+v, want %v with Prompt 1", i, ex[i], want[i])
		}
	}
	if ex[1].Line != 1 || ex[0].Line != 1 {
		t.Errorf("window lines = %d, %d, want 1, 1 (window 2 starts on document 1's EOS)", ex[0].Line, ex[1].Line)
	}
	if _, _, err := b.BuildText(nil, "f"); !errors.Is(err, format.ErrFormat) {
		t.Errorf("BuildText(nothing) = %v, want ErrFormat", err)
	}
}

// TestLoRAE2EGPT2 builds the first E2E validation example with the real
// GPT-2 tokenizer, as loralib's gpt2_encode.py does: MR tokens, 50256,
// tokens of " " + reference, 50256.
func TestLoRAE2EGPT2(t *testing.T) {
	dir := filepath.Join(filepath.Dir(filepath.Dir(sharedE2E(t, "valid.txt"))), "gpt2-tokenizer")
	v, err := tokenizer.LoadGPT2(filepath.Join(dir, "encoder.json"), filepath.Join(dir, "vocab.bpe"))
	if err != nil {
		t.Fatalf("GPT-2 tokenizer files: %v", err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	tok.AddBOS, tok.AddEOS = false, false
	pairs, err := Load(sharedE2E(t, "valid.txt"), FormatE2E)
	if err != nil {
		t.Fatal(err)
	}
	ex, _, err := LoRAE2E(tok.Encode, 50256, 512).Build(pairs[:1], "valid.txt")
	if err != nil {
		t.Fatal(err)
	}
	mr := tok.Encode(pairs[0].Prompt)
	ref := tok.Encode(" " + pairs[0].Completion)
	want := append(append(append(mr, 50256), ref...), 50256)
	if !slices.Equal(ex[0].Tokens, want) || ex[0].Prompt != len(mr)+1 {
		t.Errorf("example = %v (prompt %d), want %v (prompt %d)", ex[0].Tokens, ex[0].Prompt, want, len(mr)+1)
	}
	if dec := tok.Decode(ex[0].Tokens[ex[0].Prompt : len(ex[0].Tokens)-1]); dec != " "+pairs[0].Completion {
		t.Errorf("completion decodes to %q, want %q", dec, " "+pairs[0].Completion)
	}
}

func TestPlan(t *testing.T) {
	var ex []Example
	for i := 0; i < 103; i++ {
		ex = append(ex, Example{Tokens: make([]int, 2+(i*37)%29)})
	}
	bt := Batcher{Size: 8, Seed: 110, Shuffle: true, Window: 4}
	p1, err := bt.Plan(ex, 0)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := bt.Plan(ex, 0)
	p3, _ := bt.Plan(ex, 1)
	if !equalPlans(p1, p2) {
		t.Error("Plan(seed 110, epoch 0) differs between calls")
	}
	if equalPlans(p1, p3) {
		t.Error("Plan(epoch 0) = Plan(epoch 1)")
	}
	seen := make([]int, len(ex))
	short := 0
	for _, b := range p1 {
		if len(b) < bt.Size {
			short++
		}
		for _, i := range b {
			seen[i]++
		}
	}
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("example %d appears %d times in the plan", i, n)
		}
	}
	if short != 1 || len(p1) != 13 {
		t.Errorf("plan has %d batches, %d short, want 13 and 1 (103 = 12·8 + 7)", len(p1), short)
	}
	// Without shuffling, windows of 4 batches keep data order and sort
	// within: the first batch holds the 8 longest of examples 0..31.
	plain, _ := Batcher{Size: 8, Window: 4}.Plan(ex, 0)
	first := map[int]bool{}
	for _, i := range plain[0] {
		first[i] = true
	}
	idx := make([]int, 32)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return len(ex[b].Tokens) - len(ex[a].Tokens) })
	for _, i := range idx[:8] {
		if !first[i] {
			t.Errorf("first unshuffled batch %v lacks example %d (among the 8 longest of the first window)", plain[0], i)
		}
	}
	if _, err := (Batcher{}).Plan(ex, 0); !errors.Is(err, format.ErrInvalidOption) {
		t.Errorf("Plan(size 0) = %v, want ErrInvalidOption", err)
	}
}

// TestRNGStable pins SplitMix64's published first outputs for seed 0
// (Vigna's reference splitmix64.c: 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4).
func TestRNGStable(t *testing.T) {
	r := &rng{s: 0}
	if a, b := r.next(), r.next(); a != 0xe220a8397b1dcdaf || b != 0x6e789e6aa1b965f4 {
		t.Errorf("splitmix64(0) = %#x, %#x, want 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4", a, b)
	}
}

func equalPlans(a, b [][]int) bool {
	return slices.EqualFunc(a, b, func(x, y []int) bool { return slices.Equal(x, y) })
}

func BenchmarkBuildE2E(b *testing.B) {
	pairs, err := Load(sharedE2E(b, "valid.txt"), FormatE2E)
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(sharedE2E(b, "valid.txt"))
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		ex, _, _ := LoRAE2E(wordIDs, 9, 512).Build(pairs, "valid.txt")
		Batcher{Size: 8, Seed: 1, Shuffle: true}.Plan(ex, 0)
	}
}
