package model

// embeddingForward looks tokens up in the token embedding, multiplies them
// by scale (Gemma's √n_embd; 1 leaves them as they are) and, for GPT-2,
// adds the learned position embedding; sequences are T long and start at
// position pos0.
//
//	tokens (B*T), wte (V,C), wpe (Context,C) or nil -> out (B*T,C)
func embeddingForward(out []float32, tokens []int, T, pos0 int, wte *Matrix, wpe []float32, scale float32) {
	C := wte.Cols
	for i, id := range tokens {
		row := out[i*C : (i+1)*C]
		wte.RowsTo(row, id, id+1)
		if scale != 1 {
			for c := range row {
				row[c] *= scale
			}
		}
		if wpe != nil {
			p := wpe[(pos0+i%T)*C:]
			for c := range row {
				row[c] += p[c]
			}
		}
	}
}

// embeddingBackward accumulates the gradient of the lookup (times scale)
// into the embedding tables (full fine-tuning only); dwpe may be nil.
//
//	dout (B*T,C), tokens (B*T) -> dwte (V,C) +=, dwpe (Context,C) +=
func embeddingBackward(dwte, dwpe []float32, dout []float32, tokens []int, T, C int, scale float32) {
	for i, id := range tokens {
		d := dout[i*C : (i+1)*C]
		w := dwte[id*C : (id+1)*C]
		for c, g := range d {
			w[c] += g * scale
		}
		if dwpe != nil {
			p := dwpe[(i%T)*C:]
			for c, g := range d {
				p[c] += g
			}
		}
	}
}
