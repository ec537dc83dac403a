package lora

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// sharedDir returns ../shared/<rel> beside the module root, skipping the
// test when the reference material is absent.
func sharedDir(t testing.TB, rel string) string {
	t.Helper()
	return testshared.Path(t, rel)
}

// f32Bytes encodes v as little-endian float32.
func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// seq returns n deterministic, distinct, exactly representable values.
func seq(n int, start float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = start + float32(i)*0.25
	}
	return v
}

// writeSafetensors writes tensors (float32 values, stored as dt) to path.
func writeSafetensors(t *testing.T, path string, md format.Metadata, ts []outTensor) {
	t.Helper()
	if err := writeTensors("safetensors", path, ts, md, false); err != nil {
		t.Fatal(err)
	}
}

// f32Tensor is an F32 tensor to write in a test.
func f32Tensor(name string, shape []int64, vals []float32) outTensor {
	return outTensor{info: format.TensorInfo{Name: name, DType: format.F32, Shape: shape}, vals: vals}
}

// writePEFTDir writes a PEFT directory by hand: config text and tensors.
func writePEFTDir(t *testing.T, config string, ts ...outTensor) string {
	t.Helper()
	dir := t.TempDir()
	if config != "" {
		if err := os.WriteFile(filepath.Join(dir, peftConfigFile), []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeSafetensors(t, filepath.Join(dir, peftWeightsFile), format.Metadata{{Key: "format", Value: "pt"}}, ts)
	return dir
}

// dirNames lists the entries of dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}
