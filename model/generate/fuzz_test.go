package generate

import (
	"errors"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// hashed is a table whose next-token distribution is a pseudo-random
// function of the sequence (prompt included).
func hashed(vocab int, seed uint64) func([]int) []float64 {
	return func(seq []int) []float64 {
		h := fnv.New64a()
		for _, id := range seq {
			h.Write([]byte{byte(id), byte(id >> 8)})
		}
		r := rand.New(rand.NewPCG(h.Sum64(), seed))
		p := make([]float64, vocab)
		var sum float64
		for i := range p {
			p[i] = math.Exp(3 * r.NormFloat64())
			sum += p[i]
		}
		for i := range p {
			p[i] /= sum
		}
		return p
	}
}

// FuzzGenerate decodes random tables with random options and checks what
// every result must satisfy: ids in range, no stop token inside, at most
// MaxNew tokens, no repeated n-gram, the same result twice.
func FuzzGenerate(f *testing.F) {
	f.Add(uint64(1), uint8(4), uint8(8), uint8(0), uint8(0), uint8(0), uint8(0), uint8(0))
	f.Add(uint64(2), uint8(5), uint8(10), uint8(3), uint8(9), uint8(2), uint8(1), uint8(0))
	f.Add(uint64(3), uint8(3), uint8(12), uint8(0), uint8(5), uint8(1), uint8(2), uint8(40))
	f.Add(uint64(4), uint8(6), uint8(6), uint8(0), uint8(2), uint8(3), uint8(3), uint8(90))
	f.Add(uint64(5), uint8(2), uint8(9), uint8(1), uint8(0), uint8(1), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, seed uint64, vocab, maxNew, beams, lp, noRepeat, topK, temp uint8) {
		V := 2 + int(vocab)%7
		o := Options{
			MaxNew:        1 + int(maxNew)%12,
			Beams:         int(beams) % 5,
			LengthPenalty: float64(lp%11) / 10,
			NoRepeatNGram: int(noRepeat) % 4,
			TopK:          int(topK) % 4,
			TopP:          float64(temp%10) / 10,
			Stop:          []int{V - 1},
			Seed:          seed,
		}
		if o.Beams <= 1 {
			o.Temperature = float64(temp) / 50
		}
		table := hashed(V, seed)
		run := func() (Result, error) {
			return Generate(t.Context(), newFake(table), []int{0}, o)
		}
		res, err := run()
		if err != nil {
			if !errors.Is(err, ErrOptions) {
				t.Fatalf("Generate(%+v): %v", o, err)
			}
			return
		}
		if len(res.Tokens) > o.MaxNew || (res.Stop >= 0 && len(res.Tokens) >= o.MaxNew) {
			t.Fatalf("Generate(%+v) = %v stop %d: more than MaxNew", o, res.Tokens, res.Stop)
		}
		for _, id := range res.Tokens {
			if id < 0 || id >= V || o.isStop(id) {
				t.Fatalf("Generate(%+v) = %v: token %d out of range or a stop token", o, res.Tokens, id)
			}
		}
		all := slices.Clone(res.Tokens)
		if res.Stop >= 0 {
			all = append(all, res.Stop)
		}
		if n := o.NoRepeatNGram; n > 0 {
			seen := map[string]bool{}
			for i := 0; i+n <= len(all); i++ {
				k := string(rune(n)) + fmtInts(all[i:i+n])
				if seen[k] {
					t.Fatalf("Generate(%+v) = %v repeats the %d-gram %v", o, all, n, all[i:i+n])
				}
				seen[k] = true
			}
		}
		if !(res.LogProb <= 0) {
			t.Fatalf("Generate(%+v): LogProb %v", o, res.LogProb)
		}
		again, err := run()
		if err != nil || !slices.Equal(again.Tokens, res.Tokens) || again.Stop != res.Stop {
			t.Fatalf("Generate(%+v) twice: %v then %v (%v)", o, res.Tokens, again.Tokens, err)
		}
	})
}

func fmtInts(s []int) string {
	b := make([]byte, 0, 2*len(s))
	for _, v := range s {
		b = append(b, byte(v), ',')
	}
	return string(b)
}
