// Package manifest knows where the documents of a manifest file are and
// changes values in them without touching anything else.
//
// # Documents
//
// [Split] cuts a file into its documents the way Kubernetes reads it: a
// JSON file (one starting with '{' or '[') is a stream of JSON values; any
// other file is YAML, whose documents are separated by lines starting with
// "---". A document's index in Split's result is how [Change] addresses it,
// and pkg/sealed numbers the documents it reads the same way.
//
// # Editing in place
//
// [Apply] replaces scalar values, each named by its document and its path
// in that document, and keeps every other byte of the file: comments, key
// order, quoting, indentation, anchors, flow style, line endings and the
// other documents. A replaced value keeps its quoting style when the new
// value can be written in it, and is double-quoted otherwise (a block
// scalar or an alias becomes a double-quoted scalar).
//
// Apply checks its own work: the edited file is parsed again, and every
// edited document must read exactly as the original with the changes made.
// A file it cannot edit that way is an error, never a damaged file. Errors
// name the document and the path, never a value.
package manifest
