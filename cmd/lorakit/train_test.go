package main

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/model/embedded"
	"github.com/lorakit/lorakit/train"
)

// e2eFile writes n lines of the embedded E2E slice to a file.
func e2eFile(t *testing.T, part string, n int) string {
	t.Helper()
	tr, te, err := train.EmbeddedE2E()
	if err != nil {
		t.Fatal(err)
	}
	pairs := tr
	if part == "test" {
		pairs = te
	}
	var b strings.Builder
	for _, p := range pairs[:min(n, len(pairs))] {
		b.WriteString(p.Prompt + "||" + p.Completion + "\n")
	}
	path := filepath.Join(t.TempDir(), part+".txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// storiesGGUF writes the embedded stories260K with its tokenizer as GGUF.
func storiesGGUF(t *testing.T) string {
	t.Helper()
	m := loadFrom(t, embedded.Source)
	v, err := embedded.Vocab()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stories260K.gguf")
	if err := train.WriteModel(t.Context(), m, v.Metadata(), path); err != nil {
		t.Fatal(err)
	}
	return path
}

// readLog parses train.jsonl.
func readLog(t *testing.T, dir string) []train.Record {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, train.LogFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []train.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r train.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("train.jsonl line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

func evalLosses(recs []train.Record) []float64 {
	var out []float64
	for _, r := range recs {
		if r.EvalLoss != 0 {
			out = append(out, r.EvalLoss)
		}
	}
	return out
}

// shortRun is a few steps of training with a learning rate for them.
var shortRun = []string{"--steps", "12", "--batch", "4", "--lr", "1e-2", "--warmup", "2", "--eval-every", "6", "--save-every", "6", "--seq", "256"}

func TestTrainCLIAdapterRoundTrip(t *testing.T) {
	base := storiesGGUF(t)
	trainData, testData := e2eFile(t, "train", 64), e2eFile(t, "test", 24)
	out := filepath.Join(t.TempDir(), "run")
	args := append([]string{"train", base, "--data", trainData, "--eval-data", testData, "-o", out, "--json"}, shortRun...)
	stdout, stderr, code := lorakit(t, args...)
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	var sum trainSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("train --json: %v: %q", err, stdout)
	}
	ev := evalLosses(readLog(t, out))
	if len(ev) != 3 || !(ev[2] < ev[0]-0.1) {
		t.Errorf("held-out losses %v: want 3 (steps 0, 6, 12), the last lower by > 0.1", ev)
	}
	for _, f := range []string{train.PlotFile, train.FinalAdapterGGUF, "adapter/adapter_config.json", "checkpoint/optimizer.safetensors"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("output %s: %v", f, err)
		}
	}
	peft := filepath.Join(out, train.FinalAdapterDir)

	// The PEFT adapter loads in merge, convert and analyze.
	merged := filepath.Join(t.TempDir(), "merged.gguf")
	if _, stderr, code := lorakit(t, "merge", base, "--adapter", peft, "-o", merged); code != 0 {
		t.Fatalf("merge exit %d: %s", code, stderr)
	}
	conv := filepath.Join(t.TempDir(), "converted.gguf")
	if _, stderr, code := lorakit(t, "convert", peft, "-o", conv, "--base", base); code != 0 {
		t.Fatalf("convert exit %d: %s", code, stderr)
	}
	if stdout, stderr, code := lorakit(t, "analyze", "spectrum", peft, "--json"); code != 0 || !json.Valid([]byte(stdout)) {
		t.Fatalf("analyze exit %d: %s", code, stderr)
	}

	// Merging gives the logits of applying the adapter at run time.
	applied := loadModel(t, base)
	a, err := lora.Open(peft)
	if err != nil {
		t.Fatal(err)
	}
	if err := convert.ToGGUFNames(a, base); err != nil {
		t.Fatal(err)
	}
	if err := applied.ApplyAdapter(a, 1); err != nil {
		t.Fatal(err)
	}
	m2 := loadModel(t, merged)
	tokens := []int{1, 403, 407, 261, 378, 432}
	la, err := applied.Logits(tokens)
	if err != nil {
		t.Fatal(err)
	}
	lm, err := m2.Logits(tokens)
	if err != nil {
		t.Fatal(err)
	}
	// float32 rounding of W + s·B·A against the low-rank path, 5 layers:
	// about 3 x the 6.7e-6 measured.
	const mergeTol = 2e-5
	for i := range la {
		if d := math.Abs(float64(la[i] - lm[i])); d > mergeTol {
			t.Fatalf("logit %d: merged %v, applied %v (diff %g > %g)", i, lm[i], la[i], d, mergeTol)
		}
	}
	// ... and the converted GGUF adapter is the same update.
	g, err := lora.Open(conv)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Modules) != len(a.Modules) {
		t.Errorf("converted adapter has %d modules, want %d", len(g.Modules), len(a.Modules))
	}

	// Eval with the adapter runs and scores.
	stdout, stderr, code = lorakit(t, "eval", base, "--adapter", peft, "--data", testData, "--limit", "2", "--json", "-o", filepath.Join(t.TempDir(), "pred.txt"))
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, stderr)
	}
	var rep evalReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || rep.Prompts != 2 {
		t.Errorf("eval --json = %q (%v), want 2 prompts", stdout, err)
	}
}

func TestTrainCLIQuantizedBase(t *testing.T) {
	base := storiesGGUF(t)
	q8 := filepath.Join(t.TempDir(), "q8.gguf")
	if _, stderr, code := lorakit(t, "quantize", base, q8, "Q8_0"); code != 0 {
		t.Fatalf("quantize exit %d: %s", code, stderr)
	}
	out := filepath.Join(t.TempDir(), "run")
	args := append([]string{"train", q8, "--data", e2eFile(t, "train", 64), "--eval-data", e2eFile(t, "test", 24), "-o", out}, shortRun...)
	if _, stderr, code := lorakit(t, args...); code != 0 {
		t.Fatalf("train on Q8_0 exit %d: %s", code, stderr)
	}
	ev := evalLosses(readLog(t, out))
	if len(ev) < 2 || !(ev[len(ev)-1] < ev[0]-0.1) {
		t.Errorf("held-out losses on the Q8_0 base %v: want a drop > 0.1", ev)
	}
}

func TestTrainCLIBadInput(t *testing.T) {
	good := e2eFile(t, "train", 16)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	long := "name : " + strings.Repeat("The Eagle ", 200) + "||It is fine .\n"
	for _, c := range []struct {
		name string
		args []string
		want int
	}{
		{"malformed line", []string{"--data", write("bad.txt", "a||b\nno separator here\n"), "--format", "e2e"}, exitFail},
		{"empty data", []string{"--data", write("empty.txt", ""), "--format", "e2e"}, exitFail},
		{"missing data", []string{"--data", filepath.Join(dir, "absent.txt")}, exitFail},
		{"rank larger than the layer", []string{"--data", good, "--rank", "100"}, exitFail},
		{"too long, no truncation", []string{"--data", write("long.txt", long), "--no-truncate", "--seq", "64"}, exitFail},
		{"unknown target", []string{"--data", good, "--targets", "q,zz"}, exitFail},
		{"bad learning rate", []string{"--data", good, "--lr", "-1"}, exitUsage},
		{"no output", []string{"--data", good}, exitUsage},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			args := append([]string{"train"}, c.args...)
			if c.name != "no output" {
				args = append(args, "-o", out)
			}
			_, stderr, code := lorakit(t, append(args, "--steps", "2")...)
			if code != c.want {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.want, stderr)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); code == exitFail && n > 0 {
				t.Errorf("error is %d lines, want one: %q", n+1, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("output directory created on bad input")
			}
		})
	}
	t.Run("too long is truncated with a warning", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "run")
		_, stderr, code := lorakit(t, "train", "--data", write("long2.txt", long+strings.Repeat("name : A||B c .\n", 3)), "--seq", "64", "--steps", "1", "--batch", "2", "-o", out)
		if code != 0 || !strings.Contains(stderr, "truncated") {
			t.Errorf("exit %d, stderr %q: want success with a truncation warning", code, stderr)
		}
	})
}

// TestTrainCLIFull: --full writes OUT/model.gguf, a GGUF model with the
// tokenizer that generate runs, trained away from the base: the embedded
// stories260K, and Gemma 3 (../shared/fixtures/arch, its E2E lines as text:
// the fixture's vocabulary is mostly bytes).
func TestTrainCLIFull(t *testing.T) {
	for _, c := range []struct {
		name string
		base func(t *testing.T) (arg []string, path string)
		data []string
	}{
		{"stories260K", func(t *testing.T) ([]string, string) { return nil, storiesGGUF(t) }, []string{"--seq", "128"}},
		{"gemma3", func(t *testing.T) ([]string, string) {
			p := sharedPath(t, "fixtures/arch/gemma3-f32.gguf")
			return []string{p}, p
		}, []string{"--seq", "64", "--format", "text"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			arg, base := c.base(t)
			out := filepath.Join(t.TempDir(), "run")
			args := append(append([]string{"train"}, arg...), "--full", "--data", e2eFile(t, "train", 16), "-o", out, "--json",
				"--steps", "3", "--batch", "4", "--lr", "1e-3", "--warmup", "1")
			stdout, stderr, code := lorakit(t, append(args, c.data...)...)
			if code != 0 {
				t.Fatalf("train --full exit %d: %s", code, stderr)
			}
			var sum trainSummary
			if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
				t.Fatalf("train --full --json: %v: %q", err, stdout)
			}
			if want := filepath.Join(out, train.FinalModelGGUF); sum.Model != want || sum.AdapterGGUF != "" {
				t.Fatalf("train --full --json: model %q, adapter %q; want model %q and no adapter", sum.Model, sum.AdapterGGUF, want)
			}
			rep := generateJSON(t, sum.Model, "-n", "8")
			if len(rep.Tokens) == 0 || rep.Text == "" {
				t.Errorf("generate %s = %+v, want text", sum.Model, rep)
			}
			tuned, err := loadModel(t, sum.Model).Logits(rep.PromptTokens)
			if err != nil {
				t.Fatal(err)
			}
			orig, err := loadModel(t, base).Logits(rep.PromptTokens)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(tuned, orig) {
				t.Errorf("model.gguf computes the base's logits: training did not reach it")
			}
		})
	}
}

// loadModel loads the model file at path.
func loadModel(t *testing.T, path string) *model.Model {
	t.Helper()
	return loadFrom(t, func() (format.Source, error) { return format.Open(path) })
}

// loadFrom loads the model of the Source open returns.
func loadFrom(t *testing.T, open func() (format.Source, error)) *model.Model {
	t.Helper()
	src, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	m, err := model.Load(src, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEvalCLIRefusesText: eval needs prompts and references; a file that
// reads as plain text (no "||" on its first line) is a usage error, told
// before the model is loaded.
func TestEvalCLIRefusesText(t *testing.T) {
	p := filepath.Join(t.TempDir(), "stories.txt")
	if err := os.WriteFile(p, []byte("Once upon a time.\n\nThe end.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--data", p}, {"--data", p, "--format", "text"}} {
		if _, stderr, code := lorakit(t, append([]string{"eval"}, args...)...); code != exitUsage || !strings.Contains(stderr, "references") {
			t.Errorf("eval %v: exit %d, stderr %q; want %d and a message about references", args, code, stderr, exitUsage)
		}
	}
}
