// Package embed starts NATS servers with JetStream inside the current
// process, on loopback addresses only, for tests and the demo: one node, or
// a cluster whose nodes can be killed and restarted.
package embed

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Single starts one JetStream node on a free loopback port, storing under dir.
func Single(dir string) (*server.Server, error) {
	opts := &server.Options{
		ServerName: "tock-single",
		Host:       "127.0.0.1",
		Port:       -1,
		NoLog:      true,
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   dir,
	}
	return start(opts)
}

func start(opts *server.Options) (*server.Server, error) {
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, err
	}
	s.Start()
	if !s.ReadyForConnections(20 * time.Second) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, errors.New("embed: nats server not ready within 20s")
	}
	return s, nil
}

// Stop shuts s down and waits for it.
func Stop(s *server.Server) {
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Cluster is a JetStream cluster of nodes on loopback.
type Cluster struct {
	opts  []*server.Options
	Nodes []*server.Server // nil while a node is down
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// NewCluster starts n nodes (n >= 3 for a quorum that survives one loss),
// each storing under dir/nodeI, and waits until JetStream has a leader.
func NewCluster(dir string, n int) (*Cluster, error) {
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	var routes []*url.URL
	for i := 0; i < n; i++ {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[n+i])})
	}
	c := &Cluster{}
	for i := 0; i < n; i++ {
		c.opts = append(c.opts, &server.Options{
			ServerName: fmt.Sprintf("tock-n%d", i),
			Host:       "127.0.0.1",
			Port:       ports[i],
			NoLog:      true,
			NoSigs:     true,
			JetStream:  true,
			StoreDir:   filepath.Join(dir, fmt.Sprintf("node%d", i)),
			Cluster:    server.ClusterOpts{Name: "tock", Host: "127.0.0.1", Port: ports[n+i]},
			Routes:     routes,
		})
	}
	c.Nodes = make([]*server.Server, n)
	// Start them concurrently: each waits for the others to form a quorum.
	errs := make(chan error, n)
	for i := range c.opts {
		go func() {
			s, err := start(c.opts[i].Clone())
			c.Nodes[i] = s
			errs <- err
		}()
	}
	var first error
	for range c.opts {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		c.Shutdown()
		return nil, first
	}
	if err := c.WaitLeader(30 * time.Second); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

// URLs is the comma-separated client URL list of every node.
func (c *Cluster) URLs() string {
	var us []string
	for _, o := range c.opts {
		us = append(us, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(us, ",")
}

// URL is node i's client URL.
func (c *Cluster) URL(i int) string { return fmt.Sprintf("nats://127.0.0.1:%d", c.opts[i].Port) }

// WaitLeader waits until some running node is the JetStream meta leader and
// every running node has JetStream on.
func (c *Cluster) WaitLeader(d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		leader, all := false, true
		for _, s := range c.Nodes {
			if s == nil {
				continue
			}
			if !s.JetStreamEnabled() {
				all = false
			}
			if s.JetStreamIsLeader() {
				leader = true
			}
		}
		if leader && all {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("embed: no JetStream meta leader within " + d.String())
}

// Kill stops node i abruptly (as far as its clients can tell).
func (c *Cluster) Kill(i int) {
	Stop(c.Nodes[i])
	c.Nodes[i] = nil
}

// Restart starts node i again with its old ports and store.
func (c *Cluster) Restart(i int) error {
	if c.Nodes[i] != nil {
		return nil
	}
	s, err := start(c.opts[i].Clone())
	if err != nil {
		return err
	}
	c.Nodes[i] = s
	return nil
}

// Shutdown stops every node.
func (c *Cluster) Shutdown() {
	for i := range c.Nodes {
		Stop(c.Nodes[i])
		c.Nodes[i] = nil
	}
}
