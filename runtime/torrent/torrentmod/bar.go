package torrentmod

import (
	"os"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// showBar draws a progress bar for a download of total bytes, reading how
// far it is with have, until done is closed or the returned stop is called.
func showBar(name string, total int64, have func() int64, done <-chan struct{}) (stop func()) {
	prog := mpb.New(mpb.WithOutput(os.Stdout), mpb.WithWidth(40), mpb.WithRefreshRate(150*time.Millisecond))
	bar := prog.AddBar(total,
		mpb.PrependDecorators(decor.Name(name+" "), decor.CountersKibiByte("% .1f / % .1f")),
		mpb.AppendDecorators(decor.Percentage()),
	)
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(150 * time.Millisecond) // screen refresh: real time, not the lab's
		defer tick.Stop()
		for {
			select {
			case <-done:
				bar.SetCurrent(total)
				return
			case <-quit:
				bar.Abort(false)
				return
			case <-tick.C:
				bar.SetCurrent(have())
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
		prog.Wait()
	}
}
