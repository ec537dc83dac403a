// Package examplefile writes the small checkpoints that runnable Examples
// of several packages read, so each Example shows only the call it is about.
package examplefile

import "github.com/lorakit/lorakit/format"

// WriteOneTensor writes a new file of the named format (registered with
// format.Create) holding one tensor "w" of shape (2, len(vals)/2) and dtype
// dt, converted from vals.
func WriteOneTensor(formatName, path string, dt format.DType, vals []float32) error {
	info := format.TensorInfo{Name: "w", DType: dt, Shape: []int64{2, int64(len(vals) / 2)}}
	n, err := info.NumBytes()
	if err != nil {
		return err
	}
	data := make([]byte, n)
	if err := format.FromFloat32(data, vals, dt); err != nil {
		return err
	}
	sink, err := format.Create(formatName, path, []format.TensorInfo{info}, nil, format.CreateOptions{})
	if err != nil {
		return err
	}
	if err := sink.WriteTensor("w", data); err != nil {
		sink.Abort()
		return err
	}
	return sink.Close()
}
