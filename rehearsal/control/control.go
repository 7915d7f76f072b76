// Package control is the control endpoint of a live run: while a rollout
// goes on, a release owner approves or rejects its gates and acts on its
// alerts from another terminal (`firedrill approve RUN`). The run serves the
// decisions on 127.0.0.1 with a random token and announces itself in Dir;
// both go when it ends.
package control

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/firedrill/firedrill/simulator"
)

// EvEndpoint is the event announcing a run's control endpoint (or why it
// has none).
const EvEndpoint = "control_endpoint"

// Info is what a live run announces in Dir.
type Info struct {
	RunID    string    `json:"run_id"`
	Scenario string    `json:"scenario"`
	OutDir   string    `json:"out_dir"`
	Addr     string    `json:"addr"`
	Token    string    `json:"token"`
	PID      int       `json:"pid"`
	Started  time.Time `json:"started"`
}

// Dir is where live runs announce their control endpoints: one
// directory per user, so that users of a shared machine do not block each
// other (and only the user's own runs can be decided).
func Dir() string {
	return filepath.Join(os.TempDir(), "firedrill-control-"+strconv.Itoa(os.Getuid()))
}

type decisionRequest struct {
	Action string `json:"action"`
	By     string `json:"by"`
}

type decisionReply struct {
	Applied string `json:"applied,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Serve serves desk, and acknowledgements to ack (ack.go; nil: none),
// until the returned stop is called; stop also removes the announcement.
func Serve(desk *simulator.Desk, info Info, ack AckFunc) (stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("control endpoint: %w", err)
	}
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	info.Addr, info.Token, info.PID = ln.Addr().String(), hex.EncodeToString(tok), os.Getpid()
	if abs, err := filepath.Abs(info.OutDir); err == nil {
		info.OutDir = abs
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/decisions", func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Authorization") != "Bearer "+info.Token {
			replyJSON(w, http.StatusUnauthorized, decisionReply{Error: "wrong or missing token (read it from " + Dir() + ")"})
			return
		}
		var d decisionRequest
		if err := json.NewDecoder(io.LimitReader(req.Body, 1<<16)).Decode(&d); err != nil {
			replyJSON(w, http.StatusBadRequest, decisionReply{Error: "body must be JSON {\"action\": ..., \"by\": ...}: " + err.Error()})
			return
		}
		if d.By == "" {
			d.By = "someone"
		}
		// The controller looks for decisions between its looks (every
		// analysis interval at most); wait a little longer than one.
		ctx, cancel := context.WithTimeout(req.Context(), 3*time.Second)
		defer cancel()
		by := "live: " + d.By
		err := desk.Decide(ctx, d.Action, by)
		switch {
		case err == nil: // the controller's own event says who decided
			replyJSON(w, http.StatusOK, decisionReply{Applied: d.Action})
		case errors.Is(err, simulator.ErrNothingToDecide):
			replyJSON(w, http.StatusConflict, decisionReply{Error: err.Error()})
		default:
			replyJSON(w, http.StatusBadRequest, decisionReply{Error: err.Error()})
		}
	})
	mux.HandleFunc("POST /v1/acks", ackHandler(ack, info.Token))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()

	Sweep() // what SIGKILLed harnesses left
	path := filepath.Join(Dir(), info.RunID+".json")
	b, _ := json.MarshalIndent(info, "", "  ")
	for try := 0; try < 2; try++ { // another run may remove the empty directory in between
		if err = os.MkdirAll(Dir(), 0o700); err == nil {
			if err = os.WriteFile(path, b, 0o600); err == nil { // the token lets its reader decide
				break
			}
		}
	}
	if err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("announce the control endpoint in %s: %w", Dir(), err)
	}
	return func() {
		_ = os.Remove(path)
		_ = os.Remove(Dir()) // only when no other run announces itself there
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

func replyJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// LiveRuns lists the runs announcing a control endpoint, oldest first, and
// removes announcements whose harness is gone (SIGKILLed).
func LiveRuns() []Info {
	live, _ := scan()
	return live
}

// Sweep removes the announcements of runs whose harness is gone,
// and the directory when none is left; it returns their run ids. Every run
// with a rollout, and `firedrill clean`, calls it.
func Sweep() []string {
	live, gone := scan()
	if len(live) == 0 {
		_ = os.Remove(Dir()) // only when empty
	}
	return gone
}

func scan() (live []Info, gone []string) {
	files, _ := filepath.Glob(filepath.Join(Dir(), "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		var info Info
		if err != nil || json.Unmarshal(b, &info) != nil {
			continue
		}
		if info.PID <= 0 || syscall.Kill(info.PID, 0) == syscall.ESRCH {
			if os.Remove(f) == nil {
				gone = append(gone, info.RunID)
			}
			continue
		}
		live = append(live, info)
	}
	sort.Slice(live, func(i, j int) bool { return live[i].Started.Before(live[j].Started) })
	return live, gone
}

// Find picks the live run named by ref: its run id (or a unique prefix),
// its output directory, or "" when exactly one run is live.
func Find(ref string) (Info, error) {
	runs := LiveRuns()
	if len(runs) == 0 {
		return Info{}, errors.New("no live run with a rollout or faults on this machine (runs announce themselves in " + Dir() + " while they last)")
	}
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.RunID+" ("+r.Scenario+")")
	}
	if ref == "" {
		if len(runs) == 1 {
			return runs[0], nil
		}
		return Info{}, fmt.Errorf("%d runs are live; name one: %s", len(runs), strings.Join(ids, ", "))
	}
	abs, _ := filepath.Abs(ref)
	var found []Info
	for _, r := range runs {
		if r.RunID == ref || r.OutDir == abs {
			return r, nil
		}
		if strings.HasPrefix(r.RunID, ref) {
			found = append(found, r)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	return Info{}, fmt.Errorf("no single live run matches %q; live runs: %s", ref, strings.Join(ids, ", "))
}

// Decide sends a live decision (approve, reject, rollback, ignore) to the
// run ref names (see Find) on behalf of by.
func Decide(ctx context.Context, ref, action, by string) (Info, error) {
	info, err := Find(ref)
	if err != nil {
		return info, err
	}
	body, _ := json.Marshal(decisionRequest{Action: action, By: by})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+info.Addr+"/v1/decisions", bytes.NewReader(body))
	if err != nil {
		return info, err
	}
	req.Header.Set("Authorization", "Bearer "+info.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return info, fmt.Errorf("run %s does not answer on %s: %w", info.RunID, info.Addr, err)
	}
	defer resp.Body.Close()
	var reply decisionReply
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return info, fmt.Errorf("run %s answered %s", info.RunID, resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return info, fmt.Errorf("run %s (%s): %s", info.RunID, info.Scenario, reply.Error)
	}
	return info, nil
}
