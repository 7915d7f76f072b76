//go:build !linux

package traffic

import "time"

// fineSleepMax is zero off Linux: every wait uses a Go timer.
const fineSleepMax = 0

type fineTimer struct{}

func newFineTimer() *fineTimer              { return nil }
func (*fineTimer) sleep(time.Duration) bool { return false }
func (*fineTimer) close()                   {}
