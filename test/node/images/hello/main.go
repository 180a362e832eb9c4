// Command hello is the node tests' workload: a static HTTP server that logs a
// greeting and answers every request with it, so a test can see a container
// run, read its log, probe it, and reach it through a Service. With
// CALL_API_SERVER=1 it first calls the API server the way in-cluster clients
// do (the "kubernetes" Service's address from the environment, the service
// account's token and CA) and logs the answer's status.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"
)

const saDir = "/var/run/secrets/kubernetes.io/serviceaccount/"

func main() {
	greeting := os.Getenv("GREETING")
	if greeting == "" {
		greeting = "hello from sealkit's node"
	}
	addr := os.Getenv("LISTEN")
	if addr == "" {
		addr = ":8080"
	}
	if os.Getenv("CALL_API_SERVER") == "1" {
		status, err := callAPIServer()
		if err != nil {
			log.Printf("api server: error: %v", err)
		} else {
			log.Printf("api server: %s", status)
		}
	}
	var nofile syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile)
	log.Printf("%s: listening on %s as uid %d (open files %d/%d)", greeting, addr, os.Getuid(), nofile.Cur, nofile.Max)
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, greeting)
	})
	log.Fatal(http.ListenAndServe(addr, nil))
}

// callAPIServer GETs /version as the Pod's service account through the
// "kubernetes" Service.
func callAPIServer() (string, error) {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	token, err := os.ReadFile(saDir + "token")
	if err != nil {
		return "", err
	}
	ca, err := os.ReadFile(saDir + "ca.crt")
	if err != nil {
		return "", err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	req, err := http.NewRequest(http.MethodGet, "https://"+net.JoinHostPort(host, port)+"/version", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+string(token))
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return fmt.Sprintf("%s via %s: %d bytes", resp.Status, net.JoinHostPort(host, port), len(body)), nil
}
