package history

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ciVars are the commit and branch variables of common CI systems, first
// match wins: GitHub Actions, GitLab CI, Buildkite, CircleCI, Jenkins.
var ciVars = [][2]string{
	{"GITHUB_SHA", "GITHUB_REF_NAME"},
	{"CI_COMMIT_SHA", "CI_COMMIT_REF_NAME"},
	{"BUILDKITE_COMMIT", "BUILDKITE_BRANCH"},
	{"CIRCLE_SHA1", "CIRCLE_BRANCH"},
	{"GIT_COMMIT", "GIT_BRANCH"},
}

// Git finds the commit and branch a run rehearsed: from CI variables
// (getenv), else from the git checkout that holds dir. Either may be "".
func Git(ctx context.Context, dir string, getenv func(string) string) (commit, branch string) {
	for _, v := range ciVars {
		if c := getenv(v[0]); c != "" {
			return c, getenv(v[1])
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	git := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0")
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	commit = git("rev-parse", "HEAD")
	if commit == "" {
		return "", ""
	}
	branch = git("rev-parse", "--abbrev-ref", "HEAD")
	if branch == "HEAD" { // detached
		branch = ""
	}
	return commit, branch
}

// ProvenanceOf is the file hash, commit and branch of a scenario file.
func ProvenanceOf(ctx context.Context, scenarioFile string) Provenance {
	p := Provenance{FileHash: FileHash(scenarioFile)}
	dir := "."
	if scenarioFile != "" {
		dir = filepath.Dir(scenarioFile)
	}
	p.Commit, p.Branch = Git(ctx, dir, os.Getenv)
	return p
}
