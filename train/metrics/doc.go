// Package metrics scores generated text against references with the
// metrics of the E2E NLG Challenge, as its official scorer
// (tuetschek/e2e-metrics, used by microsoft/LoRA) computes them, all at the
// corpus level with several references per output:
//
//   - BLEU and NIST exactly as mteval-v13a.pl (the scorer's default, Perl
//     path): its tokenization and lowercasing, BLEU with the closest
//     reference length (ties to the shorter) and its smoothing of zero
//     n-gram matches, NIST with information weights from the references and
//     its length penalty β = −ln 0.5 / ln² 1.5. The scorer pads groups with
//     fewer references with empty ones, so NIST's average reference length
//     is total reference words / the largest number of references.
//   - ROUGE-L and CIDEr(-D) as pycocoevalcap computes them: ROUGE-L's F with
//     β = 1.2 from the best precision and the best recall over the
//     references, averaged over outputs; CIDEr-D with tf-idf over 1-4 grams,
//     document frequencies from the references, clipping, a Gaussian length
//     penalty σ = 6 and a factor 10.
//   - METEOR (exact match only): full METEOR needs WordNet and paraphrase
//     tables, which are out of reach; this is the classic METEOR formula
//     (Lavie & Agarwal 2007: α = 0.9, β = 3, γ = 0.5) on exact unigram
//     matches. It is lower than the official METEOR 1.5 and must be labelled
//     so wherever it is reported.
//
// The COCO metrics run on text tokenized by Stanford's PTBTokenizer in the
// official scorer (Java); CocoTokenize approximates it for pre-tokenized
// text such as the E2E references: lowercase, split on whitespace, drop
// punctuation tokens.
//
// Scores are fractions as the scorers print them (BLEU 0.684 is the
// paper's 68.4); NIST and CIDEr are unbounded.
package metrics
