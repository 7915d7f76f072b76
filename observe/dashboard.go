package observe

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/firedrill/firedrill/record"
)

//go:embed dashboard.html
var dashboardHTML []byte

// DashEvent is one notable event on the dashboard's timeline.
type DashEvent struct {
	T       float64 `json:"t"` // seconds since the metrics started
	Kind    string  `json:"kind"`
	Message string  `json:"message"`
}

// dashEvent keeps what the dashboard shows of e. m.mu is held.
func (m *Metrics) dashEvent(e record.Event) {
	switch e.Kind {
	case "gate_opened":
		m.gate = e.Message
	case "gate_approved", "gate_rejected":
		m.gate = ""
	case "alert":
		m.alert = e.Message
	case "decision", record.EvRollbackStarted, record.EvPromoted:
		m.alert = ""
	case record.EvRunStarted:
		if id, ok := e.Fields["run_id"].(string); ok {
			m.runID = id
		}
	case "control_endpoint":
		m.control = e.Fields["error"] == nil
	case EvAlertLiveFiring, EvAlertLiveResolved:
		if name, ok := e.Fields["alert"].(string); ok {
			m.firing[name] = e.Kind == EvAlertLiveFiring
		}
	}
	switch e.Kind {
	case record.EvInstanceHealthy, record.EvInstanceStarted, "listening":
		return // too many for a timeline
	}
	if name, ok := e.Fields["fault"].(string); ok && m.faults[name].hidden {
		return // unannounced: the responders must find it
	}
	if len(m.events) >= 500 {
		m.events = m.events[1:]
	}
	m.events = append(m.events, DashEvent{T: e.At.Sub(m.started).Seconds(), Kind: e.Kind, Message: e.Message})
}

// SetRunID names the run on the dashboard.
func (m *Metrics) SetRunID(id string) {
	m.mu.Lock()
	m.runID = id
	m.mu.Unlock()
}

// State is what the dashboard page polls.
type State struct {
	RunID    string             `json:"run_id"`
	Scenario string             `json:"scenario"`
	Elapsed  float64            `json:"elapsed_s"`
	PerSec   [][2]uint64        `json:"per_second"`
	Step     float64            `json:"step"`
	Weights  []Weight           `json:"weights"`
	Faults   []string           `json:"active_faults"`
	Gate     string             `json:"open_gate"`
	Alert    string             `json:"open_alert"`
	Control  bool               `json:"control"`
	Events   []DashEvent        `json:"events"`
	Expect   map[string]float64 `json:"expectations"`
	Firing   []string           `json:"firing_alerts"`
}

// Weight is one version's share of the rolled-out service's traffic.
type Weight struct {
	Version string  `json:"version"`
	Percent float64 `json:"percent"`
}

// State returns the run as the dashboard shows it.
func (m *Metrics) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.catchUp()
	st := State{RunID: m.runID, Scenario: m.sc.Name, Elapsed: time.Since(m.started).Seconds(), Step: m.step,
		Gate: m.gate, Alert: m.alert, Control: m.control, Faults: []string{}, Weights: []Weight{},
		PerSec: append([][2]uint64{}, m.perSec...), Events: append([]DashEvent{}, m.events...), Expect: map[string]float64{}}
	for name, f := range m.faults {
		if f.active && !f.hidden {
			st.Faults = append(st.Faults, name)
		}
	}
	if ro := m.sc.Rollout; ro != nil {
		for sv, w := range m.weights {
			if sv[0] == ro.Service {
				st.Weights = append(st.Weights, Weight{Version: sv[1], Percent: w})
			}
		}
	}
	for k, v := range m.expect {
		st.Expect[k] = v
	}
	st.Firing = []string{}
	for name, on := range m.firing {
		if on {
			st.Firing = append(st.Firing, name)
		}
	}
	slices.Sort(st.Firing)
	return st
}

// ControlAddr finds the run's control endpoint ("", error when it has none).
type ControlAddr func() (string, error)

// Dashboard returns the handlers of the live dashboard: the page on "/",
// its state, and decisions and acknowledgements, which it forwards with
// the caller's token to the run's control endpoint, so they are exactly
// `firedrill approve | reject | decide | ack` with the same token.
func Dashboard(m *Metrics, control ControlAddr) map[string]http.Handler {
	return map[string]http.Handler{
		"GET /{$}": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			// Nothing leaves the page: no fetch beyond this origin.
			w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
			_, _ = w.Write(dashboardHTML)
		}),
		"GET /api/state": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			_ = json.NewEncoder(w).Encode(m.State())
		}),
		"POST /api/decide": http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			forwardDecision(w, req, control, "/v1/decisions")
		}),
		"POST /api/ack": http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			forwardDecision(w, req, control, "/v1/acks")
		}),
	}
}

func forwardDecision(w http.ResponseWriter, req *http.Request, control ControlAddr, path string) {
	addr, err := control()
	if err != nil {
		http.Error(w, fmt.Sprintf(`{"error": %q}`, "no live decisions in this run: "+err.Error()), http.StatusConflict)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<16))
	if err != nil {
		http.Error(w, `{"error": "read body"}`, http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), 10*time.Second)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		http.Error(w, `{"error": "bad control address"}`, http.StatusInternalServerError)
		return
	}
	out.Header.Set("Authorization", req.Header.Get("Authorization"))
	out.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(out)
	if err != nil {
		http.Error(w, fmt.Sprintf(`{"error": %q}`, "the control endpoint does not answer: "+err.Error()), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
