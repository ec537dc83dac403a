package check

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/convert/quantize"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/transpose"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/resolve"
)

// basePreset is the base's quantization preset, from general.file_type
// (false for a float base).
func basePreset(b *resolve.Base) (quantize.Preset, bool) {
	if ft, ok := b.Src.Metadata().Int("general.file_type"); ok {
		for _, p := range quantize.Presets() {
			if int64(p.FileType) == ft && p.Base.IsBlock() {
				return p, true
			}
		}
	}
	return quantize.Preset{}, false
}

// survivalTypes returns the presets survival is measured for: those asked
// for, else the base's own preset when it is quantized, else Q8_0.
func survivalTypes(b *resolve.Base, asked []quantize.Preset) ([]quantize.Preset, error) {
	if len(asked) > 0 {
		return asked, nil
	}
	if p, ok := basePreset(b); ok {
		return []quantize.Preset{p}, nil
	}
	p, err := quantize.ParsePreset("Q8_0")
	return []quantize.Preset{p}, err
}

// plannedTypes returns, per base tensor and preset, the type
// llama-quantize gives the tensor (its mixtures and fallbacks), planned on
// the base's tensor list in llama.cpp's (out, in) layout.
func plannedTypes(b *resolve.Base, presets []quantize.Preset) map[string]map[string]format.DType {
	out := map[string]map[string]format.DType{}
	src := plan{b.Src}
	for _, p := range presets {
		pl, err := quantize.NewPlan(src, quantize.Options{Preset: p})
		if err != nil {
			continue // survival then uses the preset's own type (see survival)
		}
		for _, t := range pl.Tensors {
			if out[t.In.Name] == nil {
				out[t.In.Name] = map[string]format.DType{}
			}
			out[t.In.Name][p.Name] = t.Out
		}
	}
	return out
}

// plan is a base seen by quantize.NewPlan, which reads only its list.
type plan struct{ format.Source }

// survival measures, for each preset, what of a module's update ΔW a
// release quantized with that preset applies, q = Q(W+ΔW) − Q(W) (see
// Survival). W and ΔW are (out, in), the layout llama.cpp quantizes, rows
// of in values.
func survival(b *resolve.Base, t resolve.Target, m *lora.Module, user float64, presets []quantize.Preset, planned map[string]format.DType, mr *ModuleReport) error {
	w, err := b.Weight(t)
	if err != nil {
		return err
	}
	merged := make([]float32, len(w))
	m.DeltaInto(merged) // ΔW without the user scale
	f := float32(user)
	for i := range merged {
		merged[i] = w[i] + f*merged[i]
	}
	if m.Magnitude != nil {
		merge.DoRAMerge(merged, m.Out, m.In, m.Magnitude)
	}
	var dn, wn float64
	for i := range w {
		d := float64(merged[i]) - float64(w[i])
		dn += d * d
		wn += float64(w[i]) * float64(w[i])
	}
	mr.DeltaNorm, mr.WNorm = math.Sqrt(dn), math.Sqrt(wn)
	mr.Survival = map[string]Survival{}
	for _, p := range presets {
		dt, ok := planned[p.Name]
		if !ok {
			dt = p.Base
		}
		if !dt.IsBlock() && dt != format.F16 && dt != format.BF16 {
			mr.Survival[p.Name] = Survival{Type: dt.String(), Ratio: 1, Cosine: 1}
			continue
		}
		rows, cols, sw, sm := m.Out, m.In, w, merged
		if m.Embedding { // llama.cpp stores embeddings (vocab, dim): rows of Out values
			rows, cols = m.In, m.Out
			sw, sm = transpose.Of(w, m.Out, m.In), transpose.Of(merged, m.Out, m.In)
		}
		if dt.IsBlock() && cols%dt.BlockSize() != 0 {
			return fmt.Errorf("%d rows of %d values are not whole %v blocks", rows, cols, dt)
		}
		qw, err := roundTrip(sw, dt)
		if err != nil {
			return err
		}
		qm, err := roundTrip(sm, dt)
		if err != nil {
			return err
		}
		var norm2, dot, err2 float64
		for i := range qw {
			q := float64(qm[i]) - float64(qw[i]) // the update the release applies
			d := float64(sm[i]) - float64(sw[i])
			norm2 += q * q
			dot += q * d
			err2 += (q - d) * (q - d)
		}
		sv := Survival{Type: dt.String()}
		if dn > 0 {
			sv.Ratio, sv.Error = math.Sqrt(norm2/dn), math.Sqrt(err2/dn)
			if norm2 > 0 {
				sv.Cosine = dot / math.Sqrt(norm2*dn)
			}
		}
		mr.Survival[p.Name] = sv
	}
	return nil
}

// roundTrip quantizes x to dt and back.
func roundTrip(x []float32, dt format.DType) ([]float32, error) {
	n, err := dt.RowBytes(int64(len(x)))
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	if err := format.FromFloat32(buf, x, dt); err != nil {
		return nil, err
	}
	out := make([]float32, len(x))
	return out, format.ToFloat32(out, buf, dt)
}
