//go:build !amd64 || purego

package quant

// useLanes is false: there are no lane kernels here (lanes.go), and the
// ones below are never called.
var useLanes = false

func qxKernel(x, w, wv *float32, n int, c *qxLanes)             { panic("quant: no lane kernels") }
func kx2Kernel(x, w *float32, n int, c *kx2Lanes)               { panic("quant: no lane kernels") }
func kx2GroupsKernel(c *kx2Groups, n int)                       { panic("quant: no lane kernels") }
func qxGroupsKernel(c *qxGroups, n int)                         { panic("quant: no lane kernels") }
func requantKernel(L *uint8, x *float32, n int, a *requantArgs) { panic("quant: no lane kernels") }
func iq4Kernel(x, w *[32]float32, c *iq4Lanes)                  { panic("quant: no lane kernels") }
func nearKernel(x, w *float32, n int, lv *uint8, scale float32) int {
	panic("quant: no lane kernels")
}
func near8Kernel(e *[32]float32, n int, lv *uint8) int { panic("quant: no lane kernels") }
func iq3Kernel(t *iqTrial)                             { panic("quant: no lane kernels") }
func iq2Kernel(t *iqTrial)                             { panic("quant: no lane kernels") }
func iqSumsKernel(t *iqTrial)                          { panic("quant: no lane kernels") }
