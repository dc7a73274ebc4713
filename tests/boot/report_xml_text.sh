#!/bin/bash
# timeout: 120
# junit.xml and index.html stay well-formed whatever text they carry
# (docs/report-schema.md, "Text in junit.xml and index.html"): one UML boot
# (~0.2 s) whose scenario file name (junit's classname; `name:` itself
# allows only letters, digits, '.', '_' and '-') holds every byte
# 0x80-0xff, U+FFFE, U+FFFF, a UTF-8 surrogate and an overlong form, in a
# folder named with every byte 0x01-0x7f but '/' (the HTML shows the path);
# whose step names hold every code point U+0001-U+00FF, U+FFFE and U+FFFF
# (YAML escapes: YAML text is UTF-8); and whose guest writes every byte
# 0x00-0xff, those code points and broken UTF-8 to its console. A step
# fails on purpose, so the failure carries the console tail. junit.xml
# must pass the XSD and read back as the text escaped (control characters
# as pictures, the rest as U+FFFD); index.html must give libxml2's HTML
# parser no error but HTML5's tags it does not know.
. "$(dirname "$0")/../lib.sh"
XSD="$BOOTLAB_HOME/tests/data/junit.xsd"

# bytes FROM TO: the bytes FROM..TO but '/', raw (printf of their octal escapes)
bytes() { printf "$(seq "$1" "$2" | grep -vx 47 | xargs printf '\\%03o')"; }
sdir="$T_TMP/s-$(bytes 1 127)"
mkdir "$sdir"
# the steps: names as YAML escapes; the guest's bytes as the write's hex
/usr/bin/python3 - <<'PY' | agent_scenario bytes 30s > "$sdir/$(bytes 128 255)"$'\xef\xbf\xbe\xef\xbf\xbf\xed\xa0\x80\xc0\xaf'.yaml
def esc(cps):
    return "".join("\\x%02x" % c if c < 0x100 else "\\u%04X" % c for c in cps)
lo, hi = esc(range(0x01, 0x80)), esc(list(range(0x80, 0x100)) + [0xFFFE, 0xFFFF])
console = (bytes(range(0x100)) + b"|\xef\xbf\xbe|\xef\xbf\xbf|\xed\xa0\x80|\xc0\xaf|\xe0\x80\xaf"
           b"|\xf4\x90\x80\x80|\xe2\x82\nbytes-done\n")
print(f"""  - hello:
    name: "hello {lo}"
  - agent: {{op: write, path: /dev/console, hex: "{console.hex()}"}}
    name: "write {hi}"
  - console: 'bytes-done'
    name: "console <[a-z]+> & {lo}"
  - agent: {{op: stat, path: /}}
    expect: {{type: file}}
    name: "fails {hi}"
""")
PY
out=$("$BOOTLAB" run --backend uml --report-dir "$T_TMP/r" "$sdir"/*.yaml 2>&1); rc=$?
echo "$out" | cat -v | sed 's/^/# /'
expect_eq "run exits 1 (the last step fails on purpose)" "$rc" 1
dir=$(ls -d "$T_TMP"/r/2*/ | head -1)
x="$dir/junit.xml"
check "junit.xml written" test -s "$x"
o=$(xmllint --noout --schema "$XSD" "$x" 2>&1); rc=$?
expect_eq "junit.xml is well-formed and matches the JUnit XSD" "$rc" 0
[ "$rc" = 0 ] || echo "$o" | head -n 12 | cut -c1-160 | sed 's/^/#   /'

# read back: what the escaper promises, character by character
o=$(/usr/bin/python3 - "$x" <<'PY' 2>&1
import sys, xml.etree.ElementTree as ET
def shown(cps):  # a text as junit.xml gives it back
    return "".join(chr(0x2400 + c) if c < 0x20 and c not in (9, 10) else
                   "\u2421" if c == 0x7f else
                   "\ufffd" if c in (0xFFFE, 0xFFFF) else chr(c) for c in cps)
try:
    tc = ET.parse(sys.argv[1]).getroot().find(".//testcase")
except ET.ParseError as e:
    sys.exit(print(f"not ok parses: {e}"))
out, fail = tc.findtext("system-out"), tc.find("failure")
want = {
    "classname: bytes 0x80-0xff, U+FFFE, U+FFFF, surrogate, overlong as U+FFFD":
        tc.get("classname") == "\ufffd" * (128 + 1 + 1 + 3 + 2) + ".yaml",
    "step name with U+0001-U+007F": "1: hello " + shown(range(1, 0x80)) + ": pass" in out,
    "step name with U+0080-U+00FF, U+FFFE, U+FFFF":
        "2: write " + shown(list(range(0x80, 0x100)) + [0xFFFE, 0xFFFF]) + ": pass" in out,
    "step name with markup": "3: console <[a-z]+> & " + shown(range(1, 0x80)) in out,
    "failure message names the failed step": fail.get("message").startswith("step 4 (fails \x80"),
    "console tail carries the guest's bytes":
        "\u240b\u240c\u240d\u240e" in fail.text and "bytes-done" in fail.text,
    "console tail: U+FFFE, U+FFFF, surrogate, overlong as U+FFFD":
        "|\ufffd|\ufffd|\ufffd\ufffd\ufffd|\ufffd\ufffd|" in fail.text,
}
for name, good in want.items():
    print(("ok " if good else "not ok ") + name)
PY
)
while IFS= read -r line; do
	case "$line" in
	"ok "*) ok "junit.xml reads back: ${line#ok }" ;;
	"not ok "*) not_ok "junit.xml reads back: ${line#not ok }" ;;
	*) echo "#   $line" ;;
	esac
done <<< "$o"

h="$dir/index.html"
check "index.html written" test -s "$h"
# libxml2's HTML parser knows HTML 4 only: <section>, <svg> and their kin are
# "Tag ... invalid"; any other error is the page's
errs=$(xmllint --html --noout "$h" 2>&1 | grep 'parser error' | grep -vE 'Tag [a-z]+ invalid')
check "index.html: no HTML parser error (bad characters, entities, tags)" test -z "$errs"
[ -z "$errs" ] || echo "$errs" | sed 's/.*parser error : //' | sort | uniq -c | sed 's/^/#   /'
expect_match "index.html names the scenario" "$(cat "$h")" 'data-name="bytes"'
expect_match "index.html shows the file's folder, controls as pictures" "$(cat "$h")" \
	'/s-&#x2401;&#x2402;&#x2403;'
no_emulator_left
done_testing
