package webhookcert

import (
	"crypto/tls"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sealkit/sealkit/internal/scrape"
)

var certExpiryDesc = prometheus.NewDesc("sealkit_webhook_certificate_expiry_timestamp_seconds",
	"When the webhook serving certificate this replica serves expires, in Unix time; absent until one is loaded.", nil, nil)

// certCollector reports, at scrape time, the certificate the server hands
// out now: what clients see, not what the Secret holds.
type certCollector struct{ scrape.Latest[Serving] }

var certMetrics certCollector

func (c *certCollector) Describe(ch chan<- *prometheus.Desc) { ch <- certExpiryDesc }

func (c *certCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.Load()
	if s == nil {
		return
	}
	cert, err := s.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil || cert.Leaf == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(certExpiryDesc, prometheus.GaugeValue, float64(cert.Leaf.NotAfter.Unix()))
}
