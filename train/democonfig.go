package train

// DemoSeq is the longest sequence of the demo recipe (stories260K's
// context is 512; the E2E pairs are far shorter).
const DemoSeq = 256

// DemoConfig is the demo's LoRA recipe for a tiny model: the paper's
// (q,v, alpha 32 scaled to the rank, dropout 0.1, label smoothing 0.1,
// linear schedule) with a learning rate and warmup for a few hundred steps.
func DemoConfig(rank int) Config {
	c := DefaultConfig()
	c.Rank, c.Alpha = rank, 2*float64(rank)
	c.LR, c.Warmup, c.Epochs, c.Seq = 2e-2, 20, 3, DemoSeq
	c.EvalEvery = 50
	return c
}
