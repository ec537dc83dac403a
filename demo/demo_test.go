package demo

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/train"
)

// TestDemoQuick runs every stage of the demo, reduced (a few steps, a few
// prompts; fewer still with -short). Run itself fails when its merge check
// exceeds MergeTol.
func TestDemoQuick(t *testing.T) {
	steps, prompts := 6, 4
	if testing.Short() {
		steps, prompts = 2, 1
	}
	dir := filepath.Join(t.TempDir(), "demo")
	sum, err := Run(context.Background(), Options{Dir: dir, Steps: steps, MaxPrompts: prompts, Log: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{sum.Base, sum.Merged, sum.MergedQ8, filepath.Join(sum.Report, "report.md"),
		filepath.Join(sum.Runs[0].Dir, train.FinalAdapterGGUF), filepath.Join(sum.Runs[1].Dir, train.FinalAdapterDir, "adapter_model.safetensors"),
		filepath.Join(sum.Runs[0].Dir, train.LogFile), filepath.Join(sum.Runs[0].Dir, train.PlotFile)} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("demo output %s: %v", p, err)
		}
	}
	if !(sum.MergeMaxDiff <= MergeTol) {
		t.Errorf("merged vs applied logits differ by %g, want <= %g", sum.MergeMaxDiff, MergeTol)
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
