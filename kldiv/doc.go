// Package kldiv measures how far a model's next-token distributions are
// from a reference model's on the same tokens, as llama.cpp's
// llama-perplexity --kl-divergence does: per token the Kullback-Leibler
// divergence KL(P_ref ‖ P_model), whether both put their maximum on the
// same token, and the perplexities of the text under each.
//
// Compare scores one position; an Accumulator gathers positions and
// returns a Result (mean, median, percentiles of KL, top-1 agreement,
// perplexities and their difference). Run drives two models over a text
// in llama-perplexity's chunks (BOS first, the second half of each chunk
// scored).
//
// Unlike llama-perplexity, which stores the reference's log-probabilities
// as 16-bit integers and skips reference probabilities below e⁻¹⁶, both
// distributions are used in float64, exactly.
package kldiv
