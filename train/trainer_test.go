package train

import (
	"context"
	"testing"
	"time"

	"github.com/lorakit/lorakit/model"
)

func TestTrainLowersHeldOutLoss(t *testing.T) {
	m, tok := loadStories(t, model.Options{})
	tr, te := e2eExamples(t, tok, 256, 64, 24)
	cfg := tinyConfig()
	tn, err := New(m, cfg, tr, te)
	if err != nil {
		t.Fatal(err)
	}
	before, err := tn.EvalLoss()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := tn.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d steps, %d tokens in %v", tn.State().Step, tn.State().Tokens, time.Since(start))
	after, err := tn.EvalLoss()
	if err != nil {
		t.Fatal(err)
	}
	if !(after < before-0.1) {
		t.Errorf("held-out loss %.4f -> %.4f, want a drop of more than 0.1", before, after)
	}
	t.Logf("held-out loss %.4f -> %.4f", before, after)
}
