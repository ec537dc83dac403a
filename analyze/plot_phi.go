package analyze

import (
	"math"
	"strconv"

	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// phiPanels is the number of layers shown per heatmap figure: like the
// paper's Figure 3 (layers 1, 32, 64, 96 of 96), evenly spaced from the
// first to the last layer.
const phiPanels = 4

// phiGrid adapts a φ grid to plotter.GridXYZ: columns j, rows i, 1-based.
type phiGrid [][]float64

func (g phiGrid) Dims() (c, r int)   { return len(g[0]), len(g) }
func (g phiGrid) Z(c, r int) float64 { return g[r][c] }
func (g phiGrid) X(c int) float64    { return float64(c + 1) }
func (g phiGrid) Y(r int) float64    { return float64(r + 1) }

// spread picks up to k of n indices, evenly spaced, first and last included.
func spread(n, k int) []int {
	if n <= k {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, k)
	for i := range k {
		idx[i] = i * (n - 1) / (k - 1)
	}
	return idx
}

// phiFigures returns, per module type, one heatmap figure of φ over the
// right-singular vectors of A and one over the left-singular vectors of B,
// each with up to phiPanels layers, in the style of the paper's Figures 3-4.
func phiFigures(s *Similarity) []Figure {
	names := make([]string, len(s.Modules))
	for i, m := range s.Modules {
		names[i] = m.Name
	}
	layers, byLayer, kinds := layerGroups(names)
	var figs []Figure
	used := map[string]bool{}
	for _, kind := range kinds {
		var mods []ModuleSimilarity // this type, by layer
		for _, l := range layers {
			for _, mi := range byLayer[l] {
				if _, k := splitName(s.Modules[mi].Name); k == kind {
					mods = append(mods, s.Modules[mi])
				}
			}
		}
		var pick []ModuleSimilarity
		for _, i := range spread(len(mods), phiPanels) {
			pick = append(pick, mods[i])
		}
		base := "phi-" + fileSafe(kind)
		for n := 2; used[base]; n++ {
			base = fmt.Sprintf("phi-%s-%d", fileSafe(kind), n)
		}
		used[base] = true
		for _, side := range []struct{ suffix, what string }{{"A", "right-singular vectors of A"}, {"B", "left-singular vectors of B"}} {
			figs = append(figs, phiFigure(base+"-"+side.suffix+".png",
				fmt.Sprintf("φ(i, j) of %s, %s", kind, side.what), pick, side.suffix == "A"))
		}
	}
	return figs
}

// phiFigure draws one heatmap per module side by side and a colour bar.
func phiFigure(file, title string, mods []ModuleSimilarity, right bool) Figure {
	n := len(mods)
	return newFigure(file, title, panelWidth*float64(n)+colorBarWide, panelHeight,
		func(dc draw.Canvas) error {
			cm := moreland.Kindlmann()
			cm.SetMin(0)
			cm.SetMax(1)
			pal := cm.Palette(256)
			var plots []*plot.Plot
			for _, m := range mods {
				g := m.PhiLeft
				if right {
					g = m.PhiRight
				}
				p := plot.New()
				layer, kind := splitName(m.Name)
				p.Title.Text = kind
				if layer >= 0 {
					p.Title.Text = fmt.Sprintf("layer %d %s", layer, kind)
				}
				p.X.Label.Text = fmt.Sprintf("j (rank %d)", m.RankB)
				p.Y.Label.Text = fmt.Sprintf("i (rank %d)", m.RankA)
				p.Y.Scale = plot.InvertedScale{Normalizer: plot.LinearScale{}} // i = 1 at the top
				p.X.Tick.Marker, p.Y.Tick.Marker = rankTicks, rankTicks
				h := plotter.NewHeatMap(phiGrid(g), pal)
				h.Min, h.Max = 0, 1
				p.Add(h)
				plots = append(plots, p)
			}
			bar := vg.Length(colorBarWide) * vg.Inch
			drawTiles(draw.Crop(dc, 0, -bar, 0, 0), plots, 1, n)

			cb := plot.New()
			cb.HideX()
			cb.Y.Label.Text = "φ"
			cb.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})
			cb.Draw(draw.Crop(dc, dc.Size().X-bar, 0, vg.Millimeter*8, -vg.Millimeter*4))
			return nil
		})
}

// rankTicks labels whole ranks (the centres of the φ cells), at most about
// eight of them, always including the first.
var rankTicks = plot.TickerFunc(func(lo, hi float64) []plot.Tick {
	first, last := int(math.Ceil(lo)), int(math.Floor(hi))
	step := max(1, (last-first+1)/8)
	var ticks []plot.Tick
	for v := first; v <= last; v += step {
		ticks = append(ticks, plot.Tick{Value: float64(v), Label: strconv.Itoa(v)})
	}
	return ticks
})

// SimilarityFigure draws φ over the right-singular vectors of A (the
// paper's Figure 3 view) for up to phiPanels of the compared modules,
// spread over the layers, as one PNG-ready figure named file.
func SimilarityFigure(s *Similarity, file string) Figure {
	pick := make([]ModuleSimilarity, 0, phiPanels)
	for _, i := range spread(len(s.Modules), phiPanels) {
		pick = append(pick, s.Modules[i])
	}
	return phiFigure(file, "φ(i, j), right-singular vectors of A", pick, true)
}
