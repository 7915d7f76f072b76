package scenarios

// Compare asks for a comparison with the scenario's last GO runs (the
// baseline) in the run history, after the verdict: a figure worse than
// the baseline's median by more than its margin turns the run NO-GO. With
// no history (or none reachable) the comparison is skipped with a warning.
type Compare struct {
	// Last is how many GO runs make the baseline (default 5).
	Last int `yaml:"last,omitempty" json:"last,omitempty"`
	// P99Margin: the clients' p99 may exceed the baseline median by this
	// fraction (0.2 = 20%); unset: not compared.
	P99Margin *float64 `yaml:"p99_margin,omitempty" json:"p99_margin,omitempty"`
	// RestoreMargin: the same for the time to restore (rollback or RTO).
	RestoreMargin *float64 `yaml:"restore_margin,omitempty" json:"restore_margin,omitempty"`
}

// DefaultCompareLast is compare.last when unset.
const DefaultCompareLast = 5
