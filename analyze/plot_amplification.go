package analyze

import (
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// amplificationFigure plots the rows of Table 7 across modules: ‖UᵀWVᵀ‖_F
// for U, V from W, from ΔW and from a random matrix, with ‖ΔW‖_F, on a log
// axis against the module's position in the adapter.
func amplificationFigure(a *Amplification) Figure {
	return newFigure("amplification.png", "‖UᵀWVᵀ‖_F by source of U, V (paper Table 7)", ampWidth, ampHeight,
		func(dc draw.Canvas) error {
			p := plot.New()
			p.Title.Text = "‖UᵀWVᵀ‖_F by source of U, V"
			p.X.Label.Text = "module"
			p.Y.Label.Text = "Frobenius norm"
			series := []struct {
				name string
				get  func(ModuleAmplification) float64
			}{
				{"U, V of W", func(m ModuleAmplification) float64 { return m.ProjW }},
				{"U, V of ΔW", func(m ModuleAmplification) float64 { return m.ProjDW }},
				{"U, V random", func(m ModuleAmplification) float64 { return m.ProjRandom }},
				{"‖ΔW‖_F", func(m ModuleAmplification) float64 { return m.DWFrobenius }},
			}
			added := 0
			for si, s := range series {
				var pts plotter.XYs
				for i, m := range a.Modules {
					if v := s.get(m); v > 0 {
						pts = append(pts, plotter.XY{X: float64(i + 1), Y: v})
					}
				}
				if len(pts) == 0 {
					continue
				}
				sc, err := plotter.NewScatter(pts)
				if err != nil {
					return err
				}
				sc.Color = plotutil.Color(si)
				sc.Shape = plotutil.Shape(si)
				sc.Radius = vg.Points(2.5)
				p.Add(sc)
				p.Legend.Add(s.name, sc)
				added++
			}
			if added > 0 {
				p.Y.Scale = plot.LogScale{}
				p.Y.Tick.Marker = logTicks{}
				p.Y.Max *= 30 // headroom for the legend
			}
			p.Legend.Top = true
			p.Draw(dc)
			return nil
		})
}
