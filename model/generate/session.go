package generate

import "github.com/lorakit/lorakit/model"

// Session is one sequence a model is decoding.
type Session interface {
	// Step appends tokens to the sequence and returns the logits (one per
	// vocabulary entry) that predict the token after the last. The slice
	// belongs to the caller.
	Step(tokens []int) ([]float32, error)
	// Fork returns an independent copy of the sequence (its KV cache), so
	// that two beams can continue one prefix differently.
	Fork() Session
}

// modelSession adapts a model's KV-cache session.
type modelSession struct{ s *model.Session }

// FromModel starts an empty Session of m.
func FromModel(m *model.Model) Session { return modelSession{m.NewSession()} }

// Step implements Session.
func (s modelSession) Step(tokens []int) ([]float32, error) { return s.s.Step(tokens) }

// Fork implements Session by copying the KV cache.
func (s modelSession) Fork() Session { return modelSession{s.s.Clone()} }
