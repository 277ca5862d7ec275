package dist

import "context"

// LockWaiters counts the queued waiters of the lock name (for tests).
func LockWaiters(ctx context.Context, c *Client, name string) (int, error) {
	ws, err := c.NewLock(name).listWaiters(ctx)
	return len(ws), err
}
