package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// FlagTimeout bounds one instance's flag flip.
const FlagTimeout = 2 * time.Second

// flagClient talks to instances directly (never through an environment proxy).
var flagClient = &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: FlagTimeout}

// FlagTarget is one instance whose flag is flipped: its name (for errors)
// and the host:port the harness reaches it at ("" when it never started).
type FlagTarget struct{ Name, Addr string }

// PostFlags flips flag on every target (POST /flags/{flag}?on=..., which
// the httpsvc fixture serves), the runtimes' FeatureFlags. Every target is
// tried; the error names those that failed.
func PostFlags(ctx context.Context, service, version, flag string, on bool, targets []FlagTarget) error {
	if len(targets) == 0 {
		return fmt.Errorf("set flag %s: %s has no instance of version %s", flag, service, version)
	}
	var errs []error
	for _, in := range targets {
		if err := postFlag(ctx, in.Addr, flag, on); err != nil {
			errs = append(errs, fmt.Errorf("instance %s: %w", in.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("set flag %s=%v on %s %s: %w; the service must serve POST /flags/{name}?on= (the httpsvc fixture does)", flag, on, service, version, err)
	}
	return nil
}

func postFlag(ctx context.Context, addr, flag string, on bool) error {
	if addr == "" {
		return errors.New("it has no address (it never started)")
	}
	ctx, cancel := context.WithTimeout(ctx, FlagTimeout)
	defer cancel()
	u := "http://" + addr + "/flags/" + url.PathEscape(flag) + "?on=" + strconv.FormatBool(on)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := flagClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: status %d: %s", u, resp.StatusCode, body)
	}
	return nil
}
