package quant

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
)

// sharedDir returns ../shared/<sub> beside the module root, or skips the
// test when the shared reference material is absent.
func sharedDir(t testing.TB, sub string) string {
	t.Helper()
	return testshared.Path(t, sub)
}

// readF32 reads a raw little-endian float32 file.
func readF32(t testing.TB, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%4 != 0 {
		t.Fatalf("%s: %d bytes is not a float32 file", path, len(b))
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// f32Bytes is the raw little-endian encoding of x.
func f32Bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// ggufTensor is what the tests need of one GGUF tensor.
type ggufTensor struct {
	ne   []uint64
	typ  uint32
	data []byte // from its offset to the end of the file; trim by size
}

// readGGUFTensors is a minimal GGUF v3 reader for test fixtures (written
// by llama.cpp; trusted): it skips the metadata, honours general.alignment
// and returns every tensor by name.
func readGGUFTensors(t testing.TB, path string) map[string]ggufTensor {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(raw)
	rd := func(v any) {
		if err := binary.Read(r, binary.LittleEndian, v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	str := func() string {
		var n uint64
		rd(&n)
		b := make([]byte, n)
		rd(b)
		return string(b)
	}
	var magic [4]byte
	var version uint32
	var nTensors, nKV uint64
	rd(&magic)
	rd(&version)
	rd(&nTensors)
	rd(&nKV)
	if string(magic[:]) != "GGUF" || version != 3 {
		t.Fatalf("%s: not a GGUF v3 file", path)
	}
	sizes := map[uint32]int64{0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
	var skip func(typ uint32) uint64
	skip = func(typ uint32) uint64 {
		switch {
		case typ == 8:
			str()
		case typ == 9:
			var et uint32
			var n uint64
			rd(&et)
			rd(&n)
			for range n {
				skip(et)
			}
		default:
			var v uint64
			b := make([]byte, sizes[typ])
			rd(b)
			for i := len(b) - 1; i >= 0; i-- {
				v = v<<8 | uint64(b[i])
			}
			return v
		}
		return 0
	}
	align := uint64(32)
	for range nKV {
		key := str()
		var typ uint32
		rd(&typ)
		if v := skip(typ); key == "general.alignment" {
			align = v
		}
	}
	type info struct {
		name string
		t    ggufTensor
		off  uint64
	}
	infos := make([]info, nTensors)
	for i := range infos {
		infos[i].name = str()
		var nd uint32
		rd(&nd)
		infos[i].t.ne = make([]uint64, nd)
		rd(infos[i].t.ne)
		rd(&infos[i].t.typ)
		rd(&infos[i].off)
	}
	pos := uint64(len(raw)) - uint64(r.Len())
	base := (pos + align - 1) / align * align
	out := map[string]ggufTensor{}
	for _, in := range infos {
		in.t.data = raw[base+in.off:]
		out[in.name] = in.t
	}
	return out
}

// firstDiff describes where two byte slices first differ, in blocks of bb.
func firstDiff(got, want []byte, bb int) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			blk := i / bb
			return fmt.Sprintf("byte %d (block %d): got % x, want % x", i, blk,
				got[blk*bb:min(len(got), blk*bb+bb)], want[blk*bb:min(len(want), blk*bb+bb)])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}
