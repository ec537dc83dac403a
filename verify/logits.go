package verify

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/model"
)

// promptLen is the length of each logits prompt (token ids).
const promptLen = 8

// LogitsReport compares the next-token logits of a release with those of
// its base running the adapters at run time (lorakit's transformer, the
// adapters unmerged), on prompts of random token ids.
type LogitsReport struct {
	Prompts [][]int `json:"prompts"`
	// MaxAbs is the largest |release − base+adapters| over every logit of
	// every prompt; MaxRel divides it by the largest |logit|.
	MaxAbs float64 `json:"max_abs"`
	MaxRel float64 `json:"max_rel"`
	// Top1 counts the prompts whose most likely next token agrees.
	Top1 int `json:"top1_agree"`
}

// Logits runs the release and the base with the adapters applied at run
// time on n prompts of promptLen token ids drawn with a fixed seed, and
// compares their last-position logits. It needs a model lorakit's
// transformer runs (GPT-2 and the llama layout).
func Logits(release, base string, adapters []merge.Input, n int) (*LogitsReport, error) {
	rel, err := loadModel(release, nil)
	if err != nil {
		return nil, err
	}
	ref, err := loadModel(base, adapters)
	if err != nil {
		return nil, err
	}
	if rel.Config.Vocab != ref.Config.Vocab {
		return nil, fmt.Errorf("release %s has %d tokens, the base %d: %w", release, rel.Config.Vocab, ref.Config.Vocab, format.ErrShape)
	}
	rep := &LogitsReport{}
	rng := rand.New(rand.NewPCG(uint64(n), promptLen))
	var largest float64
	for range n {
		p := make([]int, promptLen)
		for i := range p {
			p[i] = rng.IntN(rel.Config.Vocab)
		}
		rep.Prompts = append(rep.Prompts, p)
		a, err := rel.Logits(p)
		if err != nil {
			return nil, fmt.Errorf("release %s: %w", release, err)
		}
		b, err := ref.Logits(p)
		if err != nil {
			return nil, fmt.Errorf("base %s: %w", base, err)
		}
		for i := range a {
			rep.MaxAbs = math.Max(rep.MaxAbs, math.Abs(float64(a[i])-float64(b[i])))
			largest = math.Max(largest, math.Abs(float64(b[i])))
		}
		if argmax(a) == argmax(b) {
			rep.Top1++
		}
	}
	if largest > 0 {
		rep.MaxRel = rep.MaxAbs / largest
	}
	return rep, nil
}

// loadModel loads the checkpoint at path (quantized weights kept as they
// are) with adapters applied at run time.
func loadModel(path string, adapters []merge.Input) (*model.Model, error) {
	src, _, err := convert.OpenModel(path, "")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	m, err := model.Load(src, model.Options{KeepQuantized: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, in := range adapters {
		a, err := in.Load()
		if err != nil {
			return nil, err
		}
		if err := convert.ToGGUFNamesFor(a, src); err != nil {
			return nil, err
		}
		if err := m.ApplyAdapter(a, in.Scale); err != nil {
			return nil, fmt.Errorf("%s: %w", in.Path, err)
		}
	}
	return m, nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
