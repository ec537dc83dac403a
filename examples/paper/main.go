// Command paper reruns the LoRA paper's E2E experiment and its Section 7
// analysis at small scale, on the real pretrained stories260K and
// aidreams260K (260K-parameter Llamas): full fine-tuning against LoRA of
// ranks 1..32 on {q,v} and {q,k,v,o}, trained on the E2E validation split
// and scored on the test split, then the subspace similarity of learned
// adapters (r=8 vs r=32, two seeds at r=32) and their amplification of W.
// README.md in this directory reports a run.
//
//	go run ./examples/paper -o /tmp/paper            # both bases, defaults
//	go run ./examples/paper -bases stories260K -steps 100 -prompts 20
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lorakit/lorakit/analyze"
	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/gguf"
	_ "github.com/lorakit/lorakit/format/llama2c"
	"github.com/lorakit/lorakit/internal/peakrss"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/model/generate"
	"github.com/lorakit/lorakit/resolve"
	"github.com/lorakit/lorakit/tokenizer"
	"github.com/lorakit/lorakit/train"
	"github.com/lorakit/lorakit/train/data"
	"github.com/lorakit/lorakit/train/metrics"
)

// Result is one training run's row of the results table.
type Result struct {
	Base         string         `json:"base"`
	Method       string         `json:"method"`
	Targets      string         `json:"targets,omitempty"`
	Rank         int            `json:"rank,omitempty"`
	Seed         uint64         `json:"seed"`
	Trainable    int            `json:"trainable_params"`
	Steps        int            `json:"steps"`
	TestLoss     float64        `json:"test_loss"`
	Scores       metrics.Scores `json:"scores"`
	TokensPerSec float64        `json:"tokens_per_s"`
	PeakRSSMiB   float64        `json:"peak_rss_mib"`
	Seconds      float64        `json:"seconds"`
}

// Section7 is the analysis of one base's trained adapters.
type Section7 struct {
	Base string `json:"base"`
	// Phi11 and MeanDiag: φ(1,1) and mean φ(i,i) over the right-singular
	// vectors of A, averaged over layers, per module type; Random: the
	// Gaussian control's φ(1,1).
	R8vsR32    map[string][3]float64 `json:"r8_vs_r32"`
	SeedsAtR32 map[string][3]float64 `json:"seeds_at_r32"`
	// Amplification ‖ΔW‖_F/‖UᵀWVᵀ‖_F averaged over layers, per module type
	// and rank; with ‖UᵀWVᵀ‖_F for U,V from ΔW, W and random.
	Amplification map[string][4]float64 `json:"amplification"`
}

func main() {
	var (
		out     = flag.String("o", "paper-results", "output directory")
		e2e     = flag.String("data", "../shared/data/e2e", "directory with the E2E valid.txt and test.txt")
		models  = flag.String("models", "../shared/data/models", "directory with stories260K/ and aidreams260K/")
		bases   = flag.String("bases", "stories260K,aidreams260K", "bases to adapt")
		steps   = flag.Int("steps", 250, "optimizer steps per run (batch 8)")
		prompts = flag.Int("prompts", 60, "test meaning representations decoded and scored")
		beams   = flag.Int("beam", 1, "beam width for decoding (the paper: 10)")
		ranks   = flag.String("ranks", "1,2,4,8,16,32", "LoRA ranks")
		loraLR  = flag.Float64("lr", 2e-2, "LoRA learning rate")
		fullLR  = flag.Float64("full-lr", 1e-3, "full fine-tuning learning rate")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	trainPairs, err := data.Load(filepath.Join(*e2e, "valid.txt"), data.FormatE2E)
	if err != nil {
		log.Fatal(err)
	}
	testPairs, err := data.Load(filepath.Join(*e2e, "test.txt"), data.FormatE2E)
	if err != nil {
		log.Fatal(err)
	}
	groups := data.GroupByPrompt(testPairs)
	groups = groups[:min(*prompts, len(groups))]
	var testSub []data.Pair // the pairs of the scored prompts: the test loss
	for _, g := range groups {
		for _, r := range g.Refs {
			testSub = append(testSub, data.Pair{Prompt: g.Prompt, Completion: r, Line: g.Line})
		}
	}
	var rankList []int
	for _, r := range strings.Split(*ranks, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || v < 1 {
			log.Fatalf("-ranks %q: want positive integers, comma-separated", *ranks)
		}
		rankList = append(rankList, v)
	}
	dec := generate.Options{MaxNew: 64, NoRepeatNGram: 4}
	if *beams > 1 {
		dec.Beams, dec.LengthPenalty = *beams, 0.9
	}
	var results []Result
	var sec7 []Section7
	for _, name := range strings.Split(*bases, ",") {
		path := filepath.Join(*models, name, name+".bin")
		e := &experiment{name: name, path: path, steps: *steps, dec: dec, groups: groups, loraLR: *loraLR, fullLR: *fullLR}
		if err := e.setup(trainPairs, testSub); err != nil {
			log.Fatal(err)
		}
		rs, s7, err := e.run(ctx, rankList)
		results = append(results, rs...)
		if err != nil {
			log.Printf("%s: %v (reporting what finished)", name, err)
			break
		}
		sec7 = append(sec7, s7)
	}
	js, _ := json.MarshalIndent(map[string]any{"results": results, "section7": sec7, "steps": *steps, "prompts": *prompts, "beam": *beams}, "", " ")
	if err := os.WriteFile(filepath.Join(*out, "results.json"), js, 0o644); err != nil {
		log.Fatal(err)
	}
	writeMarkdown(os.Stdout, results, sec7)
}

// experiment is one base's sweep.
type experiment struct {
	name, path string
	steps      int
	loraLR     float64
	fullLR     float64
	dec        generate.Options
	groups     []data.Group
	tok        *tokenizer.Tokenizer
	builder    data.Builder
	trainEx    []data.Example
	testEx     []data.Example
	loraModels map[string]*model.Model // q,v runs kept for Section 7, by "r<rank>s<seed>"
	baseSrc    format.Source
}

func (e *experiment) setup(trainPairs, testPairs []data.Pair) error {
	src, vocab, err := convert.OpenModel(e.path, "")
	if err != nil {
		return err
	}
	e.baseSrc = src
	if e.tok, err = tokenizer.New(vocab); err != nil {
		return err
	}
	m, err := e.load(false)
	if err != nil {
		return err
	}
	e.builder = train.BuilderFor(e.tok, min(256, m.Config.Context)) // aidreams260K: context 128
	if e.trainEx, _, err = e.builder.Build(trainPairs, "valid.txt"); err != nil {
		return err
	}
	e.testEx, _, err = e.builder.Build(testPairs, "test.txt")
	e.loraModels = map[string]*model.Model{}
	return err
}

// load reads a fresh copy of the base.
func (e *experiment) load(full bool) (*model.Model, error) {
	return model.Load(e.baseSrc, model.Options{FullFineTune: full})
}

func (e *experiment) run(ctx context.Context, ranks []int) ([]Result, Section7, error) {
	type runSpec struct {
		full    bool
		targets []string
		rank    int
		seed    uint64
	}
	specs := []runSpec{{full: true, seed: 110}}
	for _, t := range [][]string{{"q", "v"}, {"q", "k", "v", "o"}} {
		for _, r := range ranks {
			specs = append(specs, runSpec{targets: t, rank: r, seed: 110})
		}
	}
	specs = append(specs, runSpec{targets: []string{"q", "v"}, rank: ranks[len(ranks)-1], seed: 111})
	var results []Result
	for _, s := range specs {
		m, err := e.load(s.full)
		if err != nil {
			return results, Section7{}, err
		}
		cfg := train.DefaultConfig()
		cfg.Steps, cfg.Warmup, cfg.Seq, cfg.Seed = e.steps, e.steps/10, e.builder.Seq, s.seed
		cfg.LR, cfg.Alpha = e.loraLR, 8 // alpha fixed across ranks, as the paper
		method := "LoRA"
		if s.full {
			cfg.Full, cfg.LR = true, e.fullLR
			method = "full FT"
		} else {
			cfg.Targets, cfg.Rank = s.targets, s.rank
		}
		t, err := train.New(m, cfg, e.trainEx, nil)
		if err != nil {
			return results, Section7{}, err
		}
		peakrss.Reset()
		start := time.Now()
		if err := t.Run(ctx); err != nil {
			return results, Section7{}, err
		}
		secs := time.Since(start).Seconds()
		rss := float64(peakrss.Read()) / (1 << 20)
		loss, err := train.MeanLoss(m, e.testEx, 8)
		if err != nil {
			return results, Section7{}, err
		}
		ev, err := train.Evaluate(ctx, m, e.tok, e.builder, e.groups, e.dec, nil)
		if err != nil {
			return results, Section7{}, err
		}
		r := Result{Base: e.name, Method: method, Targets: strings.Join(s.targets, ","), Rank: s.rank, Seed: s.seed,
			Trainable: t.Trainable(), Steps: t.TotalSteps(), TestLoss: loss, Scores: ev.Scores,
			TokensPerSec: float64(t.State().Tokens) / secs, PeakRSSMiB: rss, Seconds: secs}
		log.Printf("%s %s %s r=%d seed %d: %d params, test loss %.4f, BLEU %.4f, %.0f tok/s", e.name, method, r.Targets, s.rank, s.seed, r.Trainable, loss, ev.Scores.BLEU, r.TokensPerSec)
		results = append(results, r)
		if !s.full && len(s.targets) == 2 {
			e.loraModels[fmt.Sprintf("r%ds%d", s.rank, s.seed)] = m
		}
	}
	s7, err := e.section7(ctx, ranks[len(ranks)-1])
	return results, s7, err
}

// section7 compares the kept q,v adapters.
func (e *experiment) section7(ctx context.Context, rmax int) (Section7, error) {
	s := Section7{Base: e.name, R8vsR32: map[string][3]float64{}, SeedsAtR32: map[string][3]float64{}, Amplification: map[string][4]float64{}}
	mods := func(key string) []analyze.Module { return analyze.FromAdapter(e.loraModels[key].Adapter()) }
	compare := func(a, b string, dst map[string][3]float64) error {
		sim, err := analyze.Compare(ctx, mods(a), mods(b), analyze.CompareOptions{})
		if err != nil {
			return err
		}
		n := map[string]float64{}
		acc := map[string][3]float64{}
		for i, m := range sim.Modules {
			kind := m.Name[strings.LastIndexByte(m.Name, '.')+1:]
			v := acc[kind]
			v[0] += m.PhiRight11
			v[1] += sim.Summary[i].MeanDiagRight
			v[2] += sim.Summary[i].RandomRight11
			acc[kind] = v
			n[kind]++
		}
		for k, v := range acc {
			dst[k] = [3]float64{v[0] / n[k], v[1] / n[k], v[2] / n[k]}
		}
		return nil
	}
	if e.loraModels["r8s110"] == nil {
		return s, nil
	}
	if err := compare("r8s110", fmt.Sprintf("r%ds110", rmax), s.R8vsR32); err != nil {
		return s, err
	}
	if err := compare(fmt.Sprintf("r%ds110", rmax), fmt.Sprintf("r%ds111", rmax), s.SeedsAtR32); err != nil {
		return s, err
	}
	for _, key := range []string{"r4s110", "r8s110", fmt.Sprintf("r%ds110", rmax)} {
		if e.loraModels[key] == nil {
			continue
		}
		base := analyze.NewBase(resolve.View(e.name, e.baseSrc))
		ms, err := base.Modules(e.loraModels[key].Adapter(), key)
		if err != nil {
			return s, err
		}
		amp, err := analyze.Amplify(ctx, ms, base.Stream, analyze.AmplifyOptions{})
		if err != nil {
			return s, err
		}
		acc, n := map[string][4]float64{}, map[string]float64{}
		for _, m := range amp.Modules {
			kind := key[:strings.IndexByte(key, 's')] + " " + m.Name[strings.LastIndexByte(m.Name, '.')+1:]
			v := acc[kind]
			v[0] += m.Amplification
			v[1] += m.ProjDW
			v[2] += m.ProjW
			v[3] += m.ProjRandom
			acc[kind] = v
			n[kind]++
		}
		for k, v := range acc {
			s.Amplification[k] = [4]float64{v[0] / n[k], v[1] / n[k], v[2] / n[k], v[3] / n[k]}
		}
	}
	return s, nil
}

func writeMarkdown(w io.Writer, rs []Result, s7 []Section7) {
	fmt.Fprintln(w, "| base | method | targets | r | trainable | test loss | BLEU | NIST | METEOR (exact) | ROUGE-L | CIDEr | tokens/s | peak RSS MiB |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		rank := "-"
		if r.Rank > 0 {
			rank = fmt.Sprint(r.Rank)
		}
		if r.Seed != 110 {
			rank += fmt.Sprintf(" (seed %d)", r.Seed)
		}
		s := r.Scores
		fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %.3f | %.3f | %.2f | %.3f | %.3f | %.3f | %.0f | %.0f |\n",
			r.Base, r.Method, r.Targets, rank, r.Trainable, r.TestLoss, s.BLEU, s.NIST, s.METEORExact, s.ROUGEL, s.CIDEr, r.TokensPerSec, r.PeakRSSMiB)
	}
	for _, s := range s7 {
		fmt.Fprintf(w, "\n%s — subspace similarity over A's right-singular vectors (mean over layers): φ(1,1), mean φ(i,i), Gaussian control φ(1,1)\n\n", s.Base)
		fmt.Fprintln(w, "| pair | module | φ(1,1) | mean φ(i,i) | random φ(1,1) |\n|---|---|---|---|---|")
		for _, p := range []struct {
			name string
			m    map[string][3]float64
		}{{"r=8 vs r=32", s.R8vsR32}, {"r=32 seed 110 vs 111", s.SeedsAtR32}} {
			for _, k := range []string{"attn_q", "attn_v"} {
				v := p.m[k]
				fmt.Fprintf(w, "| %s | %s | %.3f | %.3f | %.3f |\n", p.name, k, v[0], v[1], v[2])
			}
		}
		fmt.Fprintln(w, "\n| adapter | module | amplification | ‖UᵀWVᵀ‖ (ΔW) | (W) | (random) |\n|---|---|---|---|---|---|")
		for _, k := range []string{"r4 attn_q", "r4 attn_v", "r8 attn_q", "r8 attn_v", "r32 attn_q", "r32 attn_v"} {
			if v, ok := s.Amplification[k]; ok {
				f := strings.Fields(k)
				fmt.Fprintf(w, "| %s | %s | %.2f | %.3f | %.3f | %.3f |\n", f[0], f[1], v[0], v[1], v[2], v[3])
			}
		}
	}
}
