package model

// Input is what an InputObserver sees of one product: the input rows of a
// block projection, before the product.
type Input struct {
	// Weight is the projection's GGUF weight name ("blk.0.attn_q.weight";
	// "blk.0.ffn_up_exps.weight" for every expert of a stack).
	Weight string
	// Expert is the expert of a stack the rows were routed to, and Experts
	// the size of the stack; Experts is 0 for a plain projection.
	Expert, Experts int
	// X holds Rows input rows of Cols values: x (Rows, Cols). It is only
	// valid during the call.
	X          []float32
	Rows, Cols int
}

// InputObserver is called by the forward pass of each block projection
// (router and experts included) with its input rows. Importance matrices
// (package imatrix) are collected this way.
type InputObserver func(in Input)

// SetInputObserver attaches f to every block projection of m (nil
// detaches it). The observer runs in the forward passes of Loss, Forward
// and Session steps, on the calling goroutine.
func (m *Model) SetInputObserver(f InputObserver) {
	for i := range m.blocks {
		b := &m.blocks[i]
		for _, l := range b.linears() {
			l.observer = f
			if f != nil && l.stacked {
				n := len(b.experts)
				l.observer = func(in Input) { in.Experts = n; f(in) }
			}
		}
	}
}

// observe reports the input rows x (n, in) of l to its observer, if any.
func (l *linear) observe(x []float32, n int) {
	if l.observer != nil {
		l.observer(Input{Weight: l.name + ".weight", Expert: l.expert, X: x[:n*l.w.Cols], Rows: n, Cols: l.w.Cols})
	}
}
