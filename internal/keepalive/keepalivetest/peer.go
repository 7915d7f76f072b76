// Package keepalivetest has the raw HTTP/1.1 peer the lean clients' tests
// compare their bytes on the wire against. Imported only by tests.
package keepalivetest

import (
	"bufio"
	"net"
	"strings"
	"testing"
)

// HeadPeer listens on loopback, records each request head exactly as sent
// and answers every request with resp; closeAfter closes a connection
// after that many answers (0: never). The listener closes at the end of
// the test.
func HeadPeer(t testing.TB, resp string, closeAfter int) (addr string, heads chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on loopback: %v", err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	heads = make(chan string, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go answer(c, heads, resp, closeAfter)
		}
	}()
	return ln.Addr().String(), heads
}

func answer(c net.Conn, heads chan<- string, resp string, closeAfter int) {
	defer c.Close()
	br := bufio.NewReader(c)
	for n := 1; ; n++ {
		var head strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			head.WriteString(line)
			if line == "\r\n" {
				break
			}
		}
		heads <- head.String()
		if _, err := c.Write([]byte(resp)); err != nil || n == closeAfter {
			return
		}
	}
}
