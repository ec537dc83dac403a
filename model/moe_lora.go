package model

// expertTargets maps AddLoRA target names to the stacked expert tensors
// they adapt (0 ffn_gate_exps, 1 ffn_up_exps, 2 ffn_down_exps).
var expertTargetNames = map[string][]int{
	"gate_exps": {0}, "ffn_gate_exps": {0}, "up_exps": {1}, "ffn_up_exps": {1},
	"down_exps": {2}, "ffn_down_exps": {2}, "experts": {0, 1, 2},
}

// expertLinearsFor returns the projections of block l's experts that the
// target name t adapts, one per expert and tensor; ok is false when t
// names no expert tensor.
func (m *Model) expertLinearsFor(l int, t string) (lins []*linear, ok bool) {
	which, ok := expertTargetNames[t]
	if !ok {
		return nil, false
	}
	for _, w := range which {
		for _, e := range m.blocks[l].experts {
			lins = append(lins, e.linear(w))
		}
	}
	return lins, true
}
