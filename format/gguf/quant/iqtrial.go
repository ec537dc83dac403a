package quant

// The scale trials of the IQ3 and IQ2 block searches (iqBlock) in SIMD
// lanes. One kernel call per trial: the levels of the block's values at
// the trial's inverse scale, each group's packed index looked up on the
// grid, the off-grid groups' best neighbours (the lane scan of
// gridlanes.go). Then one call for the sums Σ (w·x)·q and Σ (w·q)·q of
// all trials, one trial per lane, each lane adding value by value in
// ggml's order; the best trial is chosen in trial order as iqBlock's loop
// chooses it, so the search is the scalar one bit for bit.

// iqTrial is one block's search state, shared with iq3TrialAVX2,
// iq2TrialAVX2 and iqSumsAVX2 (offsets pinned by TestLaneLayout).
type iqTrial struct {
	xval, waux [32]float32 // |x| and sqrt(w)
	wx, w      [32]float32 // float32(w·|x|) and w
	L          [32]int32   // the trial's levels (scratch)
	u          [8]int32    // packed indices (scratch; IQ3: groups 0,2,4,6,1,3,5,7)
	id, scale  float32     // the trial's inverse scale and 1/id
	onGrid     uint32      // output: bit k set where group k is on the grid
	n          uint32      // values in the block: 32 (IQ3, IQ2_XXS) or 16
	index      *int32      // the grid's point of each packed index, or -1
	lv         *uint8      // its lane layout (laneNeighbours)
	off, cnt   *int32
	dim        int                  // 4 (IQ3) or 8 (IQ2)
	LT         [32][maxTrials]int32 // LT[i][slot]: level of value i in trial slot
	sumqx      [maxTrials]float32   // iqSumsAVX2's Σ (w·x)·q per trial
	sumq2      [maxTrials]float32   // and Σ (w·q)·q
	slot       int                  // the trial the trial kernels write
}

// maxTrials is the number of trials iqTrial holds (IQ3_XXS has 31).
const maxTrials = 32

// start sets t up for the block xval (magnitudes) with weights w on grid
// g with the search parameters p; false where the lane kernels are off or do
// not cover the shape (IQ3: 32 values, kMaxQ 8; IQ2: 16 or 32, kMaxQ 3).
func (t *iqTrial) start(g *iqGrid, p *iqParams, xval, w, waux []float32) bool {
	n := len(xval)
	if !useLanes || g.lanes == nil || !(g.dim == 4 && n == 32 && p.kMaxQ == 8 || g.dim == 8 && (n == 16 || n == 32) && p.kMaxQ == 3) || 2*p.steps+1 > maxTrials {
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

// search runs the trials is = -p.steps..p.steps at inverse scales
// (top + is·p.step)/den as iqBlock's loop does: the trials' levels and
// grid lookups one kernel call each, then their sums in lanes (one trial
// per lane), then the choice in trial order. Where a trial improves on
// the best so far, scale, L and onGrid are set from it.
func (t *iqTrial) search(p *iqParams, top, den float32, scale *float32, L *[32]int8, onGrid *[8]bool) {
	trials := 2*p.steps + 1
	var on [maxTrials]uint32
	for k := range trials {
		id := float32(top+float32(float32(k-p.steps)*p.step)) / den
		t.id, t.scale, t.slot = id, 1/id, k
		if t.dim == 4 {
			iq3Kernel(t)
		} else {
			iq2Kernel(t)
		}
		on[k] = t.onGrid
	}
	iqSumsKernel(t)
	var best float32
	chosen := -1
	for k := range trials {
		if sumqx, sumq2 := t.sumqx[k], t.sumq2[k]; improves(sumqx, sumq2, best) {
			*scale = sumqx / sumq2
			best = float32(*scale * sumqx)
			chosen = k
		}
	}
	if chosen < 0 {
		return
	}
	for i := range t.n {
		L[i] = int8(t.LT[i][chosen])
	}
	for k := range int(t.n) / t.dim {
		onGrid[k] = on[chosen]>>k&1 != 0
	}
}

// improves is ggml's test of a trial's sums against the best so far.
func improves(sumqx, sumq2, best float32) bool {
	return sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2)
}
