package cluster

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/scenarios"
)

func names(ss []*scenarios.Service) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}

func TestDependencyOrder(t *testing.T) {
	svc := func(name string, deps ...string) *scenarios.Service {
		return &scenarios.Service{Name: name, DependsOn: deps}
	}
	cases := []struct {
		name    string
		svcs    []*scenarios.Service
		dbs     map[string]*scenarios.Database
		want    []string
		wantErr string
	}{
		{"chain in file order", []*scenarios.Service{svc("web", "api"), svc("api", "db"), svc("db")}, nil, []string{"db", "api", "web"}, ""},
		{"independent keep file order", []*scenarios.Service{svc("x"), svc("y"), svc("z")}, nil, []string{"x", "y", "z"}, ""},
		{"diamond", []*scenarios.Service{svc("a", "b", "c"), svc("b", "d"), svc("c", "d"), svc("d")}, nil, []string{"d", "b", "c", "a"}, ""},
		{"a database is no service", []*scenarios.Service{svc("a", "pg")}, map[string]*scenarios.Database{"pg": {Name: "pg"}}, []string{"a"}, ""},
		{"cycle", []*scenarios.Service{svc("a", "b"), svc("b", "c"), svc("c", "a")}, nil, nil, "dependency cycle: a -> b -> c -> a"},
		{"unknown", []*scenarios.Service{svc("a", "ghost")}, nil, nil, "depends on ghost"},
		{"empty", nil, nil, nil, "no services"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DependencyOrder(&scenarios.Scenario{Services: tc.svcs, Databases: tc.dbs})
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, names(got))
		})
	}
}

func TestLevels(t *testing.T) {
	sc := &scenarios.Scenario{Services: []*scenarios.Service{
		{Name: "gw", DependsOn: []string{"api", "auth"}},
		{Name: "api", DependsOn: []string{"db"}},
		{Name: "auth"},
		{Name: "db"},
	}}
	order, err := DependencyOrder(sc)
	require.NoError(t, err)
	var svcs []*Service
	for i, s := range order {
		svcs = append(svcs, newService(s, i))
	}
	var got [][]string
	for _, l := range Levels(svcs) {
		var names []string
		for _, s := range l {
			names = append(names, s.Name())
		}
		got = append(got, names)
	}
	assert.Equal(t, [][]string{{"db", "auth"}, {"api"}, {"gw"}}, got)
}

func TestProxyNameAndHealth(t *testing.T) {
	assert.Equal(t, "checkout__payments", ProxyName(scenarios.Edge{From: "checkout", To: "payments"}))
	assert.Equal(t, "a_b__c.d-e", ProxyName(scenarios.Edge{From: "a/b", To: "c.d-e"}))
	assert.Equal(t, "a_x__b.c", ProxyName(scenarios.Edge{From: "a x", To: "b.c"}))

	assert.Equal(t, "/healthz", newService(&scenarios.Service{Name: "f", Fixture: "httpsvc"}, 0).Health.HTTP, "fixtures default to HTTP /healthz")
	assert.Equal(t, "", newService(&scenarios.Service{Name: "c", Command: []string{"x"}}, 0).Health.HTTP, "commands default to TCP")
	tcp := newService(&scenarios.Service{Name: "f", Fixture: "httpsvc", Health: scenarios.Health{TCP: true}}, 0).Health
	assert.True(t, tcp.TCP)
	assert.Equal(t, "", tcp.HTTP, "a fixture told to use TCP keeps it")
	assert.Equal(t, 1, Replicas(0))
	assert.Equal(t, 3, Replicas(3))
}
