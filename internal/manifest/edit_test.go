package manifest

import (
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const newValue = "sealkit:v1:0123456789abcdef,fedcba9876543210:QUJD+/=="

func ch(doc int, value string, path ...string) Change {
	return Change{Doc: doc, Path: path, Value: value}
}

func enc(key string) []string { return []string{"spec", "encryptedData", key} }

func del(doc int, path ...string) Change { return Change{Doc: doc, Path: path, Delete: true} }

// TestApplyKeepsEverythingElse: each input is edited and must come out
// byte for byte as written in want: only the changed values differ.
func TestApplyKeepsEverythingElse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		changes []Change
		want    string
	}{{
		name: "comments, key order, plain values",
		in: `# sealed for prod: do not edit by hand
apiVersion: sealkit.dev/v1alpha1
kind: SealedSecret
metadata:
  name: db    # the app's database
  namespace: shop
spec:
  # values
  encryptedData:
    user: old-user   # rotated 2026-01
    password: old-password
  scope: strict
`,
		changes: []Change{ch(0, newValue, enc("password")...), ch(0, "U2", enc("user")...)},
		want: `# sealed for prod: do not edit by hand
apiVersion: sealkit.dev/v1alpha1
kind: SealedSecret
metadata:
  name: db    # the app's database
  namespace: shop
spec:
  # values
  encryptedData:
    user: U2   # rotated 2026-01
    password: ` + newValue + `
  scope: strict
`,
	}, {
		name: "quoting styles are kept",
		in: `spec:
  encryptedData:
    a: "old a"
    b: 'old b'
    c: old
`,
		changes: []Change{ch(0, "A'1", enc("a")...), ch(0, "B'1", enc("b")...), ch(0, "true", enc("c")...)},
		want: `spec:
  encryptedData:
    a: "A'1"
    b: 'B''1'
    c: "true"
`,
	}, {
		name:    "CRLF line endings",
		in:      "kind: SealedSecret\r\nspec:\r\n  encryptedData:\r\n    password: old # c\r\n    user: u\r\n",
		changes: []Change{ch(0, newValue, enc("password")...)},
		want:    "kind: SealedSecret\r\nspec:\r\n  encryptedData:\r\n    password: " + newValue + " # c\r\n    user: u\r\n",
	}, {
		name:    "flow style: a value with commas is quoted",
		in:      "spec: {encryptedData: {password: old, user: \"u\"}, scope: strict}\n",
		changes: []Change{ch(0, newValue, enc("password")...), ch(0, "plain", enc("user")...)},
		want:    "spec: {encryptedData: {password: \"" + newValue + "\", user: \"plain\"}, scope: strict}\n",
	}, {
		name:    "flow style: a plain value stays plain",
		in:      "spec: {encryptedData: {password: old}}\n",
		changes: []Change{ch(0, "QUJD", enc("password")...)},
		want:    "spec: {encryptedData: {password: QUJD}}\n",
	}, {
		name: "anchors and aliases elsewhere are kept; an anchored value keeps its anchor",
		in: `metadata: &meta
  name: db
  labels: {app: db}
spec:
  template:
    metadata: *meta
  encryptedData:
    password: &pw !!str old
    <<: {x: y}
`,
		changes: []Change{ch(0, newValue, enc("password")...)},
		want: `metadata: &meta
  name: db
  labels: {app: db}
spec:
  template:
    metadata: *meta
  encryptedData:
    password: &pw !!str ` + newValue + `
    <<: {x: y}
`,
	}, {
		name: "an alias value becomes the new scalar",
		in: `x: &v old
spec:
  encryptedData:
    password: *v
`,
		changes: []Change{ch(0, newValue, enc("password")...)},
		want: `x: &v old
spec:
  encryptedData:
    password: "` + newValue + `"
`,
	}, {
		name: "mixed documents: only the addressed one changes",
		in: `# a ConfigMap first
apiVersion: v1
kind: ConfigMap
data: {password: not-this-one}
---
# only comments here
---
spec:
  encryptedData:
    password: old
--- # third
spec:
  encryptedData:
    password: old
`,
		changes: []Change{ch(3, "NEW", enc("password")...)},
		want: `# a ConfigMap first
apiVersion: v1
kind: ConfigMap
data: {password: not-this-one}
---
# only comments here
---
spec:
  encryptedData:
    password: old
--- # third
spec:
  encryptedData:
    password: NEW
`,
	}, {
		name: "List items",
		in: `apiVersion: v1
kind: List
items:
- kind: SealedSecret
  spec:
    encryptedData:
      password: one
- kind: SealedSecret
  spec:
    encryptedData: {password: two}
`,
		changes: []Change{ch(0, "ONE", "items", "0", "spec", "encryptedData", "password"), ch(0, "TWO", "items", "1", "spec", "encryptedData", "password")},
		want: `apiVersion: v1
kind: List
items:
- kind: SealedSecret
  spec:
    encryptedData:
      password: ONE
- kind: SealedSecret
  spec:
    encryptedData: {password: TWO}
`,
	}, {
		name: "block scalars become double-quoted, following lines kept",
		in: `spec:
  encryptedData:
    a: |
      line one
      line two

    b: >-
      folded
      text
    c: keep
`,
		changes: []Change{ch(0, "A", enc("a")...), ch(0, "B", enc("b")...)},
		want: `spec:
  encryptedData:
    a: "A"

    b: "B"
    c: keep
`,
	}, {
		name: "multi-line plain and double-quoted values",
		in: `spec:
  encryptedData:
    a: first
      second
    b: "one \
      two"
    c: keep
`,
		changes: []Change{ch(0, "A", enc("a")...), ch(0, "B", enc("b")...)},
		want: `spec:
  encryptedData:
    a: A
    b: "B"
    c: keep
`,
	}, {
		name:    "non-ASCII before the value",
		in:      "spec:\n  encryptedData: {\"пароль\": старое, ключ: \"x\"}\n",
		changes: []Change{ch(0, "NEW", enc("пароль")...), ch(0, "K", enc("ключ")...)},
		want:    "spec:\n  encryptedData: {\"пароль\": NEW, ключ: \"K\"}\n",
	}, {
		name:    "a byte order mark",
		in:      "\uFEFFspec: {encryptedData: {password: old}}\n",
		changes: []Change{ch(0, "NEW", enc("password")...)},
		want:    "\uFEFFspec: {encryptedData: {password: NEW}}\n",
	}, {
		name: "JSON: indentation and key order kept",
		in: `{
    "kind": "SealedSecret",
    "spec": {
        "scope": "strict",
        "encryptedData": {"user": "u", "password": "old"}
    }
}
`,
		changes: []Change{ch(0, newValue, enc("password")...)},
		want: `{
    "kind": "SealedSecret",
    "spec": {
        "scope": "strict",
        "encryptedData": {"user": "u", "password": "` + newValue + `"}
    }
}
`,
	}, {
		name: "JSON stream and List",
		in: `{"kind": "ConfigMap", "data": {"password": "x"}}
{"kind": "List", "items": [{"spec": {"encryptedData": {"password": "a"}}}, {"spec": {"encryptedData": {"password": "b"}}}]}
`,
		changes: []Change{ch(1, "B2", "items", "1", "spec", "encryptedData", "password")},
		want: `{"kind": "ConfigMap", "data": {"password": "x"}}
{"kind": "List", "items": [{"spec": {"encryptedData": {"password": "a"}}}, {"spec": {"encryptedData": {"password": "B2"}}}]}
`,
	}, {
		name: "keys added: block, after a comment, CRLF, flow, empty flow, quoted key",
		in:   "a:\r\n  encryptedData:\r\n    x: old   # last\r\n  template: {metadata: {labels: {app: a}}, t: {}}\r\n",
		changes: []Change{
			ch(0, "NEW", "a", "encryptedData", "z"), ch(0, "X2", "a", "encryptedData", "x"),
			ch(0, "db", "a", "template", "metadata", "labels", "tier"), ch(0, "v", "a", "template", "t", "true"),
		},
		want: "a:\r\n  encryptedData:\r\n    x: X2   # last\r\n    z: NEW\r\n  template: {metadata: {labels: {app: a, tier: db}}, t: {\"true\": v}}\r\n",
	}, {
		name:    "a key added at the end of a file without a final line break",
		in:      "spec:\n  encryptedData:\n    x: old",
		changes: []Change{ch(0, "NEW", enc("z")...)},
		want:    "spec:\n  encryptedData:\n    x: old\n    z: NEW",
	}, {
		name:    "JSON: keys added one per line, or inline",
		in:      "{\n  \"spec\": {\n    \"encryptedData\": {\n      \"x\": \"old\"\n    },\n    \"t\": {\"a\": \"b\"},\n    \"e\": {}\n  }\n}\n",
		changes: []Change{ch(0, "NEW", enc("y")...), ch(0, "c", "spec", "t", "z"), ch(0, "1", "spec", "e", "k")},
		want:    "{\n  \"spec\": {\n    \"encryptedData\": {\n      \"x\": \"old\",\n      \"y\": \"NEW\"\n    },\n    \"t\": {\"a\": \"b\", \"z\": \"c\"},\n    \"e\": {\"k\": \"1\"}\n  }\n}\n",
	}, {
		name: "a key added after a nested value: block and flow",
		in:   "spec:\n  encryptedData:\n    a: {x: y}   # c\n  template:\n    metadata:\n      labels:\n        - [a, b]\n# foot\nf: {a: {b: c} , d: [1, 2 ] }\n",
		changes: []Change{
			ch(0, "v", enc("b")...), ch(0, "strict", "spec", "scope"), ch(0, "e", "f", "e"),
		},
		want: "spec:\n  encryptedData:\n    a: {x: y}   # c\n    b: v\n  template:\n    metadata:\n      labels:\n        - [a, b]\n  scope: strict\n# foot\nf: {a: {b: c} , d: [1, 2 ], e: e }\n",
	}, {
		name: "entries deleted: block lines with nested values and comments, flow entries",
		in: `metadata:
  annotations:  # why
    keep: "1"
    drop: |
      block
    gone:
      nested: {a: b}
      list:
      - x
      - y
    last: v # c
  name: db
other: {a: 1, b: {c: d}, e: 2}
only: {x: y}
tail: {a: 1,
  b: 2}
lines: {
  a: 1,
  b: {c: d},
  e: 2
}
`,
		changes: []Change{
			del(0, "metadata", "annotations", "drop"), del(0, "metadata", "annotations", "gone"),
			del(0, "metadata", "annotations", "last"), del(0, "other", "b"), del(0, "only", "x"), del(0, "tail", "b"),
			del(0, "lines", "b"),
		},
		want: `metadata:
  annotations:  # why
    keep: "1"
  name: db
other: {a: 1, e: 2}
only: {}
tail: {a: 1}
lines: {
  a: 1,
  e: 2
}
`,
	}, {
		name:    "the last entry deleted and a key added in its place: block and flow",
		in:      "spec:\n  encryptedData: {a: b}\n  template:\n    metadata: {name: x}\n# foot\nf: {a: 1, t: {b: c}}\n",
		changes: []Change{del(0, "spec", "template"), ch(0, "strict", "spec", "scope"), del(0, "f", "t"), ch(0, "v", "f", "s")},
		want:    "spec:\n  encryptedData: {a: b}\n  scope: strict\n# foot\nf: {a: 1, s: v}\n",
	}, {
		name:    "a whole mapping deleted, CRLF",
		in:      "metadata:\r\n  annotations:\r\n    a: b\r\n  name: x\r\nstatus:\r\n  conditions: []\r\n",
		changes: []Change{del(0, "metadata", "annotations"), del(0, "status")},
		want:    "metadata:\r\n  name: x\r\n",
	}, {
		name: "JSON: members deleted, first, middle, last and only",
		in: `{
  "kind": "SealedSecret",
  "metadata": {
    "annotations": {"a": "1"},
    "name": "x"
  },
  "spec": {"template": {"metadata": {"name": "x", "labels": {"l": "v"}, "namespace": "n"}}},
  "status": {"x": [1, {"y": 2}]}
}
`,
		changes: []Change{
			del(0, "metadata", "annotations"), del(0, "spec", "template", "metadata", "name"),
			del(0, "spec", "template", "metadata", "namespace"), del(0, "status"), ch(0, "strict", "spec", "scope"),
		},
		want: `{
  "kind": "SealedSecret",
  "metadata": {
    "name": "x"
  },
  "spec": {"template": {"metadata": {"labels": {"l": "v"}}}, "scope": "strict"}
}
`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply([]byte(tt.in), tt.changes)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			// The same, with the documents read beforehand.
			got, err = ApplyRead([]byte(tt.in), readDocs(t, tt.in), tt.changes)
			if err != nil || string(got) != tt.want {
				t.Errorf("ApplyRead: %v, got:\n%s\nwant:\n%s", err, got, tt.want)
			}
		})
	}
}

// readDocs reads every document of in as Kubernetes does, to JSON.
func readDocs(t *testing.T, in string) map[int][]byte {
	t.Helper()
	format, docs, err := Split([]byte(in))
	if err != nil {
		return nil
	}
	read := map[int][]byte{}
	for i, d := range docs {
		j := []byte(in[d.Start:d.End])
		if format == YAML {
			if j, err = yaml.YAMLToJSON(j); err != nil {
				continue
			}
		}
		read[i] = j
	}
	return read
}

func TestApplyRefuses(t *testing.T) {
	tests := []struct {
		name, in string
		change   Change
		err      string
	}{
		{"missing parent", "spec: {encryptedData: {a: x}}\n", ch(0, "v", "spec", "data", "b"), `document 1: spec.data.b: no key "data"`},
		{"insert after a block scalar that ends the file (it would gain a line break)", "spec:\n  encryptedData:\n    x: |\n      block", ch(0, "v", enc("y")...), "cannot change spec.encryptedData.y in place"},
		{"delete a sequence item", "a: [x, y]\n", del(0, "a", "0"), "a sequence item cannot be deleted"},
		{"delete the first entry of a sequence item", "items:\n- a: x\n  b: y\n", del(0, "items", "0", "a"), "shares its line"},
		{"delete what is not there", "a: {b: c}\n", del(0, "a", "x"), `no key "x"`},
		{"JSON: delete what is not there", `{"a": {"b": 1}}`, del(0, "a", "x"), `no key "x"`},
		{"JSON: delete inside a scalar", `{"a": 1}`, del(0, "a", "x"), `"x" is inside a scalar`},
		{"not a scalar", "spec: {encryptedData: {a: [x]}}\n", ch(0, "v", enc("a")...), "not a scalar"},
		{"through an alias", "x: &m {a: old}\nspec: {encryptedData: *m}\n", ch(0, "v", enc("a")...), "spec.encryptedData is an alias"},
		{"anchored value used elsewhere", "spec:\n  encryptedData: {a: &v old}\n  other: *v\n", ch(0, "v", enc("a")...), "cannot change spec.encryptedData.a in place"},
		{"no such document", "a: b\n", ch(3, "v", "a"), "document 4: a: the file has 1 documents"},
		{"JSON missing key", `{"spec": {}}`, ch(0, "v", enc("a")...), `no key "encryptedData"`},
		{"bad separator", "a: b\n---x\n", ch(0, "v", "a"), "line 2: invalid document separator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply([]byte(tt.in), []Change{tt.change})
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("got %q, %v; want error containing %q", got, err, tt.err)
			}
			got, err = ApplyRead([]byte(tt.in), readDocs(t, tt.in), []Change{tt.change})
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("ApplyRead: got %q, %v; want error containing %q", got, err, tt.err)
			}
		})
	}
}

// TestApplyNeverQuotes: errors name paths, never the document's values.
func TestApplyNeverQuotes(t *testing.T) {
	in := "spec:\n  encryptedData: {a: &v canary-value}\n  other: *v\n"
	_, err := Apply([]byte(in), []Change{ch(0, "v", enc("a")...)})
	if err == nil || strings.Contains(err.Error(), "canary") {
		t.Fatalf("error %v", err)
	}
}

func TestSplit(t *testing.T) {
	in := "---\n# c\n---\n---\na: 1\n--- # x\r\nb: 2\n"
	format, docs, err := Split([]byte(in))
	if err != nil || format != YAML {
		t.Fatal(format, err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, in[d.Start:d.End])
	}
	want := []string{"# c\n", "a: 1\n", "b: 2\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
	if docs[2].Line != 7 {
		t.Fatalf("line %d", docs[2].Line)
	}
	format, docs, err = Split([]byte(" {\"a\": 1}\n\n[2]"))
	if err != nil || format != JSON || len(docs) != 2 || docs[1].Line != 3 {
		t.Fatal(format, docs, err)
	}
}

// FuzzApply: whatever the input, Apply never panics, and when it succeeds
// the document reads as the original with the change (Apply checks it
// itself; the fuzzer looks for the inputs where that check is wrong or
// the search for a value's end runs off).
func FuzzApply(f *testing.F) {
	f.Add("spec:\n  encryptedData:\n    a: old # c\n", "a", "new")
	f.Add("spec: {encryptedData: {a: 'x', b: \"y\"}}\n", "b", "a,b")
	f.Add("spec:\n  encryptedData:\n    a: |\n      x\n", "a", "v")
	f.Add("{\"spec\": {\"encryptedData\": {\"a\": \"x\"}}}", "a", "\"")
	f.Fuzz(func(t *testing.T, in, key, value string) {
		out, err := Apply([]byte(in), []Change{{Doc: 0, Path: enc(key), Value: value}})
		if err != nil {
			return
		}
		format := FormatOf(out)
		got, err := decode(format, docBytes(t, out, 0))
		if err != nil {
			t.Fatalf("edited document does not parse: %v", err)
		}
		m := got.(map[string]any)["spec"].(map[string]any)["encryptedData"].(map[string]any)
		if m[key] != value {
			t.Fatalf("value %q, want %q", m[key], value)
		}
	})
}

// FuzzApplyDelete: a deletion never panics, and when it succeeds the
// document reads as the original without the entry, and the file is the
// original with one stretch of text cut out: nothing else moved.
func FuzzApplyDelete(f *testing.F) {
	f.Add("metadata:\n  annotations: # c\n    a: b\n    c: |\n      x\n  name: n\n", "metadata.annotations.a")
	f.Add("metadata: {annotations: {a: b, c: d}, name: n}\n", "metadata.annotations.c")
	f.Add("spec:\n  template:\n    metadata:\n      name: x\n      labels:\n      - a\n    type: t\n", "spec.template.metadata")
	f.Add("{\"metadata\": {\"annotations\": {\"a\": \"b\"}, \"name\": \"n\"}}", "metadata.annotations")
	f.Add("a: &x {b: c}\nd: *x\n", "a")
	f.Fuzz(func(t *testing.T, in, path string) {
		p := strings.Split(path, ".")
		out, err := Apply([]byte(in), []Change{{Doc: 0, Path: p, Delete: true}})
		if err != nil {
			return
		}
		format, docs, err := Split([]byte(in))
		if err != nil || len(docs) == 0 {
			t.Fatalf("Apply succeeded on a file Split refuses: %v", err)
		}
		want, err := decode(format, []byte(in[docs[0].Start:docs[0].End]))
		if err != nil {
			t.Fatal(err)
		}
		if want, err = deletePath(want, p); err != nil {
			t.Fatal(err)
		}
		got, err := decode(FormatOf(out), docBytes(t, out, 0))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("edited document reads %v (%v), want %v", got, err, want)
		}
		prefix := 0
		for prefix < len(out) && out[prefix] == in[prefix] {
			prefix++
		}
		suffix := 0
		for suffix < len(out)-prefix && out[len(out)-1-suffix] == in[len(in)-1-suffix] {
			suffix++
		}
		if prefix+suffix != len(out) {
			t.Fatalf("more than one stretch changed:\n%q\n%q", in, out)
		}
	})
}

func docBytes(t *testing.T, data []byte, i int) []byte {
	_, docs, err := Split(data)
	if err != nil || len(docs) <= i {
		t.Fatalf("split: %v", err)
	}
	return data[docs[i].Start:docs[i].End]
}

func TestFormatOf(t *testing.T) {
	for in, want := range map[string]string{
		"a: b\n":                        YAML,
		`{"a": "b"}`:                    JSON,
		"{a: b, c: [d]}\n":              YAML, // a YAML flow mapping
		`{"a": "b"} {"a":`:              JSON, // broken JSON stays JSON, for its errors
		"[1, 2]":                        JSON,
		"  \n# comment\n{a: b}\n":       YAML,
		"{\"a\": \"b\"}\n---\nc: d\n":   JSON,
		"---\n{\"apiVersion\": \"v1\"}": YAML,
	} {
		if got := FormatOf([]byte(in)); got != want {
			t.Errorf("FormatOf(%q) = %s, want %s", in, got, want)
		}
	}
}
