package train

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lorakit/lorakit/model"
)

// cancelAtCall is a context whose Err reports cancellation from its n-th
// call on: a deterministic Ctrl-C at a chosen check.
type cancelAtCall struct {
	context.Context
	n, calls atomic.Int64
}

func (c *cancelAtCall) Err() error {
	if c.calls.Add(1) >= c.n.Load() {
		return context.Canceled
	}
	return nil
}

func (c *cancelAtCall) Done() <-chan struct{} { return nil }

func (c *cancelAtCall) Deadline() (time.Time, bool) { return time.Time{}, false }

// TestCancelMidStep: a cancellation between the micro-batches of an
// accumulated step stops the run there (it was noticed only after the
// step); the half step is undone, so the checkpoint is at the last whole
// step and the resumed run's loss curve is the uninterrupted run's, bit
// for bit.
func TestCancelMidStep(t *testing.T) {
	cfg := tinyConfig()
	cfg.Steps, cfg.Accum, cfg.Dropout, cfg.CheckpointEvery = 6, 2, 0.1, 0
	newTrainer := func(dir string) *Trainer {
		m, tok := loadStories(t, model.Options{})
		tr, te := e2eExamples(t, tok, 256, 40, 8)
		tn, err := New(m, cfg, tr, te)
		if err != nil {
			t.Fatal(err)
		}
		tn.Dir, tn.Metadata = dir, tok.Vocab().Metadata()
		return tn
	}
	whole := newTrainer(t.TempDir())
	if err := whole.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := curve(whole.State().History)

	dir := t.TempDir()
	first := newTrainer(dir)
	// Run checks once per step, StepContext once between the two
	// micro-batches: call 8 is inside step 4, after its first micro-batch.
	ctx := &cancelAtCall{Context: context.Background()}
	ctx.n.Store(8)
	if err := first.Run(ctx); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run = %v, want ErrInterrupted", err)
	}
	st, err := ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Step != 3 || st.Micro != 6 {
		t.Fatalf("checkpoint at step %d, micro-batch %d; want 3, 6 (the half step undone)", st.Step, st.Micro)
	}
	second := newTrainer(dir)
	if err := second.Resume(dir); err != nil {
		t.Fatal(err)
	}
	if err := second.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := curve(second.State().History); !sameBits(got, want) {
		t.Errorf("resumed loss curve differs from the uninterrupted run:\n got %v\nwant %v", got, want)
	}
}
