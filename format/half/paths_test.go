package half

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// codePath is one implementation of the four bulk conversions: the
// exported functions (whatever this CPU selects), the portable Go code,
// and, on amd64, each kernel set the CPU can run (paths_amd64_test.go).
type codePath struct {
	name      string
	f32ToF16  func([]uint16, []float32)
	f16ToF32  func([]float32, []uint16)
	f32ToBF16 func([]uint16, []float32)
	bf16ToF32 func([]float32, []uint16)
}

var (
	exportedPath = codePath{"exported", F32ToF16, F16ToF32, F32ToBF16, BF16ToF32}
	genericPath  = codePath{"generic", f32ToF16Generic, f16ToF32Generic, f32ToBF16Generic, bf16ToF32Generic}
)

// allPaths lists the exported path, the generic one and the arch ones.
func allPaths() []codePath {
	return append([]codePath{exportedPath, genericPath}, archPaths()...)
}

// scanChunk is how many patterns one scan step converts.
const scanChunk = 1 << 16

// scanUint32 runs check over all 2^32 bit patterns on all cores, chunk by
// chunk in increasing order within a chunk. newCheck makes one checker per
// worker (so that each owns its buffers); the scan stops at the first
// error, which it reports.
func scanUint32(t *testing.T, newCheck func() func(lo uint32, bits []uint32) error) {
	t.Helper()
	const chunks = 1 << 32 / scanChunk
	var next atomic.Int64
	var failed atomic.Bool
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			check := newCheck()
			bits := make([]uint32, scanChunk)
			for !failed.Load() {
				c := next.Add(1) - 1
				if c >= chunks {
					return
				}
				lo := uint32(c) * scanChunk
				for i := range bits {
					bits[i] = lo + uint32(i)
				}
				if err := check(lo, bits); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
}

// mismatch formats the first difference of two equal-length slices of
// bit patterns, or returns nil.
func mismatch[T, U comparable](what string, in []U, got, want []T) error {
	for i := range want {
		if got[i] != want[i] {
			return fmt.Errorf("%s(%#x) = %#x, want %#x", what, any(in[i]), any(got[i]), any(want[i]))
		}
	}
	return nil
}

// encoder names one float32 → 16-bit conversion for the checks below:
// the reference it must equal, the slice function of a code path, and the
// scalar helper.
type encoder struct {
	name   string
	ref    func(uint32) uint16
	slice  func(codePath) func([]uint16, []float32)
	scalar func(float32) uint16
}

// checkEncoderOn checks every code path and the scalar helper of enc
// against its reference on the bit patterns us.
func checkEncoderOn(t *testing.T, enc encoder, us []uint32) {
	t.Helper()
	want := make([]uint16, len(us))
	for i, u := range us {
		want[i] = enc.ref(u)
	}
	for _, p := range allPaths() {
		t.Run(p.name, func(t *testing.T) {
			got := make([]uint16, len(us))
			enc.slice(p)(got, f32sOf(us))
			if err := mismatch(enc.name, us, got, want); err != nil {
				t.Fatal(err)
			}
		})
	}
	for i, u := range us {
		if got := enc.scalar(math.Float32frombits(u)); got != want[i] {
			t.Fatalf("scalar %s(%#08x) = %#04x, want %#04x", enc.name, u, got, want[i])
		}
	}
}

// checkEncoderExhaustive checks every code path of enc against its
// reference on all 2^32 float32 patterns.
func checkEncoderExhaustive(t *testing.T, enc encoder) {
	t.Helper()
	paths := allPaths()
	scanUint32(t, func() func(uint32, []uint32) error {
		want := make([]uint16, scanChunk)
		got := make([]uint16, scanChunk)
		return func(_ uint32, bits []uint32) error {
			for i, u := range bits {
				want[i] = enc.ref(u)
			}
			for _, p := range paths {
				enc.slice(p)(got, f32sOf(bits))
				if err := mismatch(p.name+" "+enc.name, bits, got, want); err != nil {
					return err
				}
			}
			return nil
		}
	})
}

// encoderEdge is one hand-written case of an encoder: a float32 pattern and
// the 16-bit result worked out by hand.
type encoderEdge struct {
	name string
	in   uint32
	want uint16
}

// checkEncoderEdges checks hand-written cases against the reference (so a
// wrong table entry is caught), the scalar helper and every code path, the
// value splatted over a whole vector so each kernel lane sees it.
func checkEncoderEdges(t *testing.T, enc encoder, tests []encoderEdge) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := enc.ref(tt.in); got != tt.want {
				t.Fatalf("test table disagrees with the reference: ref(%#08x) = %#04x, want %#04x", tt.in, got, tt.want)
			}
			f := math.Float32frombits(tt.in)
			if got := enc.scalar(f); got != tt.want {
				t.Errorf("scalar %s(%#08x) = %#04x, want %#04x", enc.name, tt.in, got, tt.want)
			}
			for _, p := range allPaths() {
				got := make([]uint16, splatLen)
				enc.slice(p)(got, splat(f, splatLen))
				for _, g := range got {
					if g != tt.want {
						t.Fatalf("%s %s(%#08x) = %#04x, want %#04x", p.name, enc.name, tt.in, g, tt.want)
					}
				}
			}
		})
	}
}
