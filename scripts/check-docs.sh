#!/usr/bin/env bash
# Fails when a public symbol in include/netstack/ lacks its comment, or when
# docs/counters.md no longer matches the counters of <netstack/stats.h>.
#
#  1. Every public header opens with a `/** @file` block, or is named by an
#     `@file NAME` block in docs/files.dox (without either, Doxygen silently
#     leaves the header's functions and macros out of the reference).
#  2. Every top-level declaration -- NS_API function or object, static inline
#     function, #define, struct, enum, typedef -- has a doc comment (`/** */`)
#     right above it or a `/**<` comment on its line. Forward declarations of
#     opaque types need one only where no other header documents the type.
#  3. When Doxygen is installed (scripts/deps.sh docs|test), it runs over the
#     headers with WARN_IF_UNDOCUMENTED, which also covers struct members and
#     enum values; any warning fails.
#  4. docs/counters.md is what scripts/gen-counters.py makes from stats.h.
#
# Run by `make test`; `make docs` renders the reference itself.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 - include/netstack/*.h <<'PY'
import os, re, sys

bad = []
dox = open("docs/files.dox").read() if os.path.exists("docs/files.dox") else ""
named = set(re.findall(r"@file\s+(\S+)", dox))
documented_types = set()
forward = []
for path in sys.argv[1:]:
    lines = open(path).read().split("\n")
    # Helpers #undef'd again inside the header are not part of the API.
    undefined = set(re.findall(r"#\s*undef\s+(\w+)", "\n".join(lines)))
    seen = set()  # macros documented once (#if/#else twins need one comment)
    if (not re.match(r"/\*\*\s*$", lines[0]) or "@file" not in lines[1]) and \
            os.path.basename(path) not in named:
        bad.append(f"{path}:1: the header does not open with a /** @file comment")
    depth = 0          # brace depth outside comments
    in_comment = False
    doc_open = False   # the comment being read started with /**
    last_doc_end = -2  # line index where the last doc comment ended
    cont = False       # inside a multi-line #define
    for i, line in enumerate(lines):
        s = line.strip()
        if in_comment:
            if "*/" in s:
                in_comment = False
                if doc_open:
                    last_doc_end = i
            continue
        if s.startswith("/*") and "*/" not in s:
            in_comment = True
            doc_open = s.startswith("/**")
            continue
        if s.startswith("/**") and s.endswith("*/"):
            last_doc_end = i
            continue
        if s.startswith("/*") and s.endswith("*/"):
            continue
        if cont:
            cont = s.endswith("\\")
            continue
        has_doc = last_doc_end == i - 1 or "/**<" in s
        name = None
        m = re.match(r"#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)", s)
        if m:
            cont = s.endswith("\\")
            n = m.group(1)
            if n in seen or n in undefined or n.endswith("_") or (
                    n.startswith("NETSTACK_") and n.endswith("_H")):
                pass
            else:
                name = n
                if has_doc:
                    seen.add(n)
        elif depth == 0:
            m = re.match(r"(?:struct|enum)\s+([a-z_0-9]+)\s*\{", s)
            if m:
                name = m.group(1)
                if has_doc:
                    documented_types.add(name)
            m2 = re.match(r"struct\s+([a-z_0-9]+)\s*;$", s)
            if m2:
                forward.append((path, i + 1, m2.group(1), has_doc))
                if has_doc:
                    documented_types.add(m2.group(1))
            if re.match(r"(NS_API|static inline|typedef)\b", s):
                name = re.sub(r"\s+", " ", s)[:60]
        depth += s.count("{") - s.count("}")
        if name and not has_doc:
            bad.append(f"{path}:{i + 1}: '{name}' has no doc comment (/** ... */ above it)")
for path, line, t, has_doc in forward:
    if not has_doc and t not in documented_types:
        bad.append(f"{path}:{line}: opaque type 'struct {t}' is documented nowhere")
for b in bad:
    print("check-docs: " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

if command -v doxygen >/dev/null; then
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
	warnings=$( (cat docs/Doxyfile; printf '%s\n' "INPUT = include/netstack docs/files.dox" \
		"OUTPUT_DIRECTORY = $out" "GENERATE_TREEVIEW = NO" "WARN_AS_ERROR = NO" \
		"WARN_LOGFILE =") | NS_VERSION=0 doxygen - 2>&1 >/dev/null || true)
	if [ -n "$warnings" ]; then
		echo "check-docs: Doxygen finds public symbols without a comment:" >&2
		echo "$warnings" >&2
		exit 1
	fi
else
	echo "check-docs: doxygen is not installed; struct members and enum values not checked" >&2
fi

if ! python3 scripts/gen-counters.py --check; then
	echo "check-docs: docs/counters.md is stale: run 'python3 scripts/gen-counters.py'" >&2
	exit 1
fi
echo "check-docs: every public symbol has its comment; docs/counters.md matches stats.h"
