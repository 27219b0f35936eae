#!/usr/bin/env bash
# Fails when a source file includes a header from a layer above its own
# (DESIGN.md, "Layers"). Internal headers are included as "layer/file.h";
# public ones as <netstack/file.h>, which every layer may use.
set -euo pipefail
cd "$(dirname "$0")/.."

# Layer of each folder, and which layers each may include.
declare -A allowed=(
	[wire]="wire"
	[buf]="buf wire"
	[core]="core buf wire"
	[ipv4]="ipv4 arp core buf wire"
	[arp]="arp ipv4 core buf wire"
	[transport]="transport ipv4 arp core buf wire"
	[link]="link buf wire"
)
layers="wire buf core ipv4 arp transport link"
bad=0
for dir in $layers; do
	for f in $(find "src/$dir" -name '*.[ch]' 2>/dev/null); do
		while IFS= read -r line; do
			inc=$(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([a-z0-9_]+)\/[^"]+".*/\1/p' <<<"$line")
			[ -z "$inc" ] && continue
			case " $layers " in *" $inc "*) ;; *) continue ;; esac
			if [[ " ${allowed[$dir]} " != *" $inc "* ]]; then
				echo "layering: $f includes a header of layer '$inc': $line" >&2
				bad=1
			fi
		done < <(grep -E '^[[:space:]]*#[[:space:]]*include' "$f")
	done
done
# Tools use the public headers only.
if grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"(wire|buf|core|ipv4|arp|transport|link)/' tools 2>/dev/null; then
	echo "layering: tools/ must use only the public headers <netstack/...>" >&2
	bad=1
fi
# Public headers never include private ones.
if grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' include 2>/dev/null; then
	echo "layering: public headers must include only <netstack/...> and system headers" >&2
	bad=1
fi
if [ "$bad" -ne 0 ]; then exit 1; fi
echo "layering: ok"
