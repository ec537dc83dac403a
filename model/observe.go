package model

// InputObserver is called by the forward pass of each block projection
// with the projection's GGUF weight name ("blk.0.attn_q.weight") and its
// input rows, before the product:
//
//	x (rows, cols)
//
// x is only valid during the call. Importance matrices (package imatrix)
// are collected this way.
type InputObserver func(weight string, x []float32, rows, cols int)

// SetInputObserver attaches f to every block projection of m (nil
// detaches it). The observer runs in the forward passes of Loss, Forward
// and Session steps, on the calling goroutine.
func (m *Model) SetInputObserver(f InputObserver) {
	for i := range m.blocks {
		for _, l := range m.blocks[i].linears() {
			l.observer = f
		}
	}
}

// observe reports the input rows x (n, in) of l to its observer, if any.
func (l *linear) observe(x []float32, n int) {
	if l.observer != nil {
		l.observer(l.name+".weight", x[:n*l.w.Cols], n, l.w.Cols)
	}
}
