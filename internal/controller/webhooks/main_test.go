package webhooks

import (
	"testing"

	"github.com/sealkit/sealkit/internal/testenv"
)

// TestMain gives the package's tests one shared control plane
// (testenv.Shared); each test works in its own namespace.
func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{}) }
