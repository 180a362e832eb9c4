package audit

import (
	"context"
	"encoding/base64"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// Leaks names every text, by its key in texts, that shows the canary raw
// or base64-encoded, sorted.
func Leaks(canary string, texts map[string]string) []string {
	needles := []string{canary, base64.StdEncoding.EncodeToString([]byte(canary))}
	var where []string
	for w, s := range texts {
		for _, n := range needles {
			if strings.Contains(s, n) {
				where = append(where, w)
				break
			}
		}
	}
	sort.Strings(where)
	return where
}

// Panicked reports whether a controller log shows a panic, even one
// controller-runtime recovered from: either is a bug.
func Panicked(log string) bool {
	return strings.Contains(log, "Observed a panic") || strings.Contains(log, "panic: ")
}

// ClusterTexts are the texts the API server keeps where a leak would
// show: the messages and reasons of the events of namespaces
// ("event ns/name") and the condition messages of the SealedSecrets of
// ssNamespace ("the status of name").
func ClusterTexts(ctx context.Context, c client.Client, ssNamespace string, namespaces ...string) (map[string]string, error) {
	texts := map[string]string{}
	for _, ns := range namespaces {
		var events corev1.EventList
		if err := c.List(ctx, &events, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		for _, e := range events.Items {
			texts["event "+ns+"/"+e.Name] = e.Message + e.Reason
		}
	}
	var list v1alpha1.SealedSecretList
	if err := c.List(ctx, &list, client.InNamespace(ssNamespace)); err != nil {
		return nil, err
	}
	for _, ss := range list.Items {
		var b strings.Builder
		for _, c := range ss.Status.Conditions {
			b.WriteString(c.Message + "\n")
		}
		texts["the status of "+ss.Name] = b.String()
	}
	return texts, nil
}
