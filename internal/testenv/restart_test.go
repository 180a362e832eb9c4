package testenv

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestRestartKeepsDataAndCredentials: kube-apiserver and etcd stopped and
// started again serve the same data to the same kubeconfig; a compaction
// expires older resourceVersions (410) once the watch cache starts over.
func TestRestartKeepsDataAndCredentials(t *testing.T) {
	e := New(t, Options{Output: testWriter{t}})
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kept"}}
	if err := e.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	for _, restart := range []struct {
		name string
		f    func() error
	}{{"kube-apiserver", e.RestartAPIServer}, {"etcd", e.RestartEtcd}} {
		start := time.Now()
		if err := restart.f(); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s restarted in %s", restart.name, time.Since(start))
		Eventually(t, "the ConfigMap read again after restarting "+restart.name, func() bool {
			return e.Client.Get(ctx, client.ObjectKeyFromObject(cm), &corev1.ConfigMap{}) == nil
		})
	}

	old := cm.ResourceVersion
	for range 5 {
		if err := e.Client.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", GenerateName: "later-"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.CompactEtcd(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.RestartAPIServer(); err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(e.Config)
	w, err := cs.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{ResourceVersion: old})
	if err == nil {
		ev := <-w.ResultChan()
		w.Stop()
		if st, ok := ev.Object.(*metav1.Status); ok && ev.Type == watch.Error {
			err = &apierrors.StatusError{ErrStatus: *st}
		}
	}
	if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Errorf("watch at a compacted resourceVersion: %v, want 410 Gone", err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
