package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/firedrill/firedrill/scenarios"
)

// instanceMemory is what one instance of a live run is assumed to need
// (an httpsvc process, its router backend and its share of the harness).
const instanceMemory = 30 << 20

// capacityWarning says when a live run of sc would start more instances
// than this machine's available memory holds ("" when it fits or the
// memory cannot be read).
func capacityWarning(sc *scenarios.Scenario) string {
	avail := memAvailable()
	if avail <= 0 {
		return ""
	}
	holds := int(avail / instanceMemory)
	if peak := sc.PeakInstances(); peak > holds {
		return fmt.Sprintf("a live run starts up to %d instances; this machine (%.1f GiB available) holds about %d at %d MiB each: run it in virtual time instead (firedrill simulate)",
			peak, float64(avail)/(1<<30), holds, instanceMemory>>20)
	}
	return ""
}

// memAvailable reads MemAvailable from /proc/meminfo, in bytes (0 when
// unknown).
func memAvailable() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
