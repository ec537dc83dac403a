package quantize

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the plan as llama-quantize's --dry-run reports it: one
// line per tensor in output order with its shape, its type before and
// after, and its size before and after; then the totals.
func (p *Plan) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "tensor\tshape\ttype\tbytes\tnote\n")
	for _, t := range p.Tensors {
		dims := make([]string, len(t.In.Shape))
		for i, d := range t.In.Shape {
			dims[i] = fmt.Sprint(d)
		}
		var notes []string
		switch {
		case t.Kept:
			notes = append(notes, "kept (--keep)")
		case t.Wanted.Valid():
			notes = append(notes, fmt.Sprintf("fallback from %v", t.Wanted))
		}
		if t.Importance != nil && t.Out.IsBlock() {
			notes = append(notes, "imatrix")
		}
		fmt.Fprintf(tw, "%s\t[%s]\t%v -> %v\t%d -> %d\t%s\n", t.Name, strings.Join(dims, " "), t.In.DType, t.Out, t.InBytes, t.OutBytes, strings.Join(notes, ", "))
	}
	in, out := p.Totals()
	fmt.Fprintf(tw, "total (%d tensors)\t\t%s\t%d -> %d\t%d fallbacks\n", len(p.Tensors), p.Preset, in, out, p.Fallbacks())
	return tw.Flush()
}
