package quant

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// oracleRowLen is the row length of testdata/weighted/input.f32.
const oracleRowLen = 512

// oracleTypes maps the file stems of testdata/weighted to their types.
var oracleTypes = map[string]format.DType{
	"q4_0": format.Q4_0, "q4_1": format.Q4_1, "q5_0": format.Q5_0, "q5_1": format.Q5_1,
	"q2_k": format.Q2_K, "q3_k": format.Q3_K, "q4_k": format.Q4_K, "q5_k": format.Q5_K, "q6_k": format.Q6_K,
	"iq4_nl": format.IQ4_NL, "iq4_xs": format.IQ4_XS, "tq1_0": format.TQ1_0, "tq2_0": format.TQ2_0,
	"iq3_xxs": format.IQ3_XXS, "iq3_s": format.IQ3_S, "iq2_xxs": format.IQ2_XXS, "iq2_xs": format.IQ2_XS,
	"iq2_s": format.IQ2_S, "iq1_s": format.IQ1_S, "iq1_m": format.IQ1_M,
}

// TestQuantizeMatchesOracle compares QuantizeRowsWeighted, with the
// importance values and without, to ggml's quantize_<type> outputs in
// testdata/weighted (see its README).
func TestQuantizeMatchesOracle(t *testing.T) {
	x := readF32(t, "testdata/weighted/input.f32")
	qw := readF32(t, "testdata/weighted/imatrix.f32")
	compared := 0
	for stem, dt := range oracleTypes {
		for _, tc := range []struct {
			file string
			qw   []float32
		}{{stem + ".imatrix.bin", qw}, {stem + ".bin", nil}} {
			want, err := os.ReadFile(filepath.Join("testdata/weighted", tc.file))
			got := make([]byte, len(x)/dt.BlockSize()*dt.BlockBytes())
			qerr := QuantizeRowsWeighted(got, x, oracleRowLen, dt, tc.qw)
			if errors.Is(err, os.ErrNotExist) && tc.qw == nil {
				// ggml aborts: the type needs importance weights.
				if !errors.Is(qerr, format.ErrUnsupported) {
					t.Errorf("%v without imatrix: got %v, want an ErrUnsupported error", dt, qerr)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if qerr != nil {
				t.Fatalf("%s: %v", tc.file, qerr)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: %s", tc.file, firstDiff(got, want, dt.BlockBytes()))
			}
			compared++
		}
	}
	t.Logf("%d files compared", compared)
}

// TestDequantizeMatchesOracle decodes every testdata/weighted/*.bin file
// and compares the SHA-256 of the float32 output with that of ggml's
// dequantize_row_<type> (dequant.sha256).
func TestDequantizeMatchesOracle(t *testing.T) {
	f, err := os.Open("testdata/weighted/dequant.sha256")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		sum, file, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("dequant.sha256: bad line %q", sc.Text())
		}
		stem, _, _ := strings.Cut(file, ".")
		dt := oracleTypes[stem]
		src, err := os.ReadFile(filepath.Join("testdata/weighted", file))
		if err != nil {
			t.Fatal(err)
		}
		y := make([]float32, len(src)/dt.BlockBytes()*dt.BlockSize())
		if err := Dequantize(y, src, dt); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		h := sha256.Sum256(f32Bytes(y))
		if got := hex.EncodeToString(h[:]); got != sum {
			t.Errorf("%s: dequantized SHA-256 %s, want %s", file, got, sum)
		}
		n++
	}
	if n == 0 {
		t.Fatal("nothing compared")
	}
}

// TestRequantizeMatchesOracle dequantizes each <type>.imatrix.bin and
// quantizes the result again, as ggml did for <type>.requant.bin: the
// second round is ggml's bit for bit. (It is not the first round's bytes:
// ggml's searches, fudge factors and separate decoding grids move the
// scales of every IQ type, so only TQ1_0 and TQ2_0 reproduce their
// values; TestTernaryRequantizeStable checks those.)
func TestRequantizeMatchesOracle(t *testing.T) {
	qw := readF32(t, "testdata/weighted/imatrix.f32")
	for stem, dt := range oracleTypes {
		src, err := os.ReadFile(filepath.Join("testdata/weighted", stem+".imatrix.bin"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("testdata/weighted", stem+".requant.bin"))
		if err != nil {
			t.Fatal(err)
		}
		y := make([]float32, len(src)/dt.BlockBytes()*dt.BlockSize())
		if err := Dequantize(y, src, dt); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(src))
		if err := QuantizeRowsWeighted(got, y, oracleRowLen, dt, qw); err != nil {
			t.Fatalf("%v: %v", dt, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s.requant.bin: %s", stem, firstDiff(got, want, dt.BlockBytes()))
		}
	}
}

// TestTernaryRequantizeStable: TQ1_0 and TQ2_0 values survive
// quantize→dequantize→quantize exactly (a block's values are d·{-1,0,1}
// with d its max|x|, which requantization finds again).
func TestTernaryRequantizeStable(t *testing.T) {
	x := readF32(t, "testdata/weighted/input.f32")
	for _, dt := range []format.DType{format.TQ1_0, format.TQ2_0} {
		b1 := make([]byte, len(x)/dt.BlockSize()*dt.BlockBytes())
		b2 := make([]byte, len(b1))
		y1, y2 := make([]float32, len(x)), make([]float32, len(x))
		if err := Quantize(b1, x, dt); err != nil {
			t.Fatal(err)
		}
		if err := Dequantize(y1, b1, dt); err != nil {
			t.Fatal(err)
		}
		if err := Quantize(b2, y1, dt); err != nil {
			t.Fatal(err)
		}
		if err := Dequantize(y2, b2, dt); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(y1, y2) {
			t.Errorf("%v: requantized values differ", dt)
		}
	}
}
