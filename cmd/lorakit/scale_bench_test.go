package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lorakit/lorakit/internal/peakrss"
	"github.com/lorakit/lorakit/internal/testshared"
)

// BenchmarkScale8B runs a release of an 8B-class model end to end, on
// disk, as a user would with the lorakit command line: a synthetic
// Llama-3.1-8B-shaped Hugging Face checkpoint (BF16, 4 shards, 16 GB) and
// a rank-16 PEFT adapter on all linear modules are generated, then
// converted to GGUF BF16, quantized to Q8_0 and Q4_K_M, merged into the HF
// base and into the Q4_K_M GGUF, quantized to IQ4_XS (the slowest step,
// last but one), each output verified (when this build has lorakit
// verify), and the adapter analysed with the base. Each
// step's wall time, throughput and peak RSS is printed as it finishes.
// Run it with
//
//	go test ./cmd/lorakit -run '^$' -bench Scale8B -benchtime 1x -timeout 3h
//
// It needs about 55 GB free under $LORAKIT_SCALE_DIR (default the system
// temporary directory) and ../shared (the Llama 3 tokenizer); it skips
// when either is missing. Intermediates are deleted as soon as no later
// step reads them. $LORAKIT_SCALE_STEPS, a regular expression, runs only
// the steps whose names match (the others' inputs are still generated):
// LORAKIT_SCALE_STEPS=analyze runs the adapter analysis alone.
func BenchmarkScale8B(b *testing.B) { benchScale(b, llama3_8B) }

// BenchmarkScaleMid runs the same pipeline on two layers at the 8B
// widths (hidden 4096, FFN 14336, vocabulary 128256; 3 GB BF16, 11 GB of
// disk): every tensor, and so every step's peak RSS, is the 8B run's.
func BenchmarkScaleMid(b *testing.B) { benchScale(b, llama3Mid) }

// BenchmarkScaleTiny runs the same pipeline on a 2-layer model with the
// Llama 3 vocabulary (about 150 MB), to try it in seconds.
func BenchmarkScaleTiny(b *testing.B) { benchScale(b, llama3Tiny) }

// scaleSeed makes the synthetic weights.
const scaleSeed = 8

// maxStreamingRSS is the peak RSS every streaming step must stay under:
// a few tensors, whatever the model's size.
const maxStreamingRSS = 1 << 30

// scaleStep is one command of the release, with the paths it reads
// (whose sizes give its throughput) and the paths to delete after it.
type scaleStep struct {
	name      string
	args      []string
	reads     []string
	writes    string
	streaming bool     // peak RSS must stay under maxStreamingRSS
	remove    []string // deleted once the step has run
}

func benchScale(b *testing.B, s llamaShape) {
	tokDir := testshared.Path(b, "data/tokenizers/llama3")
	root := os.Getenv("LORAKIT_SCALE_DIR")
	if root == "" {
		root = os.TempDir()
	}
	hfBytes := 2 * s.params()
	// On disk at once at the peak: the HF base, the GGUF BF16, the Q4_K_M
	// (under 5 bits a weight) and the merged HF copy, plus the adapter and
	// 1 GiB of slack. (IQ4_XS, the slowest step, runs after the merges so
	// that a run cut short has measured them.)
	need := 3*hfBytes + hfBytes/2*5/8 + 1<<30
	free, err := freeBytes(root)
	if err != nil {
		b.Fatalf("scale: cannot tell the free space of %s: %v", root, err)
	}
	logf("%s: %.2f B parameters, %.1f GB BF16; needs %.1f GB free in %s, %.1f GB free",
		s.name, float64(s.params())/1e9, float64(hfBytes)/1e9, float64(need)/1e9, root, float64(free)/1e9)
	if free < need {
		b.Skipf("scale: %s has %.1f GB free, %s needs %.1f GB (set LORAKIT_SCALE_DIR)", root, float64(free)/1e9, s.name, float64(need)/1e9)
	}
	dir, err := os.MkdirTemp(root, "lorakit-scale-*")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	p := func(name string) string { return filepath.Join(dir, name) }
	hf, peft := p("hf"), p("peft")

	t0 := time.Now()
	written := writeSyntheticLlama(b, hf, tokDir, s, scaleSeed)
	writeSyntheticAdapter(b, peft, hf, s, scaleSeed+1)
	el := time.Since(t0)
	logf("%-28s %8.1f s %8.0f MB/s written", "generate HF + PEFT", el.Seconds(), float64(written)/el.Seconds()/1e6)

	bf16, q8, q4, iq4 := p("bf16.gguf"), p("q8_0.gguf"), p("q4_k_m.gguf"), p("iq4_xs.gguf")
	mergedHF, mergedQ4 := p("merged-hf"), p("merged-q4_k_m.gguf")
	steps := []scaleStep{
		{name: "convert HF -> GGUF BF16", args: []string{"convert", hf, "-o", bf16, "--dtype", "bf16"}, writes: bf16, reads: []string{hf}, streaming: true},
		{name: "quantize BF16 -> Q8_0", args: []string{"quantize", bf16, q8, "Q8_0"}, writes: q8, reads: []string{bf16}, streaming: true},
		{name: "verify Q8_0", args: []string{"verify", q8, "--base", bf16}, reads: []string{q8, bf16}, streaming: true, remove: []string{q8}},
		{name: "quantize BF16 -> Q4_K_M", args: []string{"quantize", bf16, q4, "Q4_K_M"}, writes: q4, reads: []string{bf16}, streaming: true},
		{name: "verify Q4_K_M", args: []string{"verify", q4, "--base", bf16}, reads: []string{q4, bf16}, streaming: true},
		{name: "merge PEFT into HF", args: []string{"merge", hf, "--adapter", peft, "-o", mergedHF}, writes: mergedHF, reads: []string{hf}, streaming: true},
		{name: "verify merged HF", args: []string{"verify", mergedHF, "--base", hf, "--adapter", peft}, reads: []string{mergedHF, hf}, streaming: true, remove: []string{mergedHF}},
		{name: "merge PEFT into Q4_K_M", args: []string{"merge", q4, "--adapter", peft, "-o", mergedQ4}, writes: mergedQ4, reads: []string{q4}, streaming: true},
		{name: "verify merged Q4_K_M", args: []string{"verify", mergedQ4, "--base", q4, "--adapter", peft}, reads: []string{mergedQ4, q4}, streaming: true, remove: []string{mergedQ4, q4}},
		{name: "quantize BF16 -> IQ4_XS", args: []string{"quantize", bf16, iq4, "IQ4_XS"}, writes: iq4, reads: []string{bf16}, streaming: true},
		{name: "verify IQ4_XS", args: []string{"verify", iq4, "--base", bf16}, reads: []string{iq4, bf16}, streaming: true, remove: []string{iq4, bf16}},
		{name: "analyze report (with base)", args: []string{"analyze", "report", peft, "--base", hf, "-o", p("report")}, writes: p("report"), reads: []string{peft, hf}, streaming: true},
	}
	verify := hasCommand("verify")
	if !verify {
		logf("this build has no lorakit verify: verify steps skipped")
	}
	only, err := regexp.Compile(os.Getenv("LORAKIT_SCALE_STEPS"))
	if err != nil {
		b.Fatalf("scale: LORAKIT_SCALE_STEPS: %v", err)
	}
	b.ResetTimer()
	for _, st := range steps {
		if st.args[0] == "verify" && !verify || !only.MatchString(st.name) {
			removeAll(b, st.remove)
			continue
		}
		runScaleStep(b, st)
	}
}

// runScaleStep runs one step in this process and logs its wall time,
// throughput (bytes read per second), output size and peak RSS.
func runScaleStep(b *testing.B, st scaleStep) {
	var in int64
	for _, r := range st.reads {
		in += diskSize(b, r)
	}
	peakrss.Reset()
	t0 := time.Now()
	var stdout, stderr bytes.Buffer
	code := run(st.args, &stdout, &stderr)
	el := time.Since(t0)
	peak := peakrss.Read()
	if code != exitOK {
		b.Fatalf("%s: lorakit %s: exit %d: %s", st.name, strings.Join(st.args, " "), code, strings.TrimSpace(stderr.String()))
	}
	outSize := ""
	if st.writes != "" {
		outSize = fmt.Sprintf(" -> %6.2f GB", float64(diskSize(b, st.writes))/1e9)
	}
	logf("%-28s %8.1f s %8.0f MB/s read  %6.2f GB%s  peak RSS %5.0f MiB", st.name, el.Seconds(),
		float64(in)/el.Seconds()/1e6, float64(in)/1e9, outSize, float64(peak)/(1<<20))
	b.ReportMetric(el.Seconds(), "s/"+metricName(st.name))
	b.ReportMetric(float64(peak)/(1<<20), "MiB-peak/"+metricName(st.name))
	if st.streaming && peak > maxStreamingRSS {
		b.Errorf("%s: peak RSS %.0f MiB, want under %d MiB", st.name, float64(peak)/(1<<20), maxStreamingRSS>>20)
	}
	removeAll(b, st.remove)
}

// metricName turns a step's name into a benchmark unit (no spaces).
func metricName(s string) string {
	return strings.NewReplacer(" -> ", "-", " ", "-", "(", "", ")", "").Replace(s)
}

// logf prints a line to stderr at once (a long run shows its progress and
// keeps what it measured if a later step fails) and to the benchmark log.
func logf(f string, args ...any) {
	fmt.Fprintf(os.Stderr, ""+f+"\n", args...)
}

// removeAll deletes paths no later step reads.
func removeAll(b *testing.B, paths []string) {
	for _, p := range paths {
		if err := os.RemoveAll(p); err != nil {
			b.Fatal(err)
		}
	}
}

// diskSize is the size of a file, or of the files under a directory.
func diskSize(b *testing.B, path string) int64 {
	var n int64
	err := filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// hasCommand reports whether this build of lorakit has the subcommand.
func hasCommand(name string) bool {
	for _, c := range newRootCmd().Commands() {
		if c.Name() == name {
			return true
		}
	}
	return false
}

// params is the number of weights of the checkpoint.
func (s llamaShape) params() int64 {
	var n int64
	for _, t := range s.tensors() {
		e, _ := t.NumElements() // shapes of this file: no overflow
		n += e
	}
	return n
}
