package tokenizer

import "unicode/utf8"

// GPT-2's byte-to-unicode map (bytes_to_unicode in OpenAI's encoder.py):
// the printable bytes '!'..'~', '¡'..'¬' and '®'..'ÿ' stand for
// themselves; the other 68 bytes are given the code points 256, 257, ... in
// byte order, so that every byte is a visible character and a token's text
// never contains a space or a control character (byte ' ' is 'Ġ', U+0120).
var runeToByte, byteToUTF8 = byteLevelMaps()

// byteLevelMaps builds runeToByte and byteToUTF8 (each byte's character
// encoded in UTF-8). They are package variables initialised by a function,
// not in init, so that other variables built from them (mappedCat) see
// them filled.
func byteLevelMaps() (map[rune]byte, [256]string) {
	toByte := map[rune]byte{}
	var toUTF8 [256]string
	next := rune(256)
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		r := rune(b)
		if !printable {
			r = next
			next++
		}
		toByte[r] = byte(b)
		toUTF8[b] = string(r)
	}
	return toByte, toUTF8
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
