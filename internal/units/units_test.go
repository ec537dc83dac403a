package units

import "testing"

// The expected values are transformers' convert_file_size_to_int and
// llama-gguf-split's split_str_to_n_bytes, worked by hand.
func TestParseBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"1000000", 1000000},
		{"0", 0},
		{"5GB", 5_000_000_000}, // transformers: int(size[:-2]) * 10**9
		{"5gb", 625_000_000},   // transformers: ends with "b": bits
		{"5Gb", 625_000_000},   //
		{"10MB", 10_000_000},   //
		{"2GiB", 2 << 30},      // transformers: * 2**30
		{"100KiB", 102_400},    //
		{"1M", 1_000_000},      // llama-gguf-split: n * 1000 * 1000
		{"4G", 4_000_000_000},  // llama-gguf-split: n * 1000 * 1000 * 1000
		{"128m", 128_000_000},  // case-insensitive
		{"7 MB", 7_000_000},    //
		{"3B", 3},              //
	} {
		got, err := ParseBytes(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "GB", "-5", "5XB", "1.5G", "9223372036854775807K", "99999999999999999999"} {
		if n, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", bad, n)
		}
	}
	var b Bytes
	if err := b.Set("5GB"); err != nil || b != 5_000_000_000 || b.String() != "5000000000" {
		t.Errorf("Bytes.Set(5GB) = %v, %v", b, err)
	}
}
