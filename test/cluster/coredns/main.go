// Command coredns is CoreDNS at the version kubeadm deploys with the pinned Kubernetes
// (v1.12.0 for 1.33), with only the plugins the real-node mode's Corefile uses, so that it
// compiles none of the cloud back-ends. Its own module: CoreDNS's dependency graph must not
// move the control plane's pins in ../go.mod.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	coremain.Run()
}
