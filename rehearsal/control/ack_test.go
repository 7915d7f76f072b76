package control

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/simulator"
)

// Acknowledgements reach the run's AckFunc with the responder's name, need
// the token, and carry the run's refusal back.
func TestAcknowledgeThroughEndpoint(t *testing.T) {
	id := "test" + randomID()
	var got []string
	ack := func(by, inject string) ([]string, error) {
		switch inject {
		case "", "slow-db":
			got = append(got, by+"|"+inject)
			return []string{"slow-db"}, nil
		case "later":
			return nil, ErrNothingToAck
		}
		return nil, errors.New(`no inject "` + inject + `"`)
	}
	stop, err := Serve(simulator.NewDesk(), Info{RunID: id, Scenario: "s", OutDir: t.TempDir(), Started: time.Now()}, ack)
	require.NoError(t, err)
	defer stop()

	ctx := context.Background()
	_, covered, err := Ack(ctx, id, "", "carol")
	require.NoError(t, err)
	assert.Equal(t, []string{"slow-db"}, covered)
	_, _, err = Ack(ctx, id, "later", "carol")
	assert.ErrorContains(t, err, "nothing under way to acknowledge")
	_, _, err = Ack(ctx, id, "nope", "carol")
	assert.ErrorContains(t, err, `no inject "nope"`)
	assert.Equal(t, []string{"live: carol|"}, got)

	info, err := Find(id)
	require.NoError(t, err)
	resp, err := http.Post("http://"+info.Addr+"/v1/acks", "application/json", strings.NewReader(`{"by":"mallory"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Len(t, got, 1, "no token, no acknowledgement")
}
