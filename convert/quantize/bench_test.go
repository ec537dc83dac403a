//go:build linux

package quantize

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/imatrix"
)

// childEnv makes the test binary quantize "IN|OUT|TYPE" and exit, so
// that a benchmark can measure the peak RSS of a process doing nothing else.
const childEnv = "LORAKIT_QUANTIZE_BENCH_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(spec))
	}
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func runChild(spec string) int {
	args := strings.Split(spec, "|")
	p, err := ParsePreset(args[2])
	opt := Options{Preset: p, Force: true}
	if err == nil && len(args) > 3 {
		opt.Imatrix, err = imatrix.Read(args[3])
	}
	if err == nil {
		_, err = File(context.Background(), args[0], args[1], opt)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The peak resident set of this process since its exec. (The parent's
	// getrusage figure would not do: a child forked from a large parent
	// starts with the parent's resident set.)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			fmt.Println(line)
		}
	}
	return 0
}

var (
	benchOnce  sync.Once
	benchDir   string
	benchFile  string
	benchBytes int64
	benchErr   error
)

// gpt2SmallFile writes (once per process) a GPT-2-small-shaped F32 GGUF
// file, n_embd 768, 12 layers, vocab 50257, context 1024, about 498 MB,
// into /dev/shm when it exists (so the disk does not decide the figures),
// else the temporary directory. It returns the path and the bytes of
// tensor data.
func gpt2SmallFile(b *testing.B) (string, int64) {
	benchOnce.Do(func() {
		root := ""
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			root = "/dev/shm"
		}
		if benchDir, benchErr = os.MkdirTemp(root, "lorakit-quantize-bench-"); benchErr != nil {
			return
		}
		benchFile = filepath.Join(benchDir, "gpt2-small-f32.gguf")
		benchBytes, benchErr = writeGPT2Small(benchFile)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchFile, benchBytes
}

func writeGPT2Small(path string) (int64, error) {
	const embd, ff, layers, vocab, ctx = 768, 3072, 12, 50257, 1024
	infos := []format.TensorInfo{
		{Name: "token_embd.weight", Shape: []int64{vocab, embd}},
		{Name: "position_embd.weight", Shape: []int64{ctx, embd}},
	}
	for i := range layers {
		for _, t := range []struct {
			name  string
			shape []int64
		}{
			{"attn_norm.weight", []int64{embd}}, {"attn_norm.bias", []int64{embd}},
			{"attn_qkv.weight", []int64{3 * embd, embd}}, {"attn_qkv.bias", []int64{3 * embd}},
			{"attn_output.weight", []int64{embd, embd}}, {"attn_output.bias", []int64{embd}},
			{"ffn_norm.weight", []int64{embd}}, {"ffn_norm.bias", []int64{embd}},
			{"ffn_up.weight", []int64{ff, embd}}, {"ffn_up.bias", []int64{ff}},
			{"ffn_down.weight", []int64{embd, ff}}, {"ffn_down.bias", []int64{embd}},
		} {
			infos = append(infos, format.TensorInfo{Name: fmt.Sprintf("blk.%d.%s", i, t.name), Shape: t.shape})
		}
	}
	infos = append(infos, format.TensorInfo{Name: "output_norm.weight", Shape: []int64{embd}}, format.TensorInfo{Name: "output_norm.bias", Shape: []int64{embd}})
	md := format.Metadata{
		{Key: "general.architecture", Value: "gpt2"},
		{Key: "general.name", Value: "bench-gpt2-small"},
		{Key: "gpt2.context_length", Value: uint32(ctx)},
		{Key: "gpt2.embedding_length", Value: uint32(embd)},
		{Key: "gpt2.feed_forward_length", Value: uint32(ff)},
		{Key: "gpt2.block_count", Value: uint32(layers)},
		{Key: "gpt2.attention.head_count", Value: uint32(12)},
		{Key: "gpt2.attention.layer_norm_epsilon", Value: float32(1e-5)},
		{Key: "general.file_type", Value: uint32(0)},
	}
	for i := range infos {
		infos[i].DType = format.F32
	}
	w, err := gguf.Create(path, infos, md, format.CreateOptions{})
	if err != nil {
		return 0, err
	}
	r := rand.New(rand.NewPCG(1, 2))
	var total int64
	var buf []byte
	for _, ti := range infos {
		n, _ := ti.NumElements()
		if cap(buf) < int(4*n) {
			buf = make([]byte, 4*n)
		}
		data := buf[:4*n]
		for i := range int(n) {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(0.02*r.NormFloat64())))
		}
		if err := w.WriteTensor(ti.Name, data); err != nil {
			w.Abort()
			return 0, err
		}
		total += 4 * n
	}
	return total, w.Close()
}

// gpt2SmallImatrix writes (once per process) an importance matrix for the
// GPT-2-small-shaped file beside it: every block weight, per-column sums
// of squares drawn at random over 100 chunks of 512 tokens.
func gpt2SmallImatrix(b *testing.B) string {
	in, _ := gpt2SmallFile(b)
	path := filepath.Join(filepath.Dir(in), "gpt2-small.imatrix.gguf")
	imatrixOnce.Do(func() {
		const embd, ff, layers, tokens = 768, 3072, 12, 51200
		r := rand.New(rand.NewPCG(3, 4))
		m := &imatrix.Matrix{Datasets: []string{"random"}, Chunks: 100, ChunkSize: 512}
		for i := range layers {
			for _, e := range []struct {
				name string
				cols int
			}{{"attn_qkv", embd}, {"attn_output", embd}, {"ffn_up", embd}, {"ffn_down", ff}} {
				sums := make([]float32, e.cols)
				for j := range sums {
					sums[j] = float32(tokens * math.Exp(r.NormFloat64()))
				}
				m.Entries = append(m.Entries, imatrix.Entry{Name: fmt.Sprintf("blk.%d.%s.weight", i, e.name), Cols: e.cols, Sums: sums, Counts: []float32{tokens}})
			}
		}
		imatrixErr = imatrix.Write(path, m, true)
	})
	if imatrixErr != nil {
		b.Fatal(imatrixErr)
	}
	return path
}

var (
	imatrixOnce sync.Once
	imatrixErr  error
)

// BenchmarkFileGPT2SmallImatrix quantizes the GPT-2-small-shaped F32 file
// with an importance matrix to the IQ types, as BenchmarkFileGPT2Small
// does (child process, peak RSS); types without a codec yet are skipped.
func BenchmarkFileGPT2SmallImatrix(b *testing.B) {
	for _, preset := range []string{"IQ4_XS", "IQ3_S", "IQ2_XS"} {
		b.Run(preset, func(b *testing.B) {
			p, err := ParsePreset(preset)
			if err != nil {
				b.Fatal(err)
			}
			if !format.CanEncode(p.Base) {
				b.Skipf("no %v codec yet", p.Base)
			}
			in, n := gpt2SmallFile(b)
			im := gpt2SmallImatrix(b)
			out := filepath.Join(filepath.Dir(in), "out-"+preset+".gguf")
			defer os.Remove(out)
			b.SetBytes(n)
			var peak int64
			for b.Loop() {
				peak = max(peak, runChildBench(b, in+"|"+out+"|"+preset+"|"+im))
			}
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
		})
	}
}

// runChildBench runs one quantization in a child process and returns its
// peak RSS in KiB.
func runChildBench(b *testing.B, spec string) int64 {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+spec)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		b.Fatal(err)
	}
	var kib int64
	if _, err := fmt.Sscanf(strings.TrimSpace(string(stdout)), "VmHWM: %d kB", &kib); err != nil {
		b.Fatalf("child reported %q: %v", stdout, err)
	}
	return kib
}

// BenchmarkFileGPT2Small quantizes the GPT-2-small-shaped F32 file, file
// to file (both on /dev/shm where it exists), in a child process per run:
// MB/s are of F32 input, peak-RSS-MiB is the child's maximum resident set
// (VmHWM), memory-mapped input pages included.
func BenchmarkFileGPT2Small(b *testing.B) {
	for _, preset := range []string{"Q8_0", "Q4_0", "Q4_K_M"} {
		b.Run(preset, func(b *testing.B) {
			in, n := gpt2SmallFile(b)
			out := filepath.Join(filepath.Dir(in), "out-"+preset+".gguf")
			defer os.Remove(out)
			b.SetBytes(n)
			var peak int64
			for b.Loop() {
				peak = max(peak, runChildBench(b, in+"|"+out+"|"+preset))
			}
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
		})
	}
}

// BenchmarkFileInProcess is the same work in the benchmark's own process,
// for allocation counts and profiles (-cpuprofile).
func BenchmarkFileInProcess(b *testing.B) {
	for _, preset := range []string{"Q8_0", "Q4_0"} {
		b.Run(preset, func(b *testing.B) {
			in, n := gpt2SmallFile(b)
			out := filepath.Join(filepath.Dir(in), "out-inproc-"+preset+".gguf")
			defer os.Remove(out)
			p, err := ParsePreset(preset)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := File(context.Background(), in, out, Options{Preset: p, Force: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
