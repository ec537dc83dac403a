package safetensors_test

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
)

func ExampleOpen() {
	r, err := safetensors.Open("testdata/overall.safetensors")
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	for _, t := range r.Tensors()[:3] {
		off, _ := r.TensorOffset(t.Name)
		fmt.Println(t, "at", off)
	}
	fmt.Println(r.Metadata())
	// Output:
	// B U8 [6] at 534
	// H U16 [6] at 540
	// I U32 [6] at 552
	// [{test a}]
}

func ExampleNewWriter() {
	infos := []format.TensorInfo{{Name: "w", DType: format.F16, Shape: []int64{2}}}
	var buf bytes.Buffer
	w, err := safetensors.NewWriter(&buf, infos, format.Metadata{{Key: "format", Value: "pt"}})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.WriteTensor("w", []byte{0x00, 0x3c, 0x00, 0xc0}); err != nil { // 1.0, -2.0
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", buf.Bytes()[8:buf.Len()-4])
	// Output:
	// "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}   "
}

func ExampleCreate() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "adapter.safetensors")
	infos := []format.TensorInfo{{Name: "a", DType: format.U8, Shape: []int64{3}}}
	w, err := safetensors.Create(path, infos, nil, format.CreateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.WriteTensor("a", []byte{1, 2, 3}); err != nil {
		w.Abort() // leaves no file
		log.Fatal(err)
	}
	if err := w.Close(); err != nil { // fsync and rename into place
		log.Fatal(err)
	}
	st, _ := os.Stat(path)
	fmt.Println(st.Size())
	// Output: 67
}

func ExampleSortLikeReference() {
	infos := []format.TensorInfo{
		{Name: "b", DType: format.F16}, {Name: "a", DType: format.F16}, {Name: "z", DType: format.F32},
	}
	safetensors.SortLikeReference(infos)
	fmt.Println(infos)
	// Output: [z F32 [] a F16 [] b F16 []]
}

func ExampleCreateSharded() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	infos := []format.TensorInfo{
		{Name: "x", DType: format.F32, Shape: []int64{4}},
		{Name: "y", DType: format.F32, Shape: []int64{4}},
	}
	w, err := safetensors.CreateSharded(dir, infos, nil, 16, format.CreateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range infos {
		if err := w.WriteTensor(t.Name, make([]byte, 16)); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	src, err := safetensors.OpenDir(dir) // or format.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	for _, t := range src.Tensors() {
		shard, _ := src.(*safetensors.Sharded).Shard(t.Name)
		fmt.Println(t.Name, filepath.Base(shard))
	}
	// Output:
	// x model-00001-of-00002.safetensors
	// y model-00002-of-00002.safetensors
}
