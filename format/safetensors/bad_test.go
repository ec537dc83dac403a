package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// allocSlack is the allocation allowed on top of a small multiple of the
// file size when rejecting a file: error strings and bookkeeping.
const allocSlack = 64 << 10

// lengthPrefix returns a file whose first 8 bytes claim n header bytes.
func lengthPrefix(n uint64, rest string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
}

// one is a well-formed single-tensor header with data_offsets [0 12].
const one = `{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}`

// badInputs are files the reference reader rejects (or that lorakit
// rejects where the reference is lax, as noted), with the sentinel.
var badInputs = []struct {
	name string
	file []byte
	want error
}{
	{"empty file", nil, format.ErrFormat},
	{"7 bytes", []byte{1, 0, 0, 0, 0, 0, 0}, format.ErrFormat},
	{"truncated data", rawFile(one, make([]byte, 11)), format.ErrFormat},
	{"truncated header", rawFile(one, make([]byte, 12))[:30], format.ErrFormat},
	{"header length beyond file", lengthPrefix(1000, "{}"), format.ErrFormat},
	{"header length over limit", lengthPrefix(MaxHeaderBytes+1, "{}"), format.ErrFormat},
	{"header length 2^64-1", lengthPrefix(1<<64-1, "{}"), format.ErrFormat},
	{"Git LFS pointer", []byte("version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 12\n"), format.ErrFormat},
	{"invalid JSON", rawFile(`{"x":`, nil), format.ErrFormat},
	{"trailing comma", rawFile(`{"__metadata__":{"a":"b",}}`, nil), format.ErrFormat},
	{"not an object", rawFile(`[]`, nil), format.ErrFormat},
	{"tensor not an object", rawFile(`{"x":1}`, nil), format.ErrFormat},
	{"NUL padding", rawFile("{}\x00\x00", nil), format.ErrFormat},
	{"data after header", rawFile(`{} {}`, nil), format.ErrFormat},
	{"non-UTF-8 header", rawFile("{\"\xff\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", []byte{0}), format.ErrFormat},
	{"lone surrogate", rawFile(`{"\ud800":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), format.ErrFormat},
	{"control character", rawFile("{\"a\tb\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", []byte{0}), format.ErrFormat},
	{"overlapping offsets", rawFile(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, make([]byte, 6)), format.ErrFormat},
	{"out-of-range offsets", rawFile(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, make([]byte, 2)), format.ErrFormat},
	{"gap at start", rawFile(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, make([]byte, 6)), format.ErrFormat},
	{"gap between", rawFile(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}}`, make([]byte, 5)), format.ErrFormat},
	{"end before begin", rawFile(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, make([]byte, 4)), format.ErrFormat},
	{"size mismatch", rawFile(`{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,10]}}`, make([]byte, 10)), format.ErrFormat},
	{"unknown dtype", rawFile(`{"x":{"dtype":"F17","shape":[3],"data_offsets":[0,12]}}`, make([]byte, 12)), format.ErrFormat},
	{"lower-case dtype", rawFile(`{"x":{"dtype":"f32","shape":[3],"data_offsets":[0,12]}}`, make([]byte, 12)), format.ErrFormat},
	{"dtype lorakit lacks", rawFile(`{"x":{"dtype":"F8_E8M0","shape":[3],"data_offsets":[0,3]}}`, make([]byte, 3)), format.ErrUnsupported},
	{"duplicate names (reference: last wins)", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)), format.ErrFormat},
	{"duplicate field", rawFile(`{"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), format.ErrFormat},
	{"duplicate __metadata__", rawFile(`{"__metadata__":{},"__metadata__":{}}`, nil), format.ErrFormat},
	{"trailing bytes after last tensor", rawFile(one, make([]byte, 13)), format.ErrFormat},
	{"trailing bytes, no tensors", rawFile(`{}`, []byte{0}), format.ErrFormat},
	{"missing data_offsets", rawFile(`{"x":{"dtype":"F32","shape":[3]}}`, make([]byte, 12)), format.ErrFormat},
	{"missing dtype", rawFile(`{"x":{"shape":[3],"data_offsets":[0,12]}}`, make([]byte, 12)), format.ErrFormat},
	{"extra field (reference: ignored)", rawFile(`{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,12],"z":1}}`, make([]byte, 12)), format.ErrFormat},
	{"three data_offsets", rawFile(`{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,12,12]}}`, make([]byte, 12)), format.ErrFormat},
	{"negative shape", rawFile(`{"x":{"dtype":"F32","shape":[-3],"data_offsets":[0,12]}}`, make([]byte, 12)), format.ErrFormat},
	{"float shape", rawFile(`{"x":{"dtype":"F32","shape":[3.0],"data_offsets":[0,12]}}`, make([]byte, 12)), format.ErrFormat},
	{"exponent offset", rawFile(`{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,1.2e1]}}`, make([]byte, 12)), format.ErrFormat},
	{"leading zero", rawFile(`{"x":{"dtype":"F32","shape":[03],"data_offsets":[0,12]}}`, make([]byte, 12)), format.ErrFormat},
	{"huge shape", rawFile(`{"x":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,12]}}`, make([]byte, 12)), format.ErrFormat},
	{"shape over int64", rawFile(`{"x":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,12]}}`, make([]byte, 12)), format.ErrFormat},
	{"huge shape times zero", rawFile(`{"x":{"dtype":"U64","shape":[281474976710656,281474976710656,0],"data_offsets":[0,0]}}`, nil), format.ErrFormat},
	{"huge end offset", rawFile(`{"x":{"dtype":"U8","shape":[9223372036854775807],"data_offsets":[0,9223372036854775807]}}`, nil), format.ErrFormat},
	{"non-string metadata", rawFile(`{"__metadata__":{"a":1}}`, nil), format.ErrFormat},
	{"metadata not an object", rawFile(`{"__metadata__":"a"}`, nil), format.ErrFormat},
	{"null tensor", rawFile(`{"x":null}`, nil), format.ErrFormat},
}

// TestBadInput: every bad file fails with the sentinel, names the file,
// does not panic and allocates no more than its size justifies.
func TestBadInput(t *testing.T) {
	for _, tc := range badInputs {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "bad.safetensors", tc.file)
			r, err := Open(path)
			if err == nil {
				r.Close()
				t.Fatalf("Open(%q) succeeded, want %v", tc.file, tc.want)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Open = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), path) || !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Errorf("Open = %q, want it to start with safetensors: and name %s", err, path)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Open = %q, want one line", err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err = NewReader(bytes.NewReader(tc.file), int64(len(tc.file)))
			runtime.ReadMemStats(&after)
			if !errors.Is(err, tc.want) {
				t.Errorf("NewReader = %v, want %v", err, tc.want)
			}
			if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(4*len(tc.file)+allocSlack); got > limit {
				t.Errorf("NewReader allocated %d bytes for a %d-byte file, want <= %d", got, len(tc.file), limit)
			}
		})
	}
}

// TestTensorErrorsNameTheTensor checks the message shape the brief asks for.
func TestTensorErrorsNameTheTensor(t *testing.T) {
	path := writeTemp(t, "model.safetensors", rawFile(`{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,10]}}`, make([]byte, 10)))
	_, err := Open(path)
	want := "safetensors: " + path + `: tensor "x": data_offsets [0 10] but F32 [3] needs 12 bytes: malformed file`
	if err == nil || err.Error() != want {
		t.Errorf("Open = %v, want %s", err, want)
	}
}

// TestAcceptedLikeReference: inputs the reference reader accepts.
func TestAcceptedLikeReference(t *testing.T) {
	for _, tc := range []struct{ name, header string }{
		{"leading whitespace", " \n{}"},
		{"space padding", "{}      "},
		{"escaped name", `{"\u0041\n\/":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}`},
		{"surrogate pair", `{"\ud83d\ude00":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`},
		{"repeated metadata key", `{"__metadata__":{"k":"1","k":"2"},"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var data []byte
			if strings.Contains(tc.header, "dtype") {
				data = []byte{9}
			}
			b := rawFile(tc.header, data)
			r, err := NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatalf("NewReader(%q) = %v, want success", tc.header, err)
			}
			if v, ok := r.Metadata().String("k"); ok && v != "2" {
				t.Errorf("repeated metadata key = %q, want the last value 2", v)
			}
		})
	}
}
