package train

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/lorakit/lorakit/internal/atomicfile"
)

// Output files of a run beside the checkpoint.
const (
	LogFile  = "train.jsonl"
	PlotFile = "loss.png"
)

// Log appends records to Dir/train.jsonl, one JSON object per line.
type Log struct {
	f *os.File
	w *bufio.Writer
}

// OpenLog starts dir/train.jsonl with the records of history (a resumed
// run's, dropping any line written after its checkpoint) and returns the
// log to append to.
func OpenLog(dir string, history []Record) (*Log, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	path := filepath.Join(dir, LogFile)
	if err := atomicfile.CheckOutput(path, true); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	l := &Log{f: f, w: bufio.NewWriter(f)}
	for _, r := range history {
		if err := l.Write(r); err != nil {
			f.Close()
			return nil, err
		}
	}
	return l, nil
}

// Write appends one record and flushes it.
func (l *Log) Write(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("train: log: %w", err)
	}
	l.w.Write(b)
	l.w.WriteByte('\n')
	if err := l.w.Flush(); err != nil {
		return fmt.Errorf("train: log: %w", err)
	}
	return nil
}

// Close closes the log file.
func (l *Log) Close() error { return l.f.Close() }

// WriteLossPlot draws the training loss (per step, and its moving average)
// and the held-out loss against the step into a PNG at path (replaced
// atomically).
func WriteLossPlot(path string, history []Record, title string) error {
	var train, eval plotter.XYs
	for _, r := range history {
		switch {
		case r.Loss != 0 && !math.IsNaN(r.Loss):
			train = append(train, plotter.XY{X: float64(r.Step), Y: r.Loss})
		case r.EvalLoss != 0 && !math.IsNaN(r.EvalLoss):
			eval = append(eval, plotter.XY{X: float64(r.Step), Y: r.EvalLoss})
		}
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "optimizer step"
	p.Y.Label.Text = "cross-entropy (nats/token)"
	p.Legend.Top = true
	add := func(pts plotter.XYs, name string, i int, points bool) error {
		if len(pts) == 0 {
			return nil
		}
		if points {
			l, s, err := plotter.NewLinePoints(pts)
			if err != nil {
				return err
			}
			l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
			s.Radius = vg.Points(2)
			p.Add(l, s)
			p.Legend.Add(name, l, s)
			return nil
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(i)
		p.Add(l)
		p.Legend.Add(name, l)
		return nil
	}
	if err := add(train, "training loss", 0, false); err != nil {
		return fmt.Errorf("train: plot: %w", err)
	}
	if err := add(movingAverage(train, 20), "training loss (mean of 20)", 2, false); err != nil {
		return fmt.Errorf("train: plot: %w", err)
	}
	if err := add(eval, "held-out loss", 1, true); err != nil {
		return fmt.Errorf("train: plot: %w", err)
	}
	wt, err := p.WriterTo(8*vg.Inch, 5*vg.Inch, "png")
	if err != nil {
		return fmt.Errorf("train: plot: %w", err)
	}
	f, err := atomicfile.Create(path, true)
	if err != nil {
		return err
	}
	if _, err := wt.WriteTo(f); err != nil {
		f.Abort()
		return fmt.Errorf("train: plot: %w", err)
	}
	return f.Commit()
}

// movingAverage returns the trailing mean of up to k points (nil when
// there are fewer than 2k points: nothing to smooth).
func movingAverage(pts plotter.XYs, k int) plotter.XYs {
	if len(pts) < 2*k {
		return nil
	}
	out := make(plotter.XYs, len(pts))
	sum := 0.0
	for i, p := range pts {
		sum += p.Y
		if i >= k {
			sum -= pts[i-k].Y
		}
		out[i] = plotter.XY{X: p.X, Y: sum / float64(min(i+1, k))}
	}
	return out
}
