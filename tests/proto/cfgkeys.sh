#!/bin/sh
# tests/proto/cfgkeys.sh — the table of config keys (xm/cfgkeys.c), its man
# page (man/xm.cfg.5) and what `xm create -n` does with each key agree:
#  - the page renders without a warning;
#  - every key of the table is in the page, under its status (Honoured,
#    Accepted, Not supported yet, Refused) and with the same values, and the
#    page lists no other key; an entry whose other values are "not supported
#    yet" says "yet", no other entry does;
#  - for every key, a config that has it: a refused key is refused by name
#    ("config key 'K' is not supported[ yet]: ..."), an empty list for it
#    accepted; each value an accepted or honoured key takes is accepted, and
#    another one refused by name with the values taken; honoured keys pass.
# The table is read from its source: one entry a line, starting
# K("key", STATUS, 'kind', "values" (cfgkeys.c's head comment).
#
#   B=build/asan sh tests/proto/cfgkeys.sh
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
cd "$TOP" || exit 1
XM=$TOP/$B/xm/xm
KERNEL=$TOP/tests/golden/create/boot/vmlinuz

W=$(mktemp -d /tmp/xm-cfgkeys.XXXXXX) || exit 1
trap 'rm -rf "$W"' EXIT
trap 'exit 1' INT TERM HUP

# The table: "key status kind values" a line (values "-" for none, else
# the source's string, '|'-separated), and the same as the page shows it.
n_src=$(grep -c '^	K(' xm/cfgkeys.c)
sed -n 's/^	K("\([a-z0-9_]*\)", \([A-Z_]*\), '"'"'\(.\)'"'"', \(NULL\|"[^"]*"\).*/\1 \2 \3 \4/p' \
	xm/cfgkeys.c | sed 's/ NULL$/ -/; s/ "\([^"]*\)"$/ \1/' > "$W/table"
n_tab=$(wc -l < "$W/table")
if [ "$n_src" -gt 100 ] && [ "$n_src" -eq "$n_tab" ]; then
	t_ok "the table's $n_tab entries read from xm/cfgkeys.c"
else
	t_fail "the table read from xm/cfgkeys.c" "$n_tab of $n_src entries in the expected form"
fi

# "key WORD values yet|-" as the page should show it
awk '{
	st = $2; word = "Refused"
	if (st ~ /^HONOURED/) word = "Honoured"
	if (st ~ /^ACCEPTED/) word = "Accepted"
	if (st == "PLANNED") word = "Not-supported-yet"
	yet = st ~ /_YET$/ ? "yet" : "-"
	v = ""
	if ($4 != "-") {
		n = split($4, t, "|")
		for (i = 1; i <= n; i++) {
			x = t[i]
			if (x ~ /^=/) x = substr(x, 2)
			else if (!($3 == "n" || x ~ /^[0-9]+$/)) x = "\"" x "\""
			v = v (i > 1 ? "|" : "") x
		}
	}
	print $1, word, (v == "" ? "-" : v), yet
}' "$W/table" | sort > "$W/want"

# The page: each tag line after .TP or .TQ is "key, key, ..." or
# "key = v | v"; the body after it, up to the next entry, says "yet" or not.
groff -ww -man -Tutf8 man/xm.cfg.5 > /dev/null 2> "$W/warn"
if [ -s "$W/warn" ]; then
	t_fail "xm.cfg.5 renders without warnings" "$(head -3 "$W/warn")"
else
	t_ok "xm.cfg.5 renders without warnings"
fi
awk '
function flush() {
	if (ntag) for (i = 1; i <= ntag; i++) print tags[i], sec, vals[i], (yet ? "yet" : "-")
	ntag = 0; yet = 0
}
/^\.SH/ { flush(); insec = ($2 == "KEYS"); sec = ""; next }
!insec { next }
/^\.SS/ { flush(); sec = $0; sub(/^\.SS */, "", sec); gsub(/"/, "", sec); gsub(/ /, "-", sec); next }
/^\.T[PQ]/ { if ($1 == ".TP") flush(); tag = 1; next }
tag {
	tag = 0; line = $0; gsub(/\\f[BIRP]/, "", line)
	if (line ~ / = /) {
		k = line; sub(/ = .*/, "", k); v = line; sub(/^[^=]*= /, "", v); gsub(/ \| /, "|", v)
		tags[++ntag] = k; vals[ntag] = v
	} else {
		n = split(line, ks, /, */)
		for (j = 1; j <= n; j++) { tags[++ntag] = ks[j]; vals[ntag] = "-" }
	}
	next
}
/yet/ { yet = 1 }
END { flush() }' man/xm.cfg.5 | sort > "$W/page"
if cmp -s "$W/want" "$W/page"; then
	t_ok "xm.cfg.5 lists each key of the table under its status, with its values ($(wc -l < "$W/page"))"
else
	t_fail "xm.cfg.5 and xm/cfgkeys.c agree" "< the table, > the page:"
	diff "$W/want" "$W/page" | grep '^[<>]' | head -20 | sed 's/^/#   /'
fi

# What xm does with each key.
[ -x "$XM" ] || { t_fail "xm create -n" "$XM not built"; t_summary; exit 1; }
# try KEY-LINE: exit status and output of xm create -n, in $W/out
try() {
	printf 'name = "keys"\nkernel = "%s"\n%s\n' "$KERNEL" "$1" > "$W/k.cfg"
	"$XM" create -n "$W/k.cfg" > "$W/out" 2>&1
}
: > "$W/log"
while read -r key st kind values; do
	case $st in
	REFUSED | PLANNED)
		case $kind in l) v='[ "x" ]' ;; n) v=1 ;; *) v='"x"' ;; esac
		yet=
		[ "$st" = PLANNED ] && yet=' yet'
		want="k.cfg:3: config key '$key' is not supported$yet: "
		if try "$key = $v"; then
			echo "$key = $v: accepted" >> "$W/log"
		elif ! grep -qF "$want" "$W/out"; then
			echo "$key = $v: $(head -1 "$W/out")" >> "$W/log"
		fi
		if [ "$kind" = l ] && ! try "$key = []"; then
			echo "$key = []: $(head -1 "$W/out")" >> "$W/log"
		fi
		;;
	HONOURED) ;;
	*)
		# each value taken is accepted
		echo "$values" | tr '|' '\n' | while IFS= read -r t; do
			case $t in
			=memory) v=128 ;;
			=vcpus) v=1 ;;
			*) if [ "$kind" = n ] || expr "$t" : '[0-9][0-9]*$' > /dev/null; then
				v=$t
			else
				v="\"$t\""
			fi ;;
			esac
			try "$key = $v" || echo "$key = $v: $(head -1 "$W/out")" >> "$W/log"
		done
		# another is refused, naming the key and the values taken
		[ "$kind" = n ] && v=7777 || v='"xm-other"'
		yet=
		case $st in *_YET) yet=' yet' ;; esac
		want="k.cfg:3: $key = $v is not supported$yet (only "
		if try "$key = $v"; then
			echo "$key = $v: accepted" >> "$W/log"
		elif ! grep -qF "$want" "$W/out"; then
			echo "$key = $v: $(head -1 "$W/out")" >> "$W/log"
		fi
		;;
	esac
done < "$W/table"
if [ -s "$W/log" ]; then
	t_fail "xm create -n: each key as its table entry says" "$(wc -l < "$W/log") wrong:"
	head -20 "$W/log" | sed 's/^/#   /'
else
	t_ok "xm create -n: each key as its table entry says ($n_tab keys)"
fi

# A typo of a known key is unknown, with the key it is near.
try 'memroy = 256'
grep -qF "unknown config key 'memroy' (did you mean 'memory'?)" "$W/out" &&
	t_ok "a typo is unknown, with the nearest key" ||
	t_fail "a typo is unknown, with the nearest key" "$(head -1 "$W/out")"
try 'zzqqx = 1'
grep -qF "unknown config key 'zzqqx'" "$W/out" && ! grep -q 'did you mean' "$W/out" &&
	t_ok "a key near none is unknown, without a suggestion" ||
	t_fail "a key near none is unknown, without a suggestion" "$(head -1 "$W/out")"
t_summary
