package main

import (
	"encoding/json"
	"testing"

	"github.com/lorakit/lorakit/analyze"
)

// TestExpertAdapterCLI: inspect lists llama.cpp's 3-D expert modules with
// their expert count, and analyze experts compares each stacked module's
// 4 experts (self-similarity 1 on the diagonal).
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
	experts := map[string]int{}
	for _, m := range rep.Adapter.Modules {
		experts[m.Name] = m.Experts
	}
	if experts["blk.1.ffn_up_exps"] != 4 || experts["blk.1.attn_q"] != 0 {
		t.Errorf("inspect: experts %v, want 4 on blk.1.ffn_up_exps and none on attn_q", experts)
	}
	out, errs, code = lorakit(t, "analyze", "experts", "--json", path)
	if code != 0 {
		t.Fatalf("analyze experts exit %d: %s", code, errs)
	}
	var sims []analyze.ExpertSimilarity
	if err := json.Unmarshal([]byte(out), &sims); err != nil {
		t.Fatal(err)
	}
	if len(sims) != 2 || sims[1].Module != "blk.1.ffn_up_exps" || sims[1].Experts != 4 || sims[1].Phi[2][2] < 0.999999 {
		t.Errorf("analyze experts = %+v, want blk.0 and blk.1 ffn_up_exps of 4 experts", sims)
	}
}
