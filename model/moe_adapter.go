package model

import "github.com/lorakit/lorakit/lora"

// expertModules returns the block's expert LoRA parts (ApplyExpertLoRA,
// ApplyAdapter) as stacked modules, one per adapted expert tensor
// ("blk.N.ffn_up_exps") in gate, up, down order: expert e's pair in slice
// e, zero for experts without a part (see lora.StackExperts).
func (b *block) expertModules() []*lora.Module {
	var out []*lora.Module
	for which := range 3 {
		mods := make([]*lora.Module, len(b.experts))
		name, any := "", false
		for e, ex := range b.experts {
			l := ex.linear(which)
			name = l.name
			if len(l.parts) == 0 {
				continue
			}
			p := l.parts[0] // ApplyExpertLoRA attaches one part per expert
			mods[e] = &lora.Module{Name: l.name, Rank: p.rank, In: p.in, Out: p.out, Alpha: p.alpha, RSLoRA: p.rsLoRA,
				A: append([]float32(nil), p.a...), B: append([]float32(nil), p.b...)}
			if float64(p.scale) != mods[e].Scale() { // a user scale: fold it into alpha
				mods[e].Alpha, mods[e].RSLoRA = float64(p.scale)*float64(p.rank), false
			}
			any = true
		}
		if !any {
			continue
		}
		if s, err := lora.StackExperts(name, mods); err == nil {
			out = append(out, s)
		}
	}
	return out
}
