package rehearsal

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/firedrill/firedrill/reports"
)

// The harness, its instances and the generator share the machine: when it
// has no CPU left, queues grow in all of them at once and the run measures
// the machine, not the system. watchMachine counts the seconds of traffic
// the machine spent saturated so that the report can say so.

// saturatedIdle is the idle share of all CPUs under which a second counts
// as saturated.
const saturatedIdle = 0.05

// procStat is the kernel's CPU accounting (Linux); elsewhere there is no
// watch.
const procStat = "/proc/stat"

// watchMachine samples the machine's CPU once a second until the returned
// stop is called; stop returns what it saw (nil when /proc/stat cannot be
// read or less than a second passed).
func watchMachine() (stop func() *reports.MachineLoad) {
	var c loadCounter
	busy, total, err := readCPU(procStat)
	if err != nil {
		return func() *reports.MachineLoad { return nil }
	}
	c.add(busy, total)
	done, result := make(chan struct{}), make(chan *reports.MachineLoad, 1)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if busy, total, err := readCPU(procStat); err == nil {
					c.add(busy, total)
				}
			case <-done:
				result <- c.load(runtime.NumCPU())
				return
			}
		}
	}()
	return func() *reports.MachineLoad {
		close(done)
		return <-result
	}
}

// loadCounter turns successive cumulative CPU readings into seconds.
type loadCounter struct {
	started             bool
	lastBusy, lastTotal uint64
	busySum, totalSum   uint64
	seconds, saturated  int
}

func (c *loadCounter) add(busy, total uint64) {
	if !c.started || total <= c.lastTotal || busy < c.lastBusy {
		c.started, c.lastBusy, c.lastTotal = true, busy, total // first reading, or counters reset
		return
	}
	db, dt := busy-c.lastBusy, total-c.lastTotal
	c.lastBusy, c.lastTotal = busy, total
	c.busySum += db
	c.totalSum += dt
	c.seconds++
	if float64(dt-min(db, dt))/float64(dt) < saturatedIdle {
		c.saturated++
	}
}

func (c *loadCounter) load(cpus int) *reports.MachineLoad {
	if c.seconds == 0 {
		return nil
	}
	return &reports.MachineLoad{CPUs: cpus, Seconds: c.seconds, SaturatedSeconds: c.saturated,
		BusyPercent: float64(int(float64(c.busySum)/float64(c.totalSum)*1000+0.5)) / 10}
}

// readCPU reads the machine-wide "cpu" line of /proc/stat.
func readCPU(path string) (busy, total uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if sc.Scan() {
		if busy, total, ok := parseCPULine(sc.Text()); ok {
			return busy, total, nil
		}
	}
	return 0, 0, os.ErrInvalid
}

// parseCPULine parses "cpu user nice system idle iowait irq softirq steal
// ...": idle and iowait are idle time, the rest (steal too: the host took
// it) is busy. Guest times are already inside user and nice.
func parseCPULine(line string) (busy, total uint64, ok bool) {
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, false
	}
	var idle uint64
	for i, s := range f[1:min(len(f), 9)] { // user .. steal
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	return total - idle, total, true
}
