package audit

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// ReadyForGeneration reports whether ss is Ready, both its Ready condition
// and its status observing its current generation.
func ReadyForGeneration(ss *v1alpha1.SealedSecret) bool {
	c := meta.FindStatusCondition(ss.Status.Conditions, v1alpha1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == ss.Generation && ss.Status.ObservedGeneration == ss.Generation
}

// StatusProblems checks that there are exactly want SealedSecrets and that
// each is Ready for its generation; it returns one line per problem.
func StatusProblems(items []v1alpha1.SealedSecret, want int) []string {
	var probs []string
	if len(items) != want {
		probs = append(probs, fmt.Sprintf("%d SealedSecrets, the test made %d", len(items), want))
	}
	for i := range items {
		if ss := &items[i]; !ReadyForGeneration(ss) {
			probs = append(probs, fmt.Sprintf("SealedSecret %s (generation %d): status %+v", ss.Name, ss.Generation, ss.Status))
		}
	}
	return probs
}
