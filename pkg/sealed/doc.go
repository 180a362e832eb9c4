// Package sealed converts between Kubernetes Secrets and SealedSecrets and
// reads and writes their manifests.
//
// # Sealing
//
// [Seal] seals every data key of a Secret on its own with [crypto.Seal],
// bound to a frame of scope, namespace, name and data key ([FrameFor]).
// [Unseal] opens them again, refusing any value that was moved to another
// place. [Merge] adds newly sealed keys to an existing SealedSecret and
// [Reseal] re-seals values to new keys without changing where they belong.
//
// # Errors
//
// Errors name the object and the data key they are about, never a value.
// Errors about one value are [*ValueError]s.
//
// # Manifests
//
// [ReadManifests] reads multi-document YAML or JSON (a single object, a
// stream of objects, or a List) into [Document]s; [WriteManifests] writes
// objects back as YAML or JSON with keys in a fixed order, so that the same
// objects always produce the same bytes.
package sealed
