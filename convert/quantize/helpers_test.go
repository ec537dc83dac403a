package quantize

import (
	"bufio"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
)

// sharedDir returns ../shared/<rel> beside the module root, or skips the
// test when it is absent.
func sharedDir(t testing.TB, rel string) string {
	t.Helper()
	return testshared.Path(t, rel)
}

// dumpKV is one key of a gguf_dump.py listing: its value type as the dump
// prints it ("UINT32", "[STRING]") and, for scalars, the value text.
type dumpKV struct {
	key, typ, value string
}

// dumpTensor is one tensor of a gguf_dump.py listing.
type dumpTensor struct {
	name, typ string
	ne        []int64 // ggml order, trailing 1s removed
}

// readDump parses gguf_dump.py output: the KV pairs (without the GGUF.*
// header pseudo-keys) and the tensors, in file order.
func readDump(t *testing.T, path string) ([]dumpKV, []dumpTensor) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var kvs []dumpKV
	var tensors []dumpTensor
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "*") {
			continue
		}
		_, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		parts := strings.Split(rest, "|")
		switch len(parts) {
		case 3: // KV: type | count | key = value
			key, value, _ := strings.Cut(strings.TrimSpace(parts[2]), " = ")
			if strings.HasPrefix(key, "GGUF.") {
				continue
			}
			kvs = append(kvs, dumpKV{key, strings.TrimSpace(parts[0]), value})
		case 4: // tensor: elements | ne | type | name
			var ne []int64
			for _, d := range strings.Split(parts[1], ",") {
				n, err := strconv.ParseInt(strings.TrimSpace(d), 10, 64)
				if err != nil {
					t.Fatalf("%s: bad shape in %q", path, line)
				}
				ne = append(ne, n)
			}
			for len(ne) > 1 && ne[len(ne)-1] == 1 {
				ne = ne[:len(ne)-1]
			}
			tensors = append(tensors, dumpTensor{strings.TrimSpace(parts[3]), strings.TrimSpace(parts[2]), ne})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return kvs, tensors
}

// dumpTypeName is the value type gguf_dump.py prints for a metadata value
// of Go type v.
func dumpTypeName(v any) string {
	names := map[reflect.Kind]string{
		reflect.Uint8: "UINT8", reflect.Int8: "INT8", reflect.Uint16: "UINT16", reflect.Int16: "INT16",
		reflect.Uint32: "UINT32", reflect.Int32: "INT32", reflect.Uint64: "UINT64", reflect.Int64: "INT64",
		reflect.Float32: "FLOAT32", reflect.Float64: "FLOAT64", reflect.Bool: "BOOL", reflect.String: "STRING",
	}
	rt := reflect.TypeOf(v)
	if rt.Kind() == reflect.Slice {
		return "[" + names[rt.Elem().Kind()] + "]"
	}
	return names[rt.Kind()]
}
