// Package audit is the check a fault scenario ends with, shared by the
// fault suite (test/faults, controller processes against envtest) and the
// node suite (test/node, controller Pods on a real kubelet): what the test
// sealed and what each Secret must hold ([Ledger]), Secrets of others that
// nobody may change ([CreateBystanders], [Record], [Changed]), the
// SealedSecrets' status ([StatusProblems]), the keys ([CheckKeys]) and
// canary values that must never show in a log, event or condition
// ([Leaks], [ClusterTexts]).
//
// Each suite keeps how it runs and reads the controller (processes and
// their log files, or Pods and their logs) and hands the texts in.
package audit
