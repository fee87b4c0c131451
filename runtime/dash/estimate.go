package dash

import "math"

// Estimator turns each download's measured throughput and latency into
// the estimates ABR rules use: exponentially weighted moving averages with
// a fast and a slow half-life, taking the more pessimistic of the two
// (the lower throughput, the higher latency), as dash.js and Sabre do.
//
// A sample's weight grows with how long its download took: a 2-second
// download moves the throughput estimate as much as two 1-second ones.
// Latency has one sample per download, so its half-life is counted in
// downloads (half-life seconds / segment seconds).
type Estimator struct {
	HalfLives []float64 // seconds; Sabre's defaults are 3 and 8
	Segment   float64   // segment duration, for the latency half-lives

	tput, lat      []float64 // one average per half-life, biased towards 0
	tputTime, latN float64   // total weight so far, to remove that bias
	samples        []float64 // last throughputs, most recent last
	Throughput     float64   // bits per second; 0 until the first sample
	Latency        float64   // seconds
}

// MaxSamples is how many recent throughput samples an ABR state shows.
const MaxSamples = 20

// NewEstimator returns an estimator with Sabre's half-lives (3 s and 8 s).
func NewEstimator(segment float64, halfLives ...float64) *Estimator {
	if len(halfLives) == 0 {
		halfLives = []float64{3, 8}
	}
	return &Estimator{HalfLives: halfLives, Segment: segment,
		tput: make([]float64, len(halfLives)), lat: make([]float64, len(halfLives))}
}

// Add records one download: it took seconds (after its first bit) at
// throughput bits per second, and its first bit came after latency.
func (e *Estimator) Add(seconds, throughput, latency float64) {
	e.samples = append(e.samples, throughput)
	if len(e.samples) > MaxSamples {
		e.samples = e.samples[1:]
	}
	e.tputTime += seconds
	e.latN++
	e.Throughput, e.Latency = 0, 0
	for i, h := range e.HalfLives {
		a := math.Pow(0.5, seconds/h)
		e.tput[i] = a*e.tput[i] + (1-a)*throughput
		hl := h / e.Segment // in downloads
		a = math.Pow(0.5, 1/hl)
		e.lat[i] = a*e.lat[i] + (1-a)*latency

		// An average that started at 0 is too low by this factor.
		t := e.tput[i] / (1 - math.Pow(0.5, e.tputTime/h))
		l := e.lat[i] / (1 - math.Pow(0.5, e.latN/hl))
		if i == 0 || t < e.Throughput {
			e.Throughput = t
		}
		if i == 0 || l > e.Latency {
			e.Latency = l
		}
	}
}

// Samples returns the last throughput samples, most recent last.
func (e *Estimator) Samples() []float64 { return append([]float64(nil), e.samples...) }
