package model

import (
	"errors"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// dropoutModel is a tiny model with LoRA dropout on q, v and down whose
// B is non-zero, so the masks change the loss.
func dropoutModel(t *testing.T, tc tinyConfig) *Model {
	t.Helper()
	m, err := Load(tinySource(tc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddLoRA(LoRAConfig{Targets: []string{"q", "v", "down"}, Rank: 2, Alpha: 2, Dropout: 0.5, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	for i := range m.Params() {
		m.Params()[i] = 0.5
	}
	return m
}

// TestDropoutStateResumes: restoring a saved dropout state into a fresh
// model makes its later Forward passes draw the same masks, bit for bit,
// as the model the state was saved from.
func TestDropoutStateResumes(t *testing.T) {
	for _, c := range []struct {
		tc       tinyConfig
		perLayer int // generators per layer: GPT-2's q and v share attn_qkv's
	}{{tinyGPT2, 2}, {tinyLlama, 3}} {
		tc := c.tc
		t.Run(tc.arch, func(t *testing.T) {
			b := tinyBatch(tc.vocab, 2, 6, 3)
			a := dropoutModel(t, tc)
			if _, err := a.Forward(b); err != nil { // advance the generators
				t.Fatal(err)
			}
			state := a.DropoutState()
			if want := c.perLayer * tc.layers * pcgStateSize; len(state) != want {
				t.Fatalf("len(DropoutState()) = %d, want %d", len(state), want)
			}
			r := dropoutModel(t, tc)
			if err := r.SetDropoutState(state); err != nil {
				t.Fatalf("SetDropoutState = %v", err)
			}
			fresh := dropoutModel(t, tc)
			for step := range 3 {
				la, _ := a.Forward(b)
				lr, _ := r.Forward(b)
				lf, _ := fresh.Forward(b)
				if la != lr {
					t.Errorf("step %d: Forward after SetDropoutState = %v, want %v", step, lr, la)
				}
				if step == 0 && lf == la {
					t.Errorf("step %d: a fresh model's Forward = %v equals the advanced one's: the test cannot tell states apart", step, lf)
				}
			}
		})
	}
}

func TestSetDropoutStateBad(t *testing.T) {
	m := dropoutModel(t, tinyLlama)
	good := m.DropoutState()
	corrupt := append([]byte(nil), good...)
	corrupt[0] = 'x' // not "pcg:"
	for _, c := range []struct {
		name  string
		state []byte
	}{{"empty", nil}, {"short", good[:len(good)-1]}, {"long", append(append([]byte(nil), good...), 0)}, {"corrupt", corrupt}} {
		t.Run(c.name, func(t *testing.T) {
			if err := m.SetDropoutState(c.state); !errors.Is(err, format.ErrFormat) {
				t.Errorf("SetDropoutState(%d bytes) = %v, want %v", len(c.state), err, format.ErrFormat)
			}
			if got := m.DropoutState(); string(got) != string(good) {
				t.Errorf("a refused SetDropoutState changed the state")
			}
		})
	}
	plain, _ := Load(tinySource(tinyLlama), Options{})
	if s := plain.DropoutState(); len(s) != 0 {
		t.Errorf("DropoutState() without LoRA = %d bytes, want 0", len(s))
	}
	if err := plain.SetDropoutState(nil); err != nil {
		t.Errorf("SetDropoutState(nil) without LoRA = %v, want nil", err)
	}
}
