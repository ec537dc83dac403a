//go:build !amd64 || purego

package model

// haveVec is false: the vector loops exist only on amd64.
const haveVec = false

func expSubAVX2(z []float32, m float32) float32 { panic("model: no vector loops") }
func maxAVX2(z []float32) float32               { panic("model: no vector loops") }
func axpbAVX2(z []float32, a, b float32)        { panic("model: no vector loops") }
func geluAVX2(out, x []float32)                 { panic("model: no vector loops") }
func geluGradAVX2(dx, dout, x []float32)        { panic("model: no vector loops") }
func dotAVX2(a, b []float32) float32            { panic("model: no vector loops") }
