package controller

import (
	"crypto/tls"

	"github.com/prometheus/client_golang/prometheus"
)

var certExpiryDesc = prometheus.NewDesc("sealkit_webhook_certificate_expiry_timestamp_seconds",
	"When the webhook serving certificate this replica serves expires, in Unix time; absent until one is loaded.", nil, nil)

// certCollector reports, at scrape time, the certificate the webhook server
// hands out now: what clients see, not what the Secret holds.
type certCollector struct{ scraped[servingCert] }

var certMetrics certCollector

// registerCertMetrics registers the certificate gauge and points it at c.
func registerCertMetrics(c *servingCert) { certMetrics.set(c, &certMetrics) }

func (c *certCollector) Describe(ch chan<- *prometheus.Desc) { ch <- certExpiryDesc }

func (c *certCollector) Collect(ch chan<- prometheus.Metric) {
	sc := c.src.Load()
	if sc == nil {
		return
	}
	cert, err := sc.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil || cert.Leaf == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(certExpiryDesc, prometheus.GaugeValue, float64(cert.Leaf.NotAfter.Unix()))
}
