package quant

// One scale trial of the IQ3 and IQ2 block searches (iqBlock) in SIMD
// lanes: the levels of the block's values at the trial's inverse scale,
// each group's packed index looked up on the grid, the off-grid groups'
// best neighbours (the lane scan of gridlanes.go), and the block's sums
// Σ (w·x)·q and Σ (w·q)·q added value by value in ggml's order, so the
// trial is iqBlock's scalar one bit for bit.

// iqTrial is one block's trial state, shared with iq3TrialAVX2 and
// iq2TrialAVX2 (offsets pinned by TestLaneLayout).
type iqTrial struct {
	xval, waux [32]float32 // |x| and sqrt(w)
	wx, w      [32]float32 // float32(w·|x|) and w
	L          [32]int32   // the trial's levels (output)
	p1, p2     [32]float32 // the sums' terms (scratch)
	u          [8]int32    // packed indices (scratch; IQ3: groups 0,2,4,6,1,3,5,7)
	id, scale  float32     // the trial's inverse scale and 1/id
	sumqx      float32     // output: Σ (w·x)·q
	sumq2      float32     // output: Σ (w·q)·q
	onGrid     uint32      // output: bit k set where group k is on the grid
	n          uint32      // values in the block: 32 (IQ3, IQ2_XXS) or 16
	index      *int32      // the grid's point of each packed index, or -1
	lv         *uint8      // its lane layout (laneNeighbours)
	off, cnt   *int32
	dim        int // 4 (IQ3) or 8 (IQ2)
}

// start sets t up for the block xval (magnitudes) with weights w on grid
// g with levels below kMaxQ; false where the lane kernels are off or do
// not cover the shape (IQ3: 32 values, kMaxQ 8; IQ2: 16 or 32, kMaxQ 3).
func (t *iqTrial) start(g *iqGrid, kMaxQ int32, xval, w, waux []float32) bool {
	n := len(xval)
	if !useLanes || g.lanes == nil || !(g.dim == 4 && n == 32 && kMaxQ == 8 || g.dim == 8 && (n == 16 || n == 32) && kMaxQ == 3) {
		return false
	}
	t.n, t.dim = uint32(n), g.dim
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
func (t *iqTrial) trial(id, scale float32, Laux *[32]int8, onAux *[8]bool) (sumqx, sumq2 float32) {
	t.id, t.scale = id, scale
	if t.dim == 4 {
		iq3Kernel(t)
	} else {
		iq2Kernel(t)
	}
	for i, l := range t.L[:t.n] {
		Laux[i] = int8(l)
	}
	for k := range int(t.n) / t.dim {
		onAux[k] = t.onGrid>>k&1 != 0
	}
	return t.sumqx, t.sumq2
}
