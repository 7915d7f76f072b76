package cluster

import (
	"errors"
	"fmt"
	"strings"

	"github.com/firedrill/firedrill/scenarios"
)

// Replicas is a service's instance count (at least one).
func Replicas(n int) int { return max(n, 1) }

// ProxyName names an edge's Toxiproxy proxy: "a__b", with anything but
// letters, digits, '-' and '.' turned into '_' (the name goes into URLs).
func ProxyName(e scenarios.Edge) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				return r
			}
			return '_'
		}, s)
	}
	return clean(e.From) + "__" + clean(e.To)
}

// DependencyOrder returns the services with every dependency before its
// dependents, otherwise in file order. Databases are not services: they
// are up before the topology (topology.Options.DatabaseAddr).
func DependencyOrder(sc *scenarios.Scenario) ([]*scenarios.Service, error) {
	byName := map[string]*scenarios.Service{}
	for _, s := range sc.Services {
		byName[s.Name] = s
	}
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var out []*scenarios.Service
	var visit func(s *scenarios.Service, path []string) error
	visit = func(s *scenarios.Service, path []string) error {
		switch state[s.Name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("dependency cycle: %s; break it in depends_on", strings.Join(append(path, s.Name), " -> "))
		}
		state[s.Name] = visiting
		for _, d := range s.DependsOn {
			ds := byName[d]
			if ds == nil && sc.Database(d) != nil {
				continue
			}
			if ds == nil {
				return fmt.Errorf("service %s depends on %s, which is not in the scenario; add it or fix depends_on", s.Name, d)
			}
			if err := visit(ds, append(path, s.Name)); err != nil {
				return err
			}
		}
		state[s.Name] = done
		out = append(out, s)
		return nil
	}
	for _, s := range sc.Services {
		if err := visit(s, nil); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the scenario has no services; add at least one")
	}
	return out, nil
}

// Levels groups services (in dependency order) so that each group depends
// only on earlier groups: their count is the number of health waits a
// start-up makes one after another (services start as soon as their own
// dependencies are ready; see startAll).
func Levels(order []*Service) [][]*Service {
	level := map[string]int{}
	var out [][]*Service
	for _, s := range order {
		l := 0
		for _, d := range s.Spec.DependsOn {
			l = max(l, level[d]+1)
		}
		level[s.Name()] = l
		for len(out) <= l {
			out = append(out, nil)
		}
		out[l] = append(out[l], s)
	}
	return out
}
