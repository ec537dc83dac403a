package main

import (
	"fmt"
	"io"
	"time"

	"github.com/lorakit/lorakit/train"
)

// trainProgress shows a run's progress on stderr: on a terminal one line
// redrawn after each step (step, loss, held-out loss, tokens/s, ETA);
// otherwise one line per held-out evaluation, so logs stay short.
type trainProgress struct {
	w        io.Writer
	term     bool
	total    int
	eval     float64
	lastDraw time.Time
}

func newTrainProgress(w io.Writer, total int) *trainProgress {
	return &trainProgress{w: w, term: isTerminal(w), total: total}
}

func (p *trainProgress) record(r train.Record) {
	if r.EvalLoss != 0 {
		p.eval = r.EvalLoss
		if !p.term {
			fmt.Fprintf(p.w, "step %d/%d: held-out loss %.4f\n", r.Step, p.total, r.EvalLoss)
			return
		}
	}
	if !p.term || r.Loss == 0 {
		return
	}
	if time.Since(p.lastDraw) < 100*time.Millisecond && r.Step != p.total {
		return
	}
	p.lastDraw = time.Now()
	eta := "?"
	if r.Step > 0 && r.Elapsed > 0 {
		eta = (time.Duration(r.Elapsed/float64(r.Step)*float64(p.total-r.Step)) * time.Second).Round(time.Second).String()
	}
	const width = 24
	filled := width * r.Step / max(p.total, 1)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < filled {
			bar[i] = '='
		}
	}
	evalText := ""
	if p.eval != 0 {
		evalText = fmt.Sprintf(" eval %.4f", p.eval)
	}
	fmt.Fprintf(p.w, "\r\033[K[%s] %d/%d loss %.4f%s %.0f tok/s ETA %s", bar, r.Step, p.total, r.Loss, evalText, r.TokensPerSec, eta)
}

// done ends the progress line.
func (p *trainProgress) done() {
	if p.term && !p.lastDraw.IsZero() {
		fmt.Fprintln(p.w)
	}
}
