// Command controller runs cert-manager's controllers for the issuers graft's install uses
// (SelfSigned and CA Issuers, Certificates and their CertificateRequests), from the packages of
// github.com/cert-manager/cert-manager pinned in ../../go.mod. Upstream's own main
// (cmd/controller, module controller-binary) is a separate module that is not published on the
// Go module proxy, so this is a small main of our own over the same controller registry
// (controllerpkg.Known, filled by the imported packages' init functions).
//
//	controller --kubeconfig FILE [--namespace NS]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/metrics"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// The controllers run, by their registered names: what SelfSigned and CA issuers need.
var enabled = []string{
	"issuers", "clusterissuers",
	"certificates-trigger", "certificates-issuing", "certificates-key-manager",
	"certificates-request-manager", "certificates-readiness", "certificates-revision-manager",
	"certificaterequests-approver", "certificaterequests-issuer-ca", "certificaterequests-issuer-selfsigned",
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster")
	namespace := flag.String("namespace", "", "watch only this namespace (default: all)")
	clusterResourceNamespace := flag.String("cluster-resource-namespace", "cert-manager", "namespace of ClusterIssuers' secrets")
	flag.Parse()
	if err := run(*kubeconfig, *namespace, *clusterResourceNamespace); err != nil {
		fmt.Fprintf(os.Stderr, "controller: %v\n", err)
		os.Exit(1)
	}
}

func run(kubeconfig, namespace, clusterResourceNamespace string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := klog.Background()
	ctx = logf.NewContext(ctx, log)
	clk := clock.RealClock{}
	factory, err := controllerpkg.NewContextFactory(ctx, controllerpkg.ContextOptions{
		Kubeconfig:       kubeconfig,
		KubernetesAPIQPS: 50, KubernetesAPIBurst: 100,
		Namespace: namespace,
		Clock:     clk,
		Metrics:   metrics.New(log, clk),
		IssuerOptions: controllerpkg.IssuerOptions{
			ClusterResourceNamespace: clusterResourceNamespace,
		},
		CertificateOptions: controllerpkg.CertificateOptions{EnableOwnerRef: false},
	})
	if err != nil {
		return err
	}
	known := controllerpkg.Known()
	var controllers []controllerpkg.Interface
	for _, name := range enabled {
		construct, ok := known[name]
		if !ok {
			return fmt.Errorf("no controller %q registered", name)
		}
		c, err := construct(factory)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		controllers = append(controllers, c)
	}
	base, err := factory.Build()
	if err != nil {
		return err
	}
	base.KubeSharedInformerFactory.Start(ctx.Done())
	base.SharedInformerFactory.Start(ctx.Done())
	base.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())
	log.Info("cert-manager controllers started", "controllers", enabled)
	var wg sync.WaitGroup
	for i, c := range controllers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Run(5, ctx); err != nil {
				log.Error(err, "controller stopped", "name", enabled[i])
			}
		}()
	}
	wg.Wait()
	return nil
}
