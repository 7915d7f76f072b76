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
	"sort"
	"strconv"
	"sync"
	"time"
)

func main() {
	port := flag.Int("port", 0, "port to listen on (127.0.0.1)")
	dep := flag.String("dep", "", "host:port of the dependency called on /call")
	flag.Parse()
	version, instance := os.Getenv("FIREDRILL_VERSION"), os.Getenv("FIREDRILL_INSTANCE")
	greeting := os.Getenv("ECHO_GREETING")
	status, _ := strconv.Atoi(os.Getenv("ECHO_STATUS")) // answer work with this status (0: 200)
	client := &http.Client{Timeout: 10 * time.Second}

	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	// Feature flags as the httpsvc fixture serves them: POST /flags/{name}?on=
	// flips one, GET /flagstate lists them.
	var mu sync.Mutex
	flags := map[string]string{}
	http.HandleFunc("POST /flags/{name}", func(w http.ResponseWriter, r *http.Request) {
		on := r.URL.Query().Get("on")
		if on != "true" && on != "false" {
			http.Error(w, "on must be true or false", http.StatusBadRequest)
			return
		}
		mu.Lock()
		flags[r.PathValue("name")] = on
		mu.Unlock()
	})
	http.HandleFunc("/flagstate", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		names := make([]string, 0, len(flags))
		for k := range flags {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(w, "%s=%s\n", k, flags[k])
		}
	})
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
		if status != 0 {
			w.WriteHeader(status)
		}
		fmt.Fprintf(w, "%s %s greeting=%s\n", version, instance, greeting)
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))
	log.Printf("echosvc %s listening on %s", instance, addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}
