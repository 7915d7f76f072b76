// echosvc is a tiny HTTP service for the local runtime's tests. It answers
// every request with its version and instance (from the runtime's env); on
// /call it first calls its dependency and reports who answered there.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	port := flag.Int("port", 0, "port to listen on (127.0.0.1)")
	dep := flag.String("dep", "", "host:port of the dependency called on /call")
	flag.Parse()
	version, instance := os.Getenv("FIREDRILL_VERSION"), os.Getenv("FIREDRILL_INSTANCE")
	greeting := os.Getenv("ECHO_GREETING")
	client := &http.Client{Timeout: 10 * time.Second}

	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Firedrill-Version", version)
		w.Header().Set("X-Firedrill-Instance", instance)
		if r.URL.Path == "/call" && *dep != "" {
			resp, err := client.Get("http://" + *dep + "/")
			if err != nil {
				http.Error(w, "dep: "+err.Error(), http.StatusBadGateway)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			fmt.Fprintf(w, "%s %s dep=%s/%s\n", version, instance,
				resp.Header.Get("X-Firedrill-Version"), resp.Header.Get("X-Firedrill-Instance"))
			return
		}
		fmt.Fprintf(w, "%s %s greeting=%s\n", version, instance, greeting)
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))
	log.Printf("echosvc %s listening on %s", instance, addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}
