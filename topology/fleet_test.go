package topology

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeMember struct {
	Instance // nil: only Version and Index are called
	version  string
	index    int
}

func (f fakeMember) Version() string { return f.version }
func (f fakeMember) Index() int      { return f.index }

func TestMemberLists(t *testing.T) {
	ins := []fakeMember{{version: "v1", index: 0}, {version: "v2", index: 0}, {version: "v1", index: 2}, {version: "v2", index: 1}}
	assert.Equal(t, []fakeMember{ins[0], ins[2]}, OfVersion(ins, "v1"))
	assert.Equal(t, ins, OfVersion(ins, ""))
	assert.Empty(t, OfVersion(ins, "v3"))
	assert.Equal(t, 3, NextIndex(ins, "v1"), "one past the highest, not the count (v1-1 was retired)")
	assert.Equal(t, 2, NextIndex(ins, "v2"))
	assert.Equal(t, 0, NextIndex(ins, "v3"))
	assert.Len(t, AsInstances(ins), 4)

	old, err := Oldest(OfVersion(ins, "v1"), 1, "svc", "v1")
	require.NoError(t, err)
	assert.Equal(t, []fakeMember{ins[0]}, old)
	_, err = Oldest(OfVersion(ins, "v1"), 3, "svc", "v1")
	assert.EqualError(t, err, "retire 3 instance(s) of svc version v1: it has 2")
}

func TestOpLockGivesUpWithItsContext(t *testing.T) {
	l := NewOpLock()
	require.NoError(t, l.Lock(context.Background(), "a"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := l.Lock(ctx, "a")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "instance a: busy with another operation")
	l.Unlock()
	require.NoError(t, l.Lock(context.Background(), "a"), "free again")
}
