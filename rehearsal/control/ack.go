package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// AckFunc records that by acknowledged inject (a fault's name, "rollout",
// or "" for whatever is under way) and says what the acknowledgement
// covered; ErrNothingToAck when nothing was under way.
type AckFunc func(by, inject string) (covered []string, err error)

// ErrNothingToAck is an acknowledgement that found nothing under way.
var ErrNothingToAck = errors.New("nothing under way to acknowledge")

type ackRequest struct {
	Inject string `json:"inject,omitempty"`
	By     string `json:"by"`
}

type ackReply struct {
	Covered []string `json:"covered,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// ackHandler serves acknowledgements with the decisions' token.
func ackHandler(ack AckFunc, token string) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Authorization") != "Bearer "+token {
			replyJSON(w, http.StatusUnauthorized, ackReply{Error: "wrong or missing token (read it from " + Dir() + ")"})
			return
		}
		if ack == nil {
			replyJSON(w, http.StatusNotFound, ackReply{Error: "this run takes no acknowledgements"})
			return
		}
		var a ackRequest
		if err := json.NewDecoder(io.LimitReader(req.Body, 1<<16)).Decode(&a); err != nil {
			replyJSON(w, http.StatusBadRequest, ackReply{Error: "body must be JSON {\"inject\": ..., \"by\": ...}: " + err.Error()})
			return
		}
		if a.By == "" {
			a.By = "someone"
		}
		covered, err := ack("live: "+a.By, a.Inject)
		switch {
		case err == nil:
			replyJSON(w, http.StatusOK, ackReply{Covered: covered})
		case errors.Is(err, ErrNothingToAck):
			replyJSON(w, http.StatusConflict, ackReply{Error: err.Error()})
		default:
			replyJSON(w, http.StatusBadRequest, ackReply{Error: err.Error()})
		}
	}
}

// Ack tells the run ref names (see Find) that by acknowledges inject
// ("" for whatever is under way); it returns the run and what was covered.
func Ack(ctx context.Context, ref, inject, by string) (Info, []string, error) {
	info, err := Find(ref)
	if err != nil {
		return info, nil, err
	}
	body, _ := json.Marshal(ackRequest{Inject: inject, By: by})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+info.Addr+"/v1/acks", bytes.NewReader(body))
	if err != nil {
		return info, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+info.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return info, nil, fmt.Errorf("run %s does not answer on %s: %w", info.RunID, info.Addr, err)
	}
	defer resp.Body.Close()
	var reply ackReply
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return info, nil, fmt.Errorf("run %s answered %s", info.RunID, resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return info, nil, fmt.Errorf("run %s (%s): %s", info.RunID, info.Scenario, reply.Error)
	}
	return info, reply.Covered, nil
}
