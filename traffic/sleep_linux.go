package traffic

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fineSleepMax is the longest wait slept on a fineTimer instead of a Go
// timer. An idle Go runtime waits for its timers in epoll_wait, which counts
// in whole milliseconds, so a timer fires up to ~1 ms late; at loopback
// latencies that lag would dominate every sample.
const fineSleepMax = 2 * time.Millisecond

// fineTimer is a timerfd read through Go's netpoller: the goroutine parks
// (its thread and P stay free for others) and epoll wakes it when the fd
// fires, with the kernel's hrtimer precision instead of epoll's milliseconds.
type fineTimer struct {
	f  *os.File
	fd int
}

// newFineTimer returns nil when timerfd is unavailable; callers then use Go
// timers only.
func newFineTimer() *fineTimer {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil
	}
	return &fineTimer{f: os.NewFile(uintptr(fd), "traffic-timerfd"), fd: fd}
}

// sleep waits about d (at most fineSleepMax); false if the timer failed,
// and the caller falls back to a Go timer.
func (t *fineTimer) sleep(d time.Duration) bool {
	if d < time.Microsecond {
		d = time.Microsecond // a zero it_value would disarm the timer
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(t.fd, 0, &spec, nil); err != nil {
		return false
	}
	var expirations [8]byte
	_, err := t.f.Read(expirations[:])
	return err == nil
}

func (t *fineTimer) close() {
	if t != nil {
		_ = t.f.Close()
	}
}
