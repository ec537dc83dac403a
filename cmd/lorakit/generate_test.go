package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/model"
	"github.com/spf13/cobra"
)

// storiesIDs is stories260K's greedy continuation of BOS (PROVENANCE.md
// §5a: checked with an independent numpy forward pass and llama2.c's
// documented output).
var storiesIDs = []int{403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433}

// lmCLI runs the command line with generate, logits and score registered
// (whether or not root.go lists them yet) and returns stdout, the exit
// status run would give and the error.
func lmCLI(t *testing.T, args ...string) (string, int, error) {
	t.Helper()
	root := newRootCmd()
	for _, c := range []*cobra.Command{newGenerateCmd(), newLogitsCmd(), newScoreCmd()} {
		if sub, _, err := root.Find([]string{c.Name()}); err != nil || sub == root {
			root.AddCommand(c)
		}
	}
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.ExecuteContext(context.Background())
	code := exitOK
	var ue usageError
	switch {
	case err == nil:
	case errors.As(err, &ue) || isArgsError(err):
		code = exitUsage
	default:
		code = exitFail
	}
	return out.String(), code, err
}

func generateJSON(t *testing.T, args ...string) generateReport {
	t.Helper()
	out, code, err := lmCLI(t, append([]string{"generate", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("generate %v: exit %d: %v", args, code, err)
	}
	var rep generateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("generate --json output %q: %v", out, err)
	}
	return rep
}

func TestGenerateEmbedded(t *testing.T) {
	rep := generateJSON(t, "-n", "30")
	if !slices.Equal(rep.PromptTokens, []int{1}) || !slices.Equal(rep.Tokens, storiesIDs) || rep.Reason != "length" {
		t.Errorf("generate --json -n 30 = %+v, want prompt [1], tokens %v, reason length", rep, storiesIDs)
	}
	if want := "Once upon a time, there was a little girl named Lily. She loved to play outside in the park"; rep.Text != want {
		t.Errorf("text = %q, want %q", rep.Text, want)
	}
	// Without --json the same text streams to stdout, then a newline.
	out, code, err := lmCLI(t, "generate", "-n", "30")
	if code != 0 || out != rep.Text+"\n" {
		t.Errorf("generate -n 30 = %q (exit %d, %v), want %q", out, code, err, rep.Text+"\n")
	}
	// An empty prompt starts from BOS too.
	if e := generateJSON(t, "-n", "30", "--prompt", ""); !slices.Equal(e.Tokens, storiesIDs) {
		t.Errorf("generate --prompt '' = %v, want %v", e.Tokens, storiesIDs)
	}
	// The greedy path from BOS passes through "Once upon a time,": from
	// that prompt greedy decoding continues along it.
	p := generateJSON(t, "-n", "10", "--prompt", "Once upon a time,")
	if want := append([]int{1}, storiesIDs[:5]...); !slices.Equal(p.PromptTokens, want) || !slices.Equal(p.Tokens, storiesIDs[5:15]) {
		t.Errorf("generate --prompt 'Once upon a time,' = %v then %v, want %v then %v", p.PromptTokens, p.Tokens, want, storiesIDs[5:15])
	}
	if !strings.HasPrefix(p.Text, " there was a little girl named Lily.") {
		t.Errorf("continuation text %q, want it to start with %q", p.Text, " there was a little girl named Lily.")
	}
}

func TestGenerateStopsAtBOS(t *testing.T) {
	// A llama2.c story ends where the model starts the next with BOS.
	rep := generateJSON(t, "-n", "512")
	if rep.Reason != "stop" || slices.Contains(rep.Tokens, 1) || slices.Contains(rep.Tokens, 2) {
		t.Errorf("generate -n 512 = %d tokens, reason %q; want a story ending at BOS/EOS", len(rep.Tokens), rep.Reason)
	}
	rep = generateJSON(t, "-n", "20", "--stop", strconv.Itoa(storiesIDs[5]))
	if !slices.Equal(rep.Tokens, storiesIDs[:5]) || rep.Reason != "stop" {
		t.Errorf("generate --stop %d = %v (%s), want %v (stop)", storiesIDs[5], rep.Tokens, rep.Reason, storiesIDs[:5])
	}
}

func TestGenerateAidreams(t *testing.T) {
	path := sharedPath(t, "data/models/aidreams260K/aidreams260K.bin")
	rep := generateJSON(t, path, "-n", "10")
	want := []int{319, 459, 355, 260, 275, 429, 339, 315, 374, 327}
	if !slices.Equal(rep.Tokens, want) {
		t.Errorf("generate aidreams260K = %v, want %v", rep.Tokens, want)
	}
	// PROVENANCE.md §5b: '"Echoes of vectors unfold, ...'
	if !strings.HasPrefix(rep.Text, `"Echoes of vectors unfold`) {
		t.Errorf("generate aidreams260K text = %q, want it to start with %q", rep.Text, `"Echoes of vectors unfold`)
	}
}

func TestGenerateSamplingAndBeam(t *testing.T) {
	a := generateJSON(t, "-n", "40", "--temp", "1", "--top-p", "0.9", "--seed", "5")
	b := generateJSON(t, "-n", "40", "--temp", "1", "--top-p", "0.9", "--seed", "5")
	if !slices.Equal(a.Tokens, b.Tokens) || len(a.Tokens) == 0 {
		t.Errorf("two runs with --seed 5 gave %v and %v", a.Tokens, b.Tokens)
	}
	beam := generateJSON(t, "-n", "40", "--beam", "4", "--length-penalty", "0.9", "--no-repeat-ngram", "4")
	if len(beam.Tokens) == 0 {
		t.Fatalf("beam search generated nothing")
	}
	seen := map[[4]int]bool{}
	for i := 0; i+4 <= len(beam.Tokens); i++ {
		k := [4]int(beam.Tokens[i : i+4])
		if seen[k] {
			t.Errorf("beam search with --no-repeat-ngram 4 repeats %v in %v", k, beam.Tokens)
		}
		seen[k] = true
	}
}

func TestGenerateErrors(t *testing.T) {
	long := filepath.Join(t.TempDir(), "long.txt")
	cases := []struct {
		name string
		args []string
		code int
		is   error
	}{
		{"negative temperature", []string{"generate", "--temp", "-1"}, exitUsage, nil},
		{"zero tokens", []string{"generate", "-n", "0"}, exitUsage, nil},
		{"beam and temperature", []string{"generate", "--beam", "3", "--temp", "1"}, exitUsage, nil},
		{"top-p above 1", []string{"generate", "--top-p", "2"}, exitUsage, nil},
		{"two models", []string{"generate", "a", "b"}, exitUsage, nil},
		{"bad flag value", []string{"generate", "-n", "x"}, exitUsage, nil},
		{"missing model", []string{"generate", filepath.Join(t.TempDir(), "none.gguf")}, exitFail, format.ErrNotFound},
		{"prompt longer than the context", []string{"generate", "--prompt", strings.Repeat("Once upon a time, ", 200)}, exitFail, model.ErrContext},
		{"missing tokenizer file", []string{"generate", "--tokenizer", long}, exitFail, format.ErrNotFound},
		{"logits: token id out of range", []string{"logits", "--tokens", "1,512"}, exitFail, model.ErrTokenRange},
		{"logits: negative token id", []string{"logits", "--tokens", "-1"}, exitFail, model.ErrTokenRange},
		{"logits: more tokens than the context", []string{"logits", "--tokens", strings.Repeat("1,", 512) + "1"}, exitFail, model.ErrContext},
		{"logits: no tokens", []string{"logits"}, exitUsage, nil},
		{"logits: tokens not numbers", []string{"logits", "--tokens", "a,b"}, exitUsage, nil},
		{"score: no text", []string{"score"}, exitUsage, nil},
		{"score: missing text", []string{"score", "--text", long}, exitFail, format.ErrNotFound},
		{"missing adapter", []string{"logits", "--tokens", "1", "--adapter", long + ":0.5"}, exitFail, format.ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, code, err := lmCLI(t, c.args...)
			if code != c.code {
				t.Errorf("lorakit %v: exit %d (%v), want %d", c.args, code, err, c.code)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("lorakit %v: err = %v, want %v", c.args, err, c.is)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("lorakit %v: error of several lines: %q", c.args, err)
			}
		})
	}
}

func TestScoreOneToken(t *testing.T) {
	f := filepath.Join(t.TempDir(), "empty.txt")
	os.WriteFile(f, nil, 0o644)
	_, code, err := lmCLI(t, "score", "--text", f)
	if code != exitFail || !errors.Is(err, format.ErrShape) {
		t.Errorf("score of an empty text: exit %d, err %v; want 1, ErrShape", code, err)
	}
}

// readLogits reads a fixture logits file: one %.9g float32 per line.
func readLogits(t *testing.T, path string) []float32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []float32
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, err := strconv.ParseFloat(strings.TrimSpace(sc.Text()), 32)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, float32(v))
	}
	return out
}

// Tolerances against llama.cpp's logits (issue 7): F32 llama 1e-4; F32
// GPT-2 5e-4, since llama.cpp's GELU goes through an F16 table.
const (
	tolLlamaLogits = 1e-4
	tolGPT2Logits  = 5e-4
)

func TestLogitsMatchLlamaCpp(t *testing.T) {
	dir := sharedPath(t, "fixtures")
	cases := []struct {
		model, adapter, tokens, want string
		tol                          float64
	}{
		{"llama-f32.gguf", "", "1,2,3,4,5", "llama-f32__ids1-5.txt", tolLlamaLogits},
		{"llama-f32.gguf", "llama-lora-r8.gguf", "1,2,3,4,5", "llama-f32+llama-lora-r8-runtime-s1.0__ids1-5.txt", tolLlamaLogits},
		{"llama-merged-f32.gguf", "", "1,2,3,4,5", "llama-merged-f32__ids1-5.txt", tolLlamaLogits},
		{"gpt2-f32.gguf", "", "10,20,30,40,50,60,70", "gpt2-f32__ids10-70.txt", tolGPT2Logits},
		{"gpt2-f32.gguf", "gpt2-lora-r4.gguf:1.0", "1,2,3,4,5", "gpt2-f32+gpt2-lora-r4-runtime-s1.0__ids1-5.txt", tolGPT2Logits},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			args := []string{"logits", filepath.Join(dir, c.model), "--tokens", c.tokens, "--json"}
			if c.adapter != "" {
				args = append(args, "--adapter", filepath.Join(dir, c.adapter))
			}
			out, code, err := lmCLI(t, args...)
			if code != 0 {
				t.Fatalf("lorakit %v: exit %d: %v", args, code, err)
			}
			var rep logitsReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			want := readLogits(t, filepath.Join(dir, "logits", c.want))
			if len(rep.Logits) != len(want) {
				t.Fatalf("%d logits, want %d", len(rep.Logits), len(want))
			}
			var worst float64
			for i := range want {
				worst = max(worst, math.Abs(float64(rep.Logits[i]-want[i])))
			}
			if worst > c.tol {
				t.Errorf("logits differ from llama.cpp's by up to %.3g, want < %g", worst, c.tol)
			}
			if ids := strings.Split(c.tokens, ","); len(rep.Tokens) != len(ids) {
				t.Errorf("tokens %v, want %v", rep.Tokens, ids)
			}
		})
	}
	// The text form prints the same numbers, one per line.
	m := filepath.Join(dir, "llama-f32.gguf")
	out, code, _ := lmCLI(t, "logits", m, "--tokens", "1,2,3,4,5")
	lines := strings.Fields(out)
	want := readLogits(t, filepath.Join(dir, "logits", "llama-f32__ids1-5.txt"))
	if code != 0 || len(lines) != len(want) {
		t.Fatalf("logits text form: exit %d, %d lines, want %d", code, len(lines), len(want))
	}
	for i, l := range lines {
		v, _ := strconv.ParseFloat(l, 32)
		if math.Abs(v-float64(want[i])) > tolLlamaLogits {
			t.Fatalf("line %d = %s, llama.cpp %v", i, l, want[i])
		}
	}
}

// tolNLL: PROVENANCE.md states the mean NLL to three digits (0.324).
const tolNLL = 0.0005

func TestScoreStories(t *testing.T) {
	// PROVENANCE.md §5a's figure: the greedy story's opening through "big,
	// red ball.", BOS first, tokenized with tok512.
	text := filepath.Join(t.TempDir(), "story.txt")
	os.WriteFile(text, []byte("Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball."), 0o644)
	models := [][]string{{}} // embedded
	if shared := testshared.Find(); shared != "" {
		models = append(models, []string{filepath.Join(shared, "data/models/stories260K/stories260K.bin")})
	}
	for _, m := range models {
		args := append(append([]string{"score"}, m...), "--text", text, "--json")
		out, code, err := lmCLI(t, args...)
		if code != 0 {
			t.Fatalf("lorakit %v: exit %d: %v", args, code, err)
		}
		var rep scoreReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if math.Abs(rep.MeanNLL-0.324) > tolNLL || math.Abs(rep.Perplexity-math.Exp(rep.MeanNLL)) > 1e-9 || rep.Chunks != 1 {
			t.Errorf("score %v = %+v, want mean NLL 0.324 in 1 chunk", m, rep)
		}
	}
}

// TestScoreChunks checks the chunking: a text of more than one context is
// scored as consecutive windows, each computed on its own, which is the
// same as summing the NLLs of separate runs of score over the windows.
func TestScoreChunks(t *testing.T) {
	story := "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
	text := filepath.Join(t.TempDir(), "long.txt")
	os.WriteFile(text, []byte(strings.Repeat(story, 24)), 0o644)
	out, code, err := lmCLI(t, "score", "--text", text, "--json")
	if code != 0 {
		t.Fatalf("score: exit %d: %v", code, err)
	}
	var rep scoreReport
	json.Unmarshal([]byte(out), &rep)
	if rep.Chunks < 2 || rep.MeanNLL <= 0 {
		t.Fatalf("score of %d tokens = %+v, want several chunks", rep.Tokens, rep)
	}
	// Recompute with token-by-token sessions, restarting at each chunk.
	l, err := openLM("", lmOptions{}, runOptions)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(text)
	ids := l.Tokenizer.Encode(string(raw))
	C := l.Model.Config.Context
	var sum float64
	for lo := 0; lo < len(ids)-1; lo += C {
		s := l.Model.NewSession()
		for i := lo; i < min(lo+C, len(ids)-1); i++ {
			logits, err := s.Step(ids[i : i+1])
			if err != nil {
				t.Fatal(err)
			}
			sum -= logSoftmaxAt(logits, ids[i+1])
		}
	}
	if want := sum / float64(len(ids)-1); math.Abs(rep.MeanNLL-want) > 1e-4 {
		t.Errorf("score mean NLL %v, token-by-token recomputation %v", rep.MeanNLL, want)
	}
}

func logSoftmaxAt(logits []float32, id int) float64 {
	m := math.Inf(-1)
	for _, v := range logits {
		m = max(m, float64(v))
	}
	var s float64
	for _, v := range logits {
		s += math.Exp(float64(v) - m)
	}
	return float64(logits[id]) - m - math.Log(s)
}

// TestGenerateModelKinds runs generate on each kind of MODEL: a Hugging
// Face directory (tokenizer files beside the weights), a GGUF with its
// tokenizer in the metadata, a quantized GGUF, a llama2.c checkpoint.
func TestGenerateModelKinds(t *testing.T) {
	data := sharedPath(t, "data/models")
	fixtures := sharedPath(t, "fixtures")
	cases := []struct {
		model string
		args  []string
	}{
		{filepath.Join(data, "lm-buddy-tiny-gpt2-random"), []string{"--prompt", "hello"}},
		{filepath.Join(data, "llama-2-tiny-random.gguf"), []string{"--prompt", "Hello"}},
		{filepath.Join(fixtures, "llama-q4_k_m.gguf"), nil},
		{filepath.Join(fixtures, "gpt2-q8_0.gguf"), []string{"--beam", "3"}},
		{filepath.Join(data, "stories260K", "stories260K.bin"), nil},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.model), func(t *testing.T) {
			rep := generateJSON(t, append([]string{c.model, "-n", "6"}, c.args...)...)
			if len(rep.PromptTokens) == 0 || len(rep.Tokens) == 0 || len(rep.Tokens) > 6 {
				t.Errorf("generate %s = %+v, want a prompt and 1-6 tokens", c.model, rep)
			}
		})
	}
}

// TestAdapterScale checks --adapter PATH:SCALE: at scale 0 the logits are
// the base model's, at scale 1 (the default) llama.cpp's runtime-LoRA ones.
func TestAdapterScale(t *testing.T) {
	dir := sharedPath(t, "fixtures")
	base := filepath.Join(dir, "llama-f32.gguf")
	adapter := filepath.Join(dir, "llama-lora-r8.gguf")
	logits := func(args ...string) []float32 {
		out, code, err := lmCLI(t, append([]string{"logits", base, "--tokens", "1,2,3,4,5", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("logits %v: exit %d: %v", args, code, err)
		}
		var rep logitsReport
		json.Unmarshal([]byte(out), &rep)
		return rep.Logits
	}
	plain := logits()
	if got := logits("--adapter", adapter+":0"); !slices.Equal(got, plain) {
		t.Errorf("logits with the adapter at scale 0 differ from the base model's")
	}
	if got := logits("--adapter", adapter); slices.Equal(got, plain) {
		t.Errorf("logits with the adapter at scale 1 equal the base model's")
	}
}

// TestGenerateConvertedGGUF: stories260K converted to GGUF (tokenizer in
// its metadata) decodes exactly as the llama2.c checkpoint does.
func TestGenerateConvertedGGUF(t *testing.T) {
	bin := sharedPath(t, "data/models/stories260K/stories260K.bin")
	out := filepath.Join(t.TempDir(), "stories260K.gguf")
	if err := convert.Model(context.Background(), bin, out, convert.ModelOptions{To: "gguf"}); err != nil {
		t.Fatal(err)
	}
	rep := generateJSON(t, out, "-n", "30")
	if !slices.Equal(rep.Tokens, storiesIDs) || !strings.HasPrefix(rep.Text, "Once upon a time, there was a little girl named Lily.") {
		t.Errorf("generate on the GGUF conversion = %v %q, want %v", rep.Tokens, rep.Text, storiesIDs)
	}
}
