package analyze

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// layerGroups groups module indices by layer (ascending; modules without a
// layer number last, as layer -1) and lists the module types in order of
// first appearance.
func layerGroups(names []string) (layers []int, byLayer map[int][]int, kinds []string) {
	byLayer = map[int][]int{}
	for i, n := range names {
		l, k := splitName(n)
		if _, ok := byLayer[l]; !ok {
			layers = append(layers, l)
		}
		byLayer[l] = append(byLayer[l], i)
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	last := func(l int) int { // layer -1 sorts after all numbered layers
		if l < 0 {
			return math.MaxInt
		}
		return l
	}
	slices.SortFunc(layers, func(a, b int) int { return cmp.Compare(last(a), last(b)) })
	return layers, byLayer, kinds
}

// spectrumFigure plots the singular values of every module, one panel per
// layer, one line per module type, σ_i on a log axis (zeros left out).
func spectrumFigure(s *Spectrum) Figure {
	names := make([]string, len(s.Modules))
	for i, m := range s.Modules {
		names[i] = m.Name
	}
	layers, byLayer, kinds := layerGroups(names)
	rows, cols := grid(len(layers))
	return newFigure("spectra.png", "Singular values of ΔW per layer",
		panelWidth*float64(cols), panelHeight*float64(rows),
		func(dc draw.Canvas) error {
			var plots []*plot.Plot
			for li, l := range layers {
				p := plot.New()
				p.Title.Text = "other modules"
				if l >= 0 {
					p.Title.Text = fmt.Sprintf("layer %d", l)
				}
				p.X.Label.Text = "i"
				p.Y.Label.Text = "σ_i"
				added := 0
				for _, mi := range byLayer[l] {
					m := s.Modules[mi]
					var pts plotter.XYs
					for i, v := range m.SingularValues {
						if v > 0 && v >= m.SingularValues[0]*1e-15 {
							pts = append(pts, plotter.XY{X: float64(i + 1), Y: v})
						}
					}
					if len(pts) == 0 {
						continue
					}
					_, kind := splitName(m.Name)
					line, points, err := plotter.NewLinePoints(pts)
					if err != nil {
						return err
					}
					c := plotutil.Color(slices.Index(kinds, kind))
					line.Color, points.Color = c, c
					points.Radius = vg.Points(1.5)
					p.Add(line, points)
					added++
				}
				if added > 0 { // a log axis needs positive data
					p.Y.Scale = plot.LogScale{}
					p.Y.Tick.Marker = logTicks{}
				}
				if li == 0 {
					for ki, k := range kinds {
						swatch := &plotter.Line{LineStyle: draw.LineStyle{Color: plotutil.Color(ki), Width: vg.Points(1)}}
						p.Legend.Add(k, swatch)
					}
					p.Legend.Top = true
				}
				plots = append(plots, p)
			}
			drawTiles(dc, plots, rows, cols)
			return nil
		})
}
