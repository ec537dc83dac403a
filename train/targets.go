package train

import (
	"strings"

	"github.com/lorakit/lorakit/arch"
)

// GGUFTargets returns targets with each PEFT-style module name (as in
// target_modules: "q_proj", "self_attn.v_proj", Phi-3's "qkv_proj" and
// "gate_up_proj", GPT-2's "c_attn") replaced by the llama.cpp module it
// names in the architecture archName ("attn_q", "attn_v", "attn_qkv",
// "ffn_up"): the module whose Hugging Face tensor name in the family's
// table ends with "." + name + ".weight". A fused module so named is
// adapted whole, as PEFT does. Names without "_" or "." (the model's
// short names q, v, gate, ...) are never looked up, so "gate" keeps its
// meaning and never becomes Qwen-MoE's router (mlp.gate); names the table
// does not have pass unchanged, for the model to accept or refuse.
func GGUFTargets(archName string, targets []string) []string {
	f, err := arch.Lookup(archName)
	if err != nil {
		return targets
	}
	out := make([]string, len(targets))
	for i, t := range targets {
		out[i] = t
		t = strings.TrimSpace(t)
		if !strings.ContainsAny(t, "_.") {
			continue
		}
		for _, tn := range f.Tensors {
			mod, ok := strings.CutPrefix(tn.GGUF, "blk.{L}.")
			mod, isWeight := strings.CutSuffix(mod, ".weight")
			if ok && isWeight && strings.HasSuffix(tn.HF, "."+t+".weight") {
				out[i] = mod
				break
			}
		}
	}
	return out
}
