package docker

import "testing"

// For the external tests (package docker_test), which drive the runtime
// through firedrill.Run and the CLI.

// RequireDocker skips without a daemon (fails with CI=true).
func RequireDocker(t testing.TB) { requireDocker(t) }

// StaticBinary is the static firedrill binary TestMain built.
func StaticBinary() string { return staticBin }

// RequireNothingLeft fails when a container or network carries label.
func RequireNothingLeft(t testing.TB, label string) { requireNothingLeft(t, label) }

// Labelled lists the containers and networks carrying label.
func Labelled(t testing.TB, label string) (containers, networks []string) { return labelled(t, label) }

// RemoveLabelled removes what carries label.
func RemoveLabelled(t testing.TB, label string) { removeLabelled(t, label) }
