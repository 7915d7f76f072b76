package analysis

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTwoProportionsSampleSizeTextbook(t *testing.T) {
	// Fleiss, Levin & Paik eq. 4.14 without continuity correction, equal
	// arms: n = [z_{α/2}·sqrt(2p̄q̄) + z_β·sqrt(p1q1 + p2q2)]² / (p2-p1)².
	// 1% -> 2%, α 0.05 two-sided, power 0.8: p̄ = 0.015,
	// sqrt(2·0.015·0.985) = 0.171901, sqrt(0.0099+0.0196) = 0.171756,
	// (1.959964·0.171901 + 0.841621·0.171756)² / 0.0001 = 2318.16 -> 2,319.
	d := TwoProportions{P1: 0.01, P2: 0.02, Alpha: 0.05, Alt: TwoSided}
	n1, n2, err := d.SampleSize(0.8)
	require.NoError(t, err)
	assert.InEpsilon(t, 2319, n1, 0.01)
	assert.Equal(t, 2319, n1)
	assert.Equal(t, 2319, n2)
	// The power at that size is just above 0.8, one fewer just below.
	assert.GreaterOrEqual(t, d.Power(2319), 0.8)
	assert.Less(t, d.Power(2318), 0.8)

	// 5% -> 10%, same α and power: the familiar 435 per group
	// ((1.959964·sqrt(2·0.075·0.925) + 0.841621·sqrt(0.1375))² / 0.0025
	// = 434.43).
	n1, _, err = TwoProportions{P1: 0.05, P2: 0.10, Alpha: 0.05, Alt: TwoSided}.SampleSize(0.8)
	require.NoError(t, err)
	assert.Equal(t, 435, n1)

	// One-sided at 0.05 (z = 1.644854): (1.644854·0.171901 +
	// 0.841621·0.171756)² / 0.0001 = 1825.90 -> 1,826.
	n1, _, err = TwoProportions{P1: 0.01, P2: 0.02, Alpha: 0.05, Alt: Greater}.SampleSize(0.8)
	require.NoError(t, err)
	assert.Equal(t, 1826, n1)

	// Arcsine: h = 2·asin(√0.02) - 2·asin(√0.01) = 0.0834614,
	// n = 2·((1.959964+0.841621)/h)² = 2253.66 -> 2,254.
	na, err := d.ArcsineSampleSize(0.8)
	require.NoError(t, err)
	assert.Equal(t, 2254, na)
}

func TestTwoProportionsUnequalArmsAndMDE(t *testing.T) {
	// Unequal allocation k = n2/n1 = 1/9 (a 10% canary): the pooled rate is
	// weighted, p̄ = (p1 + k·p2)/(1+k), and the canary arm needs
	// fewer requests than the baseline arm. By hand, p1 = 0.01, p2 = 0.02,
	// one-sided 0.05, power 0.8, k = 1/9: p̄ = 0.011,
	// σ0 = sqrt(0.011·0.989·(1+9)) = 0.329833,
	// σ1 = sqrt(0.0099 + 0.0196·9) = 0.431625,
	// n1 = (1.644854·0.329833 + 0.841621·0.431625)² / 0.0001 = 8,204.6
	// -> 8,205 baseline and ⌈8205/9⌉ = 912 canary requests.
	d := TwoProportions{P1: 0.01, P2: 0.02, Alpha: 0.05, Alt: Greater, Ratio: 1.0 / 9}
	n1, n2, err := d.SampleSize(0.8)
	require.NoError(t, err)
	assert.Equal(t, 8205, n1)
	assert.Equal(t, 912, n2)

	mde, err := TwoProportions{P1: 0.01, Alpha: 0.05, Alt: TwoSided}.MinDetectableEffect(2319, 0.8)
	require.NoError(t, err)
	assert.InDelta(t, 0.01, mde, 0.0001) // the 2,319 case read backwards

	_, _, err = TwoProportions{P1: 0.02, P2: 0.01, Alpha: 0.05, Alt: Greater}.SampleSize(0.8)
	assert.Error(t, err, "no increase to detect")
}

func TestNoether(t *testing.T) {
	// Noether (1987): N = (z_{α/2} + z_β)² / (12·c(1-c)·(p - 1/2)²). For
	// P(Y>X) = 0.7, α 0.05 two-sided, power 0.8, c = 1/2:
	// (1.959964 + 0.841621)² / (3·0.04) = 65.41 in total -> 33 per arm.
	d := MannWhitneyDesign{PSup: 0.7, Alpha: 0.05, Alt: TwoSided}
	n1, n2, err := d.SampleSize(0.8)
	require.NoError(t, err)
	assert.Equal(t, 33, n1)
	assert.Equal(t, 33, n2)
	assert.InDelta(t, 0.8, d.Power(32.7037), 1e-4)
	assert.InDelta(t, 0.2, d.MinDetectableEffect(32.7037, 0.8), 1e-4)
}

func TestLognormalPSup(t *testing.T) {
	// With ln(ratio) = σ·√2 the standardized shift is 1: Φ(1) = 0.841345.
	assert.InDelta(t, 0.841345, LognormalPSup(LognormalRatio(0.841345, 0.5), 0.5), 1e-6)
	assert.InDelta(t, 0.841345, LognormalPSup(2.028115, 0.5), 1e-6) // e^(0.5·√2) = 2.028115
	assert.InDelta(t, 0.5, LognormalPSup(1, 0.5), 1e-12)
}
