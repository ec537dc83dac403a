//go:build amd64 && !purego

package quant

import "github.com/lorakit/lorakit/internal/cpu"

// useLanes selects the AVX2 search kernels (lanes.go).
var useLanes = cpu.X86.HasAVX2

// qxLanesAVX2 runs 24 make_qx_quants candidates over x, w, wv (n each).
//
//go:noescape
func qxLanesAVX2(x, w, wv *float32, n int, c *qxLanes)

// kx2LanesAVX2 runs 8 make_qkx2_quants candidates over x, w (n each).
//
//go:noescape
func kx2LanesAVX2(x, w *float32, n int, c *kx2Lanes)

// kx2GroupsAVX2 runs make_qkx2_quants on 8 groups of n values at once.
//
//go:noescape
func kx2GroupsAVX2(c *kx2Groups, n int)

// qxGroupsAVX2 runs make_qx_quants on 16 groups of n values at once.
//
//go:noescape
func qxGroupsAVX2(c *qxGroups, n int)

// requantAVX2 runs requantLevels on n values, a multiple of 16.
//
//go:noescape
func requantAVX2(L *uint8, x *float32, n int, a *requantArgs)

// iq4LanesAVX2 runs the 16 IQ4_NL trials over x with weights w.
//
//go:noescape
func iq4LanesAVX2(x, w *[32]float32, c *iq4Lanes)

func qxKernel(x, w, wv *float32, n int, c *qxLanes)             { qxLanesAVX2(x, w, wv, n, c) }
func kx2Kernel(x, w *float32, n int, c *kx2Lanes)               { kx2LanesAVX2(x, w, n, c) }
func kx2GroupsKernel(c *kx2Groups, n int)                       { kx2GroupsAVX2(c, n) }
func qxGroupsKernel(c *qxGroups, n int)                         { qxGroupsAVX2(c, n) }
func requantKernel(L *uint8, x *float32, n int, a *requantArgs) { requantAVX2(L, x, n, a) }
func iq4Kernel(x, w *[32]float32, c *iq4Lanes)                  { iq4LanesAVX2(x, w, c) }

// nearLanesAVX2 and nearScan8AVX2 are the neighbour scans of gridlanes.go.
//
//go:noescape
func nearLanesAVX2(x, w *float32, n int, lv *uint8, scale float32) int

//go:noescape
func nearScan8AVX2(e *float32, n int, lv *uint8) int

// iq3TrialAVX2 runs one IQ3 scale trial (iqtrial.go).
//
//go:noescape
func iq3TrialAVX2(t *iqTrial)

// iq2TrialAVX2 runs one IQ2 scale trial (iqtrial.go).
//
//go:noescape
func iq2TrialAVX2(t *iqTrial)

// iqSumsAVX2 adds up the trials' sums (iqtrial.go).
//
//go:noescape
func iqSumsAVX2(t *iqTrial)

func nearKernel(x, w *float32, n int, lv *uint8, scale float32) int {
	return nearLanesAVX2(x, w, n, lv, scale)
}
func near8Kernel(e *[32]float32, n int, lv *uint8) int { return nearScan8AVX2(&e[0], n, lv) }
func iq3Kernel(t *iqTrial)                             { iq3TrialAVX2(t) }
func iq2Kernel(t *iqTrial)                             { iq2TrialAVX2(t) }
func iqSumsKernel(t *iqTrial)                          { iqSumsAVX2(t) }
