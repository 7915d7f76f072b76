package router

import (
	"fmt"
	"time"
)

// noteResult feeds one proxied request's outcome to outlier ejection.
func (r *Router) noteResult(b *backend, bad bool) {
	n := r.cfg.Ejection.ConsecutiveErrors
	if n <= 0 {
		return
	}
	if !bad {
		if b.consecErr.Load() != 0 { // read first: no shared write per good request
			b.consecErr.Store(0)
		}
		return
	}
	if b.consecErr.Add(1) >= int32(n) {
		r.tryEject(b)
	}
}

// tryEject ejects b unless that would eject more than MaxPercent of the
// service's backends. Either way the error count starts over, so a capped
// backend is reconsidered after another run of errors, not on every one.
func (r *Router) tryEject(b *backend) {
	r.mu.Lock()
	b.consecErr.Store(0)
	if r.closed || b.removing || b.ejected {
		r.mu.Unlock()
		return
	}
	total, ejected := 0, 0
	for _, o := range r.backends {
		if o.removing {
			continue
		}
		total++
		if o.ejected {
			ejected++
		}
	}
	if (ejected+1)*100 > r.cfg.Ejection.MaxPercent*total {
		r.mu.Unlock()
		return
	}
	b.ejected = true
	b.ejections++
	d := r.cfg.Ejection.BaseTime * time.Duration(b.ejections)
	b.ejectTimer = time.AfterFunc(d, func() { r.uneject(b) })
	r.rebuildLocked()
	count := b.ejections
	r.mu.Unlock()
	r.event(EvInstanceEjected, b,
		fmt.Sprintf("%d consecutive errors; ejected for %s", r.cfg.Ejection.ConsecutiveErrors, d),
		map[string]any{"duration": d.String(), "ejections": count})
}

// uneject returns b to rotation when its ejection time is over.
func (r *Router) uneject(b *backend) {
	r.mu.Lock()
	if r.closed || b.removing || !b.ejected {
		r.mu.Unlock()
		return
	}
	b.ejected = false
	b.ejectTimer = nil
	b.consecErr.Store(0)
	r.rebuildLocked()
	r.mu.Unlock()
	r.event(EvInstanceUnejected, b, "ejection time over", nil)
}
