package analyze

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Figure layout: pixels at figureDPI, panels of panelWidth×panelHeight
// inches laid out in at most panelCols columns.
const (
	figureDPI    = 96
	panelWidth   = 3.2 // inches
	panelHeight  = 2.4 // inches
	panelCols    = 4
	colorBarWide = 0.9 // inches, beside the φ heatmaps
	ampWidth     = 8.0 // inches, the amplification chart
	ampHeight    = 4.0
)

// Figure is one PNG of a report.
type Figure struct {
	// File is the PNG's name inside the report directory.
	File string `json:"file"`
	// Title says what it shows.
	Title string `json:"title"`
	// Width and Height are its size in pixels.
	Width  int `json:"width"`
	Height int `json:"height"`

	draw func(dc draw.Canvas) error
}

// pixels is the PNG size of a canvas of w×h inches, as vgimg rounds it.
func pixels(inches float64) int {
	return int(inches*figureDPI + 0.5)
}

// newFigure prepares a figure of w×h inches drawn by fn.
func newFigure(file, title string, w, h float64, fn func(dc draw.Canvas) error) Figure {
	return Figure{File: file, Title: title, Width: pixels(w), Height: pixels(h), draw: fn}
}

// WritePNG renders the figure as PNG to w.
func (f Figure) WritePNG(w io.Writer) error {
	c := vgimg.NewWith(
		vgimg.UseWH(vg.Length(f.Width)/figureDPI*vg.Inch, vg.Length(f.Height)/figureDPI*vg.Inch),
		vgimg.UseDPI(figureDPI),
		vgimg.UseBackgroundColor(color.White))
	if err := f.draw(draw.New(c)); err != nil {
		return fmt.Errorf("analyze: figure %s: %w", f.File, err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(w); err != nil {
		return fmt.Errorf("analyze: figure %s: %w", f.File, err)
	}
	return nil
}

// grid returns rows and columns for n panels.
func grid(n int) (rows, cols int) {
	cols = min(n, panelCols)
	return (n + cols - 1) / cols, cols
}

// drawTiles draws plots (row-major, n of them) in a rows×cols grid with
// aligned axes.
func drawTiles(dc draw.Canvas, plots []*plot.Plot, rows, cols int) {
	tiled := make([][]*plot.Plot, rows)
	for i := range tiled {
		tiled[i] = make([]*plot.Plot, cols)
		for j := range cols {
			if k := i*cols + j; k < len(plots) {
				tiled[i][j] = plots[k]
			}
		}
	}
	t := draw.Tiles{
		Rows: rows, Cols: cols,
		PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 2,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2,
	}
	canvases := plot.Align(tiled, t, dc)
	for i := range rows {
		for j := range cols {
			if tiled[i][j] != nil {
				tiled[i][j].Draw(canvases[i][j])
			}
		}
	}
}

// logTicks labels a log axis with powers of ten only.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	if !(min > 0) || !(max >= min) {
		return ticks
	}
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		v := math.Pow(10, e)
		if v >= min && v <= max {
			ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("1e%d", int(e))})
		}
	}
	if len(ticks) < 2 {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	return ticks
}
