// Package random is the Starlark module random, after Python's. Every
// script has its own generator, seeded by `netplay run --seed N` so that a
// run repeats exactly, or from the clock.
package random

import (
	"fmt"
	"math/rand/v2"

	"github.com/netplay-dev/netplay/lang"
	"go.starlark.net/starlark"
)

func fn(name, doc string, f func(r *rand.Rand, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)) *lang.Builtin {
	return lang.Func("random."+name, doc, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		return f(lang.InterpOf(th).Rand, b, args, kwargs)
	})
}

// Module is the random module.
var Module = lang.NewModule("random", `Pseudo-random numbers, as in Python's random module. netplay run --seed N
makes every run draw the same numbers.`, starlark.StringDict{
	"random": fn("random", `random() -> float

A float in [0, 1).`, func(r *rand.Rand, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		return starlark.Float(r.Float64()), nil
	}),
	"randint": fn("randint", `randint(a, b) -> int

An integer in [a, b], both ends included.`, func(r *rand.Rand, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var lo, hi int64
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &lo, "b", &hi); err != nil {
			return nil, err
		}
		if hi < lo {
			return nil, fmt.Errorf("%s: empty range [%d, %d]", b.Name(), lo, hi)
		}
		return starlark.MakeInt64(lo + r.Int64N(hi-lo+1)), nil
	}),
	"uniform": fn("uniform", `uniform(a, b) -> float

A float in [a, b).`, func(r *rand.Rand, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var lo, hi lang.Float // ints too, as in Python
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &lo, "b", &hi); err != nil {
			return nil, err
		}
		return starlark.Float(float64(lo) + float64(hi-lo)*r.Float64()), nil
	}),
	"expovariate": fn("expovariate", `expovariate(rate) -> float

An exponentially distributed float with mean 1/rate: the gaps between
Poisson arrivals at rate per second.`, func(r *rand.Rand, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var rate lang.Float
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "rate", &rate); err != nil {
			return nil, err
		}
		if rate <= 0 {
			return nil, fmt.Errorf("%s: rate must be positive, got %v", b.Name(), rate)
		}
		return starlark.Float(r.ExpFloat64() / float64(rate)), nil
	}),
	"gauss": fn("gauss", `gauss(mu=0.0, sigma=1.0) -> float

A normally distributed float.`, func(r *rand.Rand, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		mu, sigma := lang.Float(0), lang.Float(1)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "mu?", &mu, "sigma?", &sigma); err != nil {
			return nil, err
		}
		return starlark.Float(float64(mu) + float64(sigma)*r.NormFloat64()), nil
	}),
	"choice": fn("choice", `choice(seq) -> value

A random element of a non-empty sequence.`, func(r *rand.Rand, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var seq starlark.Indexable
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "seq", &seq); err != nil {
			return nil, err
		}
		if seq.Len() == 0 {
			return nil, fmt.Errorf("%s: empty sequence", b.Name())
		}
		return seq.Index(r.IntN(seq.Len())), nil
	}),
	"shuffle": fn("shuffle", `shuffle(list)

Shuffles a list in place.`, func(r *rand.Rand, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var l *starlark.List
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "list", &l); err != nil {
			return nil, err
		}
		var err error
		r.Shuffle(l.Len(), func(i, j int) {
			a, c := l.Index(i), l.Index(j)
			if e := l.SetIndex(i, c); e != nil {
				err = e
			}
			l.SetIndex(j, a)
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		return starlark.None, nil
	}),
	"sample": fn("sample", `sample(seq, k) -> list

k distinct elements of seq, in random order.`, func(r *rand.Rand, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var seq starlark.Indexable
		var k int
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "seq", &seq, "k", &k); err != nil {
			return nil, err
		}
		if k < 0 || k > seq.Len() {
			return nil, fmt.Errorf("%s: k=%d out of range for a sequence of %d", b.Name(), k, seq.Len())
		}
		perm := r.Perm(seq.Len())[:k]
		out := make([]starlark.Value, k)
		for i, p := range perm {
			out[i] = seq.Index(p)
		}
		return starlark.NewList(out), nil
	}),
	"seed": lang.Func("random.seed", `seed(n)

Restarts the generator from seed n, so what follows repeats.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var n int64
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n", &n); err != nil {
			return nil, err
		}
		u := uint64(n)
		lang.InterpOf(th).Rand = rand.New(rand.NewPCG(u, u^0x9e3779b97f4a7c15))
		return starlark.None, nil
	}),
})
