package imatrix

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
)

// Write writes m to path in llama.cpp's GGUF imatrix format, as
// llama-imatrix does: general.type, imatrix.datasets, imatrix.chunk_count,
// imatrix.chunk_size, then "<weight>.in_sum2" and "<weight>.counts" for
// each entry in name order. The file is written atomically; an existing
// path is replaced only with force.
func Write(path string, m *Matrix, force bool) error {
	for i := range m.Entries {
		if err := m.Entries[i].check(); err != nil {
			return err
		}
	}
	sorted := &Matrix{Entries: append([]Entry(nil), m.Entries...)}
	sorted.sortEntries()
	md := format.Metadata{
		{Key: "general.type", Value: "imatrix"},
		{Key: KeyDatasets, Value: append([]string{}, m.Datasets...)},
		{Key: KeyChunkCount, Value: uint32(m.Chunks)},
		{Key: KeyChunkSize, Value: uint32(m.ChunkSize)},
	}
	var infos []format.TensorInfo
	var data [][]byte
	for _, e := range sorted.Entries {
		mats := int64(e.Mats())
		sumShape, countShape := []int64{mats, int64(e.Cols)}, []int64{mats, 1}
		if mats == 1 { // ggml_n_dims drops trailing dimensions of 1
			sumShape, countShape = []int64{int64(e.Cols)}, []int64{1}
		}
		infos = append(infos,
			format.TensorInfo{Name: e.Name + sumsSuffix, DType: format.F32, Shape: sumShape},
			format.TensorInfo{Name: e.Name + countsSuffix, DType: format.F32, Shape: countShape})
		data = append(data, f32Bytes(e.Sums), f32Bytes(e.Counts))
	}
	w, err := gguf.Create(path, infos, md, format.CreateOptions{Force: force})
	if err != nil {
		return fmt.Errorf("imatrix: %w", err)
	}
	for i, t := range infos {
		if err := w.WriteTensor(t.Name, data[i]); err != nil {
			w.Abort()
			return fmt.Errorf("imatrix: %s: %w", path, err)
		}
	}
	return w.Close()
}

// f32Bytes encodes x little-endian.
func f32Bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}
