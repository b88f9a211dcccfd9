// Command testbox is the one tool inside the real-node mode's test image (graft.local/testbox):
// a static binary standing in for busybox, since there is no registry to pull one from. Each
// subcommand does one small thing a test pod needs; all exit promptly on SIGTERM.
//
//	testbox serve [ADDR]          HTTP on ADDR (default :8080): /healthz, /hostname, /env/NAME
//	testbox webhook ADDR CERT KEY  HTTPS admission webhook: allows every request and labels
//	                               created objects graft.test/mutated-by=<hostname>
//	testbox get URL [SECONDS]     GET URL until it answers 2xx (default 30 s); prints the body.
//	                               https:// URLs use the pod's service-account CA and token.
//	testbox resolve NAME [SECONDS] resolve NAME until it has an address; prints them
//	testbox sleep [SECONDS]       sleep (forever without SECONDS)
//	testbox exit [CODE]           exit with CODE (default 0)
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if len(os.Args) < 2 {
		fail(errors.New("usage: testbox serve|webhook|get|resolve|sleep|exit ..."))
	}
	args := os.Args[2:]
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, arg(args, 0, ":8080"))
	case "webhook":
		if len(args) != 3 {
			fail(errors.New("usage: testbox webhook ADDR CERT KEY"))
		}
		err = webhook(ctx, args[0], args[1], args[2])
	case "get":
		if len(args) < 1 {
			fail(errors.New("usage: testbox get URL [SECONDS]"))
		}
		err = get(ctx, args[0], seconds(arg(args, 1, "30")))
	case "resolve":
		if len(args) < 1 {
			fail(errors.New("usage: testbox resolve NAME [SECONDS]"))
		}
		err = resolve(ctx, args[0], seconds(arg(args, 1, "30")))
	case "sleep":
		if len(args) > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(seconds(args[0])):
			}
		} else {
			<-ctx.Done()
		}
	case "exit":
		code, convErr := strconv.Atoi(arg(args, 0, "0"))
		if convErr != nil {
			fail(convErr)
		}
		os.Exit(code)
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func arg(args []string, i int, fallback string) string {
	if len(args) > i {
		return args[i]
	}
	return fallback
}

func seconds(s string) time.Duration {
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 {
		fail(fmt.Errorf("not a number of seconds: %q", s))
	}
	return time.Duration(n * float64(time.Second))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "testbox:", err)
	os.Exit(1)
}

func hostname() string {
	name, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return name
}

// run serves srv until ctx ends, then shuts it down.
func run(ctx context.Context, srv *http.Server, listen func() error) error {
	errs := make(chan error, 1)
	go func() { errs <- listen() }()
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}

func serve(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/hostname", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, hostname()) })
	mux.HandleFunc("/env/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, os.Getenv(strings.TrimPrefix(r.URL.Path, "/env/")))
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Println("serving on", addr)
	return run(ctx, srv, func() error { return ignoreClosed(srv.ListenAndServe()) })
}

type admissionReview struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Request    *admissionRequest  `json:"request,omitempty"`
	Response   *admissionResponse `json:"response,omitempty"`
}

type admissionRequest struct {
	UID       string `json:"uid"`
	Operation string `json:"operation"`
	Object    struct {
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
	} `json:"object"`
}

type admissionResponse struct {
	UID       string `json:"uid"`
	Allowed   bool   `json:"allowed"`
	PatchType string `json:"patchType,omitempty"`
	Patch     []byte `json:"patch,omitempty"`
}

func webhook(ctx context.Context, addr, certFile, keyFile string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/mutate", func(w http.ResponseWriter, r *http.Request) {
		var review admissionReview
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "not an AdmissionReview", http.StatusBadRequest)
			return
		}
		response := &admissionResponse{UID: review.Request.UID, Allowed: true}
		if review.Request.Operation == "CREATE" {
			var ops []map[string]any
			if review.Request.Object.Metadata.Labels == nil {
				ops = append(ops, map[string]any{"op": "add", "path": "/metadata/labels", "value": map[string]string{}})
			}
			ops = append(ops, map[string]any{"op": "add", "path": "/metadata/labels/graft.test~1mutated-by", "value": hostname()})
			patch, err := json.Marshal(ops)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			response.PatchType, response.Patch = "JSONPatch", patch
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(admissionReview{APIVersion: review.APIVersion, Kind: review.Kind, Response: response})
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Println("webhook on", addr)
	return run(ctx, srv, func() error { return ignoreClosed(srv.ListenAndServeTLS(certFile, keyFile)) })
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// get retries until the URL answers 2xx or the time is up, and prints the last answer.
func get(ctx context.Context, url string, within time.Duration) error {
	client := &http.Client{Timeout: 5 * time.Second}
	header := http.Header{}
	if strings.HasPrefix(url, "https://") {
		pool := x509.NewCertPool()
		if ca, err := os.ReadFile(serviceAccountDir + "/ca.crt"); err == nil {
			pool.AppendCertsFromPEM(ca)
		}
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
		if token, err := os.ReadFile(serviceAccountDir + "/token"); err == nil {
			header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		}
	}
	deadline := time.Now().Add(within)
	for {
		status, body, err := getOnce(ctx, client, url, header)
		if err == nil && status >= 200 && status < 300 {
			fmt.Print(body)
			return nil
		}
		if err == nil {
			err = fmt.Errorf("%s answered %d: %s", url, status, strings.TrimSpace(body))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "testbox: retrying:", err)
		time.Sleep(500 * time.Millisecond)
	}
}

func getOnce(ctx context.Context, client *http.Client, url string, header http.Header) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}

func resolve(ctx context.Context, name string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		lookup, cancel := context.WithTimeout(ctx, 5*time.Second)
		addrs, err := net.DefaultResolver.LookupHost(lookup, name)
		cancel()
		if err == nil && len(addrs) > 0 {
			fmt.Println(strings.Join(addrs, "\n"))
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("resolving %s: %w", name, err)
		}
		fmt.Fprintln(os.Stderr, "testbox: retrying:", err)
		time.Sleep(500 * time.Millisecond)
	}
}
