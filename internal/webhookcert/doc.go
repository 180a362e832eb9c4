// Package webhookcert keeps the serving certificate of a controller's
// admission webhooks without cert-manager: the leader issues a CA and a
// serving certificate into a Secret, renews them, and injects the CA bundle
// into the webhook configurations; every replica writes the certificate
// where its webhook server reads it. It knows nothing of SealedSecrets.
package webhookcert
