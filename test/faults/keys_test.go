package faults

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

// Scenario 4: a key rotation, asked for (seal keys rotate) or forced by a
// compromised key, with the controller SIGKILLed between storing the new
// key and its next write (demoting the old key, or publishing the keyring):
// started again, it must end with exactly one active key, the new one,
// published, no third key, and every SealedSecret still unsealed.
func TestKilledMidRotation(t *testing.T) {
	rotate := fmt.Sprintf(`{"metadata":{"annotations":{%q:"now"}}}`, keysecret.AnnotationRotate)
	compromise := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, keysecret.LabelState, keyring.StateCompromised)
	for _, tc := range []struct {
		name, patch, oldState string
		// killAt is the write after the new key's creation at which the
		// controller is killed: 1 the next one, 2 the one after.
		killAt int
	}{
		// Requested: the next writes are demoting the old key, then
		// publishing the keyring.
		{"requested, at the demotion", rotate, string(keyring.StateRetained), 1},
		{"requested, at the publication", rotate, string(keyring.StateRetained), 2},
		// Compromised: the old key keeps its label; the next write is the
		// publication.
		{"compromised, at the publication", compromise, string(keyring.StateCompromised), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.settle(sizes().settled)
			w.run(1)
			w.waitReady(2 * time.Minute)
			old := w.keys().Active()

			var mu sync.Mutex
			var generated bool
			var writes int
			var injected string
			intercept(t, w.env, []string{w.ctrlNS}, func(req *admissionv1.AdmissionRequest) bool {
				if req.UserInfo.Username != controllerUser || req.Namespace != w.ctrlNS || req.DryRun != nil && *req.DryRun {
					return false
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case injected != "":
				case req.Kind.Kind == "Secret" && req.Operation == admissionv1.Create:
					generated = true
				case generated:
					if writes++; writes < tc.killAt {
						return false
					}
					injected = fmt.Sprintf("%s %s %s", req.Operation, req.Kind.Kind, req.Name)
					w.kill(0)
					return true
				}
				return false
			})
			ctx := context.Background()
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ctrlNS, Name: old.Name}}
			if err := w.c.Patch(ctx, s, client.RawPatch(types.MergePatchType, []byte(tc.patch))); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			for {
				mu.Lock()
				done := injected != ""
				mu.Unlock()
				if done {
					break
				}
				if time.Since(start) > 2*time.Minute {
					t.Fatal("the controller made no write after generating a key")
				}
				time.Sleep(100 * time.Millisecond)
			}
			w.auditKeys() // restarts the controller and waits for one active key, published
			rec := time.Since(start)
			set := w.keys()
			if len(set.Keys) != 2 || set.Active().ID == old.ID {
				t.Errorf("after the rotation: %d keys, active %s (the old one was %s): want the old and one new", len(set.Keys), set.Active().ID, old.ID)
			}
			for _, k := range set.Keys {
				if k.ID == old.ID && string(k.Labelled) != tc.oldState {
					t.Errorf("old key %s is labelled %s, want %s", k.ID, k.Labelled, tc.oldState)
				}
			}
			// Values sealed to the new key, from the published keyring, open.
			w.createSealed("after", 5)
			w.waitReady(2 * time.Minute)
			finish(w, "4 SIGKILL mid-rotation ("+tc.name+")", fmt.Sprintf("controller SIGKILLed after storing the new key, at write %d after it: %s", tc.killAt, injected), rec,
				"time to one active key published")
		})
	}
}
