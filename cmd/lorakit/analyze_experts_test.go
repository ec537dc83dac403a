package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/lorakit/lorakit/analyze"
	"github.com/lorakit/lorakit/lora"
)

// TestExpertAdapterCLI: inspect lists llama.cpp's 3-D expert modules with
// their expert count, and analyze experts compares each stacked module's
// experts (self-similarity 1 on the diagonal).
func TestExpertAdapterCLI(t *testing.T) {
	path := sharedPath(t, "fixtures/arch/mixtral-lora-r4.gguf")
	out, errs, code := lorakit(t, "inspect", "--json", path)
	if code != 0 {
		t.Fatalf("inspect exit %d: %s", code, errs)
	}
	var rep inspectReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	a, err := lora.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	experts := map[string]int{}
	for _, m := range rep.Adapter.Modules {
		experts[m.Name] = m.Experts
	}
	E := a.Module("blk.0.ffn_up_exps").Experts
	if E < 2 || experts["blk.0.ffn_up_exps"] != E || experts["blk.0.attn_q"] != 0 {
		t.Errorf("inspect: experts %v, want %d on blk.0.ffn_up_exps and none on attn_q", experts, E)
	}
	out, errs, code = lorakit(t, "analyze", "experts", "--json", path)
	if code != 0 {
		t.Fatalf("analyze experts exit %d: %s", code, errs)
	}
	var sims []analyze.ExpertSimilarity
	if err := json.Unmarshal([]byte(out), &sims); err != nil {
		t.Fatal(err)
	}
	if len(sims) == 0 || sims[0].Module != "blk.0.ffn_up_exps" || sims[0].Experts != E || sims[0].Phi[E-1][E-1] < 0.999999 {
		t.Errorf("analyze experts = %+v, want blk.0.ffn_up_exps first, of %d experts", sims, E)
	}
}

// TestAmplificationOfExperts: amplification against a MoE base reports
// every expert of a stacked module as its own row, measured against that
// expert's slice of the stacked weight.
func TestAmplificationOfExperts(t *testing.T) {
	path := sharedPath(t, "fixtures/arch/mixtral-lora-r4.gguf")
	out, errs, code := lorakit(t, "analyze", "amplification", "--json", "--module", "ffn_up_exps",
		path, "--base", sharedPath(t, "fixtures/arch/mixtral-f32.gguf"))
	if code != 0 {
		t.Fatalf("analyze amplification exit %d: %s", code, errs)
	}
	var amp analyze.Amplification
	if err := json.Unmarshal([]byte(out), &amp); err != nil {
		t.Fatal(err)
	}
	a, err := lora.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, m := range a.Modules {
		for e := range m.Experts {
			want = append(want, fmt.Sprintf("%s[%d]", m.Name, e))
		}
	}
	for _, m := range amp.Modules {
		got = append(got, m.Name)
	}
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("amplification rows %v, want %v", got, want)
	}
}
