//go:build !amd64 || purego

package analyze

// haveMulAdd4x8 is false: mulAdd runs gonum's Dgemm.
var haveMulAdd4x8 = false

func mulAdd4x8(k int, a *float64, ras, las int, b *float64, ldb int, c *float64, ldc int) {
	panic("analyze: mulAdd4x8 without assembly")
}
