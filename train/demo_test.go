package train

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// mergeTol bounds the logit difference between a merged model and the base
// with the adapter applied at run time: float32 rounding of W + s·B·A
// against x·Wᵀ + s·(x·Aᵀ)·Bᵀ over stories260K's five layers.
const mergeTol = 1e-3

func TestDemoQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo pipeline trains two adapters and writes a report: skipped in -short")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	sum, err := Demo(context.Background(), DemoOptions{Dir: dir, Steps: 6, MaxPrompts: 4, Log: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{sum.Base, sum.Merged, sum.MergedQ8, filepath.Join(sum.Report, "report.md"),
		filepath.Join(sum.Runs[0].Dir, FinalAdapterGGUF), filepath.Join(sum.Runs[1].Dir, FinalAdapterDir, "adapter_model.safetensors"),
		filepath.Join(sum.Runs[0].Dir, LogFile), filepath.Join(sum.Runs[0].Dir, PlotFile)} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("demo output %s: %v", p, err)
		}
	}
	if sum.MergeMaxDiff > mergeTol {
		t.Errorf("merged vs applied logits differ by %g, want <= %g", sum.MergeMaxDiff, mergeTol)
	}
	// stories260K: 5 layers, q 64x64, v 32x64 (4 KV heads of 8): r·(in+out) each
	if want := 5 * 4 * ((64 + 64) + (64 + 32)); sum.Runs[0].Trainable != want {
		t.Errorf("rank-4 q,v trainable parameters = %d, want %d", sum.Runs[0].Trainable, want)
	}
	if !(sum.Runs[1].LossAfter < sum.Runs[1].LossBefore) {
		t.Errorf("rank-16 test loss %.4f -> %.4f, want lower", sum.Runs[1].LossBefore, sum.Runs[1].LossAfter)
	}
}

// testWriter sends a writer's lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
