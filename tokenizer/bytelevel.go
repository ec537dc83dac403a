package tokenizer

import "unicode/utf8"

// GPT-2's byte-to-unicode map (bytes_to_unicode in OpenAI's encoder.py):
// the printable bytes '!'..'~', '¡'..'¬' and '®'..'ÿ' stand for
// themselves; the other 68 bytes are given the code points 256, 257, ... in
// byte order, so that every byte is a visible character and a token's text
// never contains a space or a control character (byte ' ' is 'Ġ', U+0120).
var (
	runeToByte = map[rune]byte{}
	// byteToUTF8 holds each byte's character encoded in UTF-8.
	byteToUTF8 [256]string
)

func init() {
	next := rune(256)
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		r := rune(b)
		if !printable {
			r = next
			next++
		}
		runeToByte[r] = byte(b)
		byteToUTF8[b] = string(r)
	}
}

// byteLevelDecode appends the bytes that byte-level text t stands for to
// dst. Characters outside the map (possible only in hand-made vocabularies)
// are copied as they are.
func byteLevelDecode(dst []byte, t string) []byte {
	for _, r := range t {
		if b, ok := runeToByte[r]; ok {
			dst = append(dst, b)
		} else {
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}
