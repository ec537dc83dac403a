package quant

// One scale trial of the IQ3 block search (iqBlock with dim 4) in SIMD
// lanes: the levels of the block's 32 values at the trial's inverse scale,
// each group's packed index looked up on the grid, the off-grid groups'
// best neighbours (the lane scan of gridlanes.go), and the block's sums
// Σ (w·x)·q and Σ (w·q)·q added value by value in ggml's order, so the
// trial is iqBlock's scalar one bit for bit.

// iq3Lanes is one block's trial state, shared with iq3TrialAVX2 (offsets
// pinned by TestLaneLayout).
type iq3Lanes struct {
	xval, waux [32]float32 // |x| and sqrt(w)
	wx, w      [32]float32 // float32(w·|x|) and w
	L          [32]int32   // the trial's levels (output)
	p1, p2     [32]float32 // the sums' terms (scratch)
	u          [8]int32    // packed indices, groups 0,2,4,6,1,3,5,7 (scratch)
	id, scale  float32     // the trial's inverse scale and 1/id
	sumqx      float32     // output: Σ (w·x)·q
	sumq2      float32     // output: Σ (w·q)·q
	onGrid     uint32      // output: bit k set where group k is on the grid
	_          uint32
	index      *int32 // the grid's point of each packed index, or -1
	lv         *uint8 // its lane layout (laneNeighbours)
	off, cnt   *int32
}

// start sets t up for the block xval (32 magnitudes) with weights w on
// grid g; false where the lane kernels are off or g has no lane layout.
func (t *iq3Lanes) start(g *iqGrid, xval, w, waux []float32) bool {
	if !useLanes || g.lanes == nil || g.dim != 4 || len(xval) != 32 {
		return false
	}
	t.index, t.lv, t.off, t.cnt = &g.index[0], &g.lanes.lv[0], &g.lanes.off[0], &g.lanes.cnt[0]
	copy(t.xval[:], xval)
	copy(t.waux[:], waux)
	copy(t.w[:], w)
	for i, v := range t.xval {
		t.wx[i] = float32(t.w[i] * v)
	}
	return true
}

// trial runs one trial at inverse scale id (scale 1/id): Laux receives the
// levels, onAux which groups were on the grid; it returns the sums.
func (t *iq3Lanes) trial(id, scale float32, Laux *[32]int8, onAux *[8]bool) (sumqx, sumq2 float32) {
	t.id, t.scale = id, scale
	iq3Kernel(t)
	for i, l := range t.L {
		Laux[i] = int8(l)
	}
	for k := range onAux {
		onAux[k] = t.onGrid>>k&1 != 0
	}
	return t.sumqx, t.sumq2
}
