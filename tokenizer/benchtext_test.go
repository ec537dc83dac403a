package tokenizer

import (
	"os"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/internal/cputime"
)

// mixedText returns n bytes (about; cut at a character boundary) of
// English prose, source code and Chinese/Japanese text, the same every
// time: the benchmark's input. A xorshift generator picks words, code
// lines and CJK runs from fixed lists.
func mixedText(n int) string {
	english := strings.Fields(`the of and to in is was for on that with as by at from it his an were are which this be or has had
		not but first one their its new after who they have her she two been other when there all during into school time may
		years more most only over city some world would where later up such used many can state about national out known
		university united then made river however government between three system both including while people century
		language model training adapter rank matrix weights Hello World I'm you're we'll they've don't CAN'T Paris London`)
	code := []string{
		"func (t *Tokenizer) Encode(text string) []int {", "\tfor i := 0; i < len(s); i++ {", "\t\treturn nil, err",
		"}", "def forward(self, x):", "    return self.proj(x) + self.bias", "if (n < 2) { return n; }",
		"#include <stdio.h>", "    printf(\"%d\\n\", fib(10));", "const x = arr.map((v) => v * 2);",
		"SELECT id, name FROM users WHERE age >= 21;", "        self.lora_A = nn.Linear(in_features, r, bias=False)",
	}
	cjk := []rune("的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持音乐こんにちはありがとうございますカタカナひらがな")
	var b strings.Builder
	b.Grow(n + 64)
	x := uint64(88172645463325252)
	next := func(k int) int {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return int(x % uint64(k))
	}
	for b.Len() < n {
		switch next(10) {
		case 0, 1, 2, 3, 4: // an English sentence
			for w := 3 + next(12); w > 0; w-- {
				b.WriteString(english[next(len(english))])
				b.WriteByte(" ,  "[next(4)])
			}
			b.WriteString(". ")
			if next(4) == 0 {
				b.WriteString("In 2024, 1,234 of 56789 (12.5%) did.\n\n")
			}
		case 5, 6, 7: // a few lines of code
			for l := 1 + next(6); l > 0; l-- {
				b.WriteString(code[next(len(code))])
				b.WriteByte('\n')
			}
		default: // a CJK run
			for c := 5 + next(30); c > 0; c-- {
				b.WriteRune(cjk[next(len(cjk))])
			}
			b.WriteString("。")
		}
	}
	return b.String()
}

// TestWriteBenchText writes the benchmark's text for the tokenizers.js
// comparison (testdata/README.md) when LORAKIT_BENCH_TEXT names a file.
func TestWriteBenchText(t *testing.T) {
	path := os.Getenv("LORAKIT_BENCH_TEXT")
	if path == "" {
		t.Skip("LORAKIT_BENCH_TEXT not set")
	}
	if err := os.WriteFile(path, []byte(mixedText(benchTextSize)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// benchTextSize is the size of BenchmarkEncodeLlama3's input.
const benchTextSize = 10 << 20

// BenchmarkEncodeLlama3 encodes 10 MB of mixed English, code and CJK text
// with the Llama 3 tokenizer on one core, the word cache emptied before
// each pass (a cold single pass).
func BenchmarkEncodeLlama3(b *testing.B) {
	v, err := LoadDir(sharedFile(b, "tokenizers/llama3"))
	if err != nil {
		b.Fatal(err)
	}
	tok, err := New(v)
	if err != nil {
		b.Fatal(err)
	}
	text := mixedText(benchTextSize)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var n, passes int
	cpu0 := cputime.Seconds()
	for b.Loop() {
		tok.bpe.cache = newWordCache()
		n = len(tok.Encode(text))
		passes++
	}
	// Throughput per second of CPU time, robust against other processes
	// sharing the machine (wall-clock MB/s is b.SetBytes' figure).
	b.ReportMetric(float64(passes*len(text))/1e6/(cputime.Seconds()-cpu0), "MB/cpu-s")
	b.ReportMetric(float64(n), "tokens")
}
