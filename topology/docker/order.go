package docker

import (
	"errors"
	"fmt"
	"strings"

	"github.com/firedrill/firedrill/scenarios"
)

func replicas(n int) int { return max(n, 1) }

// dependencyOrder returns the services with every dependency before its
// dependents, otherwise in file order.
func dependencyOrder(sc *scenarios.Scenario) ([]*scenarios.Service, error) {
	byName := map[string]*scenarios.Service{}
	for _, s := range sc.Services {
		byName[s.Name] = s
	}
	state := map[string]int{} // 1 visiting, 2 done
	var out []*scenarios.Service
	var visit func(s *scenarios.Service, path []string) error
	visit = func(s *scenarios.Service, path []string) error {
		switch state[s.Name] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("dependency cycle: %s; break it in depends_on", strings.Join(append(path, s.Name), " -> "))
		}
		state[s.Name] = 1
		for _, d := range s.DependsOn {
			ds := byName[d]
			if ds == nil && sc.Database(d) != nil {
				continue // databases are up before the topology (topology.Options.DatabaseAddr)
			}
			if ds == nil {
				return fmt.Errorf("service %s depends on %s, which is not a service of the scenario; add it or fix depends_on", s.Name, d)
			}
			if err := visit(ds, append(path, s.Name)); err != nil {
				return err
			}
		}
		state[s.Name] = 2
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

// levels groups services (in dependency order) so that each group depends
// only on earlier groups.
func levels(order []*service) [][]*service {
	level := map[string]int{}
	var out [][]*service
	for _, s := range order {
		l := 0
		for _, d := range s.spec.DependsOn {
			l = max(l, level[d]+1)
		}
		level[s.spec.Name] = l
		for len(out) <= l {
			out = append(out, nil)
		}
		out[l] = append(out[l], s)
	}
	return out
}
