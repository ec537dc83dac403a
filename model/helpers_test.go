package model

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/format/llama2c"
	"github.com/lorakit/lorakit/internal/testshared"
)

// sharedDir returns ../shared beside the module root, skipping the test
// when it is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	return testshared.Path(t, "")
}

// openSource opens a GGUF or llama2.c file.
func openSource(t testing.TB, path string) format.Source {
	t.Helper()
	var src format.Source
	var err error
	if filepath.Ext(path) == ".bin" {
		src, err = llama2c.Open(path)
	} else {
		src, err = gguf.Open(path)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func loadModel(t testing.TB, path string, opts Options) *Model {
	t.Helper()
	m, err := Load(openSource(t, path), opts)
	if err != nil {
		t.Fatalf("Load(%s) = %v", path, err)
	}
	return m
}

// readLogits reads one float per line (llama.cpp's %.9g).
func readLogits(t testing.TB, path string) []float32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []float32
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, err := strconv.ParseFloat(sc.Text(), 32)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, float32(v))
	}
	return out
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, abs64(float64(a[i])-float64(b[i])))
	}
	return d
}

func abs64(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
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

// trainStep runs one forward and backward pass of b, leaving the
// gradients in m.Grads(), and returns the loss.
func trainStep(t testing.TB, m *Model, b Batch) float32 {
	t.Helper()
	m.ZeroGrad()
	loss, err := m.Forward(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Backward(); err != nil {
		t.Fatal(err)
	}
	return loss
}
