package firedrill_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// echoFloorArg makes the test binary an echo server (TestMain).
const echoFloorArg = "echo-floor"

// chainCrossings is how many request/response round trips cross a process
// boundary for one client request of BenchmarkChain's chain once the
// harness's own hops are in memory: router -> gateway instance, gateway ->
// its edge proxy, router -> checkout instance, checkout -> its edge proxy,
// router -> payments instance.
const chainCrossings = 5

// BenchmarkHopFloor measures what the machine charges for the least a
// cross-process hop needs: one 100-byte message each way over a keep-alive
// loopback TCP connection between this process and a child on one
// processor (as a fixture instance runs), paced at FIREDRILL_BENCH_RATE
// round trips per second (default 4,000) over 32 connections, with no HTTP
// at all. The CPU of both processes per round trip, times chainCrossings,
// is the floor under BenchmarkChain's CPU per client request: no design
// that keeps the instances real processes can go below it.
func BenchmarkHopFloor(b *testing.B) {
	rate, secs := envInt("FIREDRILL_BENCH_RATE", 4000), envInt("FIREDRILL_BENCH_SECONDS", 5)
	for i := 0; i < b.N; i++ {
		self, kids := cpuTime(syscall.RUSAGE_SELF), cpuTime(syscall.RUSAGE_CHILDREN)
		n := pingPong(b, rate, secs)
		self, kids = cpuTime(syscall.RUSAGE_SELF)-self, cpuTime(syscall.RUSAGE_CHILDREN)-kids
		perTrip := float64((self + kids).Microseconds()) / float64(n)
		b.ReportMetric(float64(rate), "target_rps")
		b.ReportMetric(perTrip, "cpu_us/round_trip")
		b.ReportMetric(float64(self.Microseconds())/float64(n), "sender_cpu_us/round_trip")
		b.ReportMetric(perTrip*chainCrossings/1000, "chain_floor_ms/req")
	}
}

// pingPong runs the paced exchange against a child echo server and returns
// the number of round trips; the child has exited when it returns.
func pingPong(b *testing.B, rate, secs int) int {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, echoFloorArg)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	work := make(chan struct{}, 1024)
	var wg sync.WaitGroup
	for range 32 {
		c, err := net.Dial("tcp", strings.TrimSpace(addr))
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			defer c.Close()
			buf := make([]byte, 100)
			for range work {
				if _, err := c.Write(buf); err != nil {
					return
				}
				if _, err := c.Read(buf); err != nil {
					return
				}
			}
		})
	}
	n := rate * secs
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	return n
}

// serveEchoFloor echoes on a loopback port it prints, until killed.
func serveEchoFloor() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 100)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
		}()
	}
}
