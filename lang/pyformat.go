package lang

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// Python's format-spec mini-language, shared by str.format, format() and
// the % operator, so "{:.2f}".format(x), format(x, ".2f") and "%.2f" % x
// print what Python prints. Checked against python3 by pyformat_test.go.

// fspec is a parsed format spec: [[fill]align][sign][z][#][0][width][,|_][.precision][type].
type fspec struct {
	fill     rune
	align    byte // 0 (the type's default), '<', '>', '^', '='
	sign     byte // 0, '+', '-', ' '
	z        bool // negative zero shown as zero
	alt      bool // '#'
	width    int
	grouping byte // 0, ',', '_'
	prec     int  // -1: none
	typ      byte // 0: none
}

func parseSpec(s string) (fspec, error) {
	sp := fspec{fill: ' ', prec: -1}
	orig := s
	isAlign := func(c byte) bool { return c == '<' || c == '>' || c == '^' || c == '=' }
	if r, n := utf8.DecodeRuneInString(s); n > 0 && len(s) > n && isAlign(s[n]) {
		sp.fill, sp.align = r, s[n]
		s = s[n+1:]
	} else if len(s) > 0 && isAlign(s[0]) {
		sp.align = s[0]
		s = s[1:]
	}
	if len(s) > 0 && (s[0] == '+' || s[0] == '-' || s[0] == ' ') {
		sp.sign = s[0]
		s = s[1:]
	}
	if len(s) > 0 && s[0] == 'z' {
		sp.z = true
		s = s[1:]
	}
	if len(s) > 0 && s[0] == '#' {
		sp.alt = true
		s = s[1:]
	}
	if len(s) > 0 && s[0] == '0' {
		if sp.align == 0 {
			sp.fill, sp.align = '0', '='
		}
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 {
		w, err := strconv.Atoi(s[:i])
		if err != nil || w > 1<<20 {
			return sp, fmt.Errorf("format: width too big in %q", orig)
		}
		sp.width = w
		s = s[i:]
	}
	if len(s) > 0 && (s[0] == ',' || s[0] == '_') {
		sp.grouping = s[0]
		s = s[1:]
	}
	if len(s) > 0 && s[0] == '.' {
		s = s[1:]
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return sp, fmt.Errorf("format: format specifier %q missing precision", orig)
		}
		p, err := strconv.Atoi(s[:i])
		if err != nil || p > 1<<16 {
			return sp, fmt.Errorf("format: precision too big in %q", orig)
		}
		sp.prec = p
		s = s[i:]
	}
	if len(s) > 1 {
		return sp, fmt.Errorf("format: invalid format specifier %q", orig)
	}
	if len(s) == 1 {
		sp.typ = s[0]
	}
	return sp, nil
}

// Format formats v by spec as Python's format(v, spec) does.
func Format(v starlark.Value, spec string) (string, error) {
	if spec == "" {
		return str(v), nil
	}
	sp, err := parseSpec(spec)
	if err != nil {
		return "", err
	}
	return formatValue(v, sp)
}

func formatValue(v starlark.Value, sp fspec) (string, error) {
	switch x := v.(type) {
	case starlark.Int:
		return formatInt(x, sp)
	case starlark.Bool:
		n := 0
		if x {
			n = 1
		}
		return formatInt(starlark.MakeInt(n), sp)
	case starlark.Float:
		return formatFloat(float64(x), sp)
	case starlark.String:
		return formatStringValue(string(x), "str", sp)
	}
	return formatStringValue(v.String(), v.Type(), sp)
}

func formatStringValue(s, typeName string, sp fspec) (string, error) {
	if sp.typ != 0 && sp.typ != 's' {
		return "", fmt.Errorf("format: unknown format code '%c' for a value of type %s", sp.typ, typeName)
	}
	if sp.sign != 0 {
		return "", fmt.Errorf("format: sign not allowed in string format specifier")
	}
	if sp.alt {
		return "", fmt.Errorf("format: alternate form (#) not allowed in string format specifier")
	}
	if sp.align == '=' {
		return "", fmt.Errorf("format: '=' alignment not allowed in string format specifier")
	}
	if sp.grouping != 0 {
		return "", fmt.Errorf("format: cannot specify '%c' with 's'", sp.grouping)
	}
	return formatString(s, sp), nil
}

// str is Python's str(v): floats as Python writes them (1e15 as
// 1000000000000000.0, where Starlark writes 1e+15).
func str(v starlark.Value) string {
	switch v := v.(type) {
	case starlark.String:
		return string(v)
	case starlark.Float:
		f := float64(v)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return v.String()
		}
		return signOf(math.Signbit(f), 0) + reprFloat(math.Abs(f))
	}
	return v.String()
}

// formatString truncates s to the precision and pads it to the width.
func formatString(s string, sp fspec) string {
	if sp.prec >= 0 && utf8.RuneCountInString(s) > sp.prec {
		s = string([]rune(s)[:sp.prec])
	}
	align := sp.align
	if align == 0 {
		align = '<'
	}
	return pad("", s, sp.fill, align, sp.width)
}

// pad lays out sign and digits in width: '=' puts the fill between them.
func pad(sign, body string, fill rune, align byte, width int) string {
	n := width - utf8.RuneCountInString(sign) - utf8.RuneCountInString(body)
	if n <= 0 {
		return sign + body
	}
	f := strings.Repeat(string(fill), n)
	switch align {
	case '<':
		return sign + body + f
	case '^':
		left := strings.Repeat(string(fill), n/2)
		return left + sign + body + strings.Repeat(string(fill), n-n/2)
	case '=':
		return sign + f + body
	}
	return f + sign + body
}

func signOf(neg bool, sign byte) string {
	switch {
	case neg:
		return "-"
	case sign == '+':
		return "+"
	case sign == ' ':
		return " "
	}
	return ""
}

func formatInt(x starlark.Int, sp fspec) (string, error) {
	switch sp.typ {
	case 'e', 'E', 'f', 'F', 'g', 'G', '%':
		f, err := starlark.AsFloat(x)
		if !err {
			return "", fmt.Errorf("format: int too large to convert to float")
		}
		return formatFloat(f, sp)
	case 's':
		return "", fmt.Errorf("format: unknown format code 's' for a value of type int")
	}
	if sp.prec >= 0 {
		return "", fmt.Errorf("format: precision not allowed in integer format specifier")
	}
	if sp.z {
		return "", fmt.Errorf("format: negative zero coercion (z) not allowed in integer format specifier")
	}
	b := x.BigInt()
	neg := b.Sign() < 0
	b.Abs(b)
	var digits, prefix string
	group := 3
	switch sp.typ {
	case 0, 'd', 'n':
		digits = b.Text(10)
	case 'b':
		digits, prefix, group = b.Text(2), "0b", 4
	case 'o':
		digits, prefix, group = b.Text(8), "0o", 4
	case 'x':
		digits, prefix, group = b.Text(16), "0x", 4
	case 'X':
		digits, prefix, group = strings.ToUpper(b.Text(16)), "0X", 4
	case 'c':
		if sp.sign != 0 {
			return "", fmt.Errorf("format: sign not allowed with integer format specifier 'c'")
		}
		if !b.IsInt64() || b.Int64() > utf8.MaxRune || neg {
			return "", fmt.Errorf("format: %%c arg not in range(0x110000)")
		}
		return formatString(string(rune(b.Int64())), fspec{fill: sp.fill, align: orDefault(sp.align, '>'), width: sp.width, prec: -1}), nil
	default:
		return "", fmt.Errorf("format: unknown format code '%c' for a value of type int", sp.typ)
	}
	if sp.grouping == ',' && group == 4 {
		return "", fmt.Errorf("format: cannot specify ',' with '%c'", sp.typ)
	}
	if !sp.alt {
		prefix = ""
	}
	return layoutNumber(signOf(neg, sp.sign)+prefix, digits, "", group, sp), nil
}

func orDefault(c, d byte) byte {
	if c == 0 {
		return d
	}
	return c
}

// layoutNumber groups the integer digits, and pads: with zeros (fill '0'
// and align '='), the grouping runs into the padding as Python's does.
func layoutNumber(sign, intDigits, rest string, group int, sp fspec) string {
	align := orDefault(sp.align, '>')
	if sp.grouping != 0 {
		if align == '=' && sp.fill == '0' {
			// Widen the digits with zeros so the separators continue into them.
			need := sp.width - len(sign) - len(rest)
			for len(groupDigits(intDigits, sp.grouping, group)) < need {
				intDigits = "0" + intDigits
			}
		}
		intDigits = groupDigits(intDigits, sp.grouping, group)
	}
	return pad(sign, intDigits+rest, sp.fill, align, sp.width)
}

func groupDigits(d string, sep byte, n int) string {
	if len(d) <= n {
		return d
	}
	var b strings.Builder
	first := len(d) % n
	if first == 0 {
		first = n
	}
	b.WriteString(d[:first])
	for i := first; i < len(d); i += n {
		b.WriteByte(sep)
		b.WriteString(d[i : i+n])
	}
	return b.String()
}

func formatFloat(f float64, sp fspec) (string, error) {
	if sp.grouping == '_' && sp.typ == 'n' {
		return "", fmt.Errorf("format: cannot specify '_' with 'n'")
	}
	typ := sp.typ
	switch typ {
	case 0, 'e', 'E', 'f', 'F', 'g', 'G', '%', 'n':
	default:
		return "", fmt.Errorf("format: unknown format code '%c' for a value of type float", typ)
	}
	neg := math.Signbit(f)
	if math.IsNaN(f) {
		neg = false
	}
	a := math.Abs(f)
	var body string
	upper := typ == 'E' || typ == 'F' || typ == 'G'
	switch {
	case math.IsInf(a, 0) || math.IsNaN(a):
		body = "inf"
		if math.IsNaN(a) {
			body = "nan"
		}
		if upper {
			body = strings.ToUpper(body)
		}
		if typ == '%' {
			body += "%"
		}
		return pad(signOf(neg, sp.sign), body, sp.fill, orDefault(sp.align, '>'), sp.width), nil
	}
	body = floatBody(a, typ, sp.prec, sp.alt)
	if upper {
		body = strings.ToUpper(body)
	}
	if sp.z && neg && isZero(body) {
		neg = false
	}
	intPart, rest := body, ""
	if i := strings.IndexAny(body, ".e%"); i >= 0 {
		intPart, rest = body[:i], body[i:]
	} else if i := strings.IndexAny(body, "E"); i >= 0 {
		intPart, rest = body[:i], body[i:]
	}
	return layoutNumber(signOf(neg, sp.sign), intPart, rest, 3, sp), nil
}

// floatBody is a finite, non-negative a in the presentation typ (0 for
// none) with precision prec (-1 for the default), lower case.
func floatBody(a float64, typ byte, prec int, alt bool) string {
	if prec < 0 && typ != 0 {
		prec = 6
	}
	switch typ {
	case 'e', 'E':
		return expForm(a, prec, alt)
	case 'f', 'F', '%':
		if typ == '%' {
			a *= 100
		}
		body := strconv.FormatFloat(a, 'f', prec, 64)
		if alt && prec == 0 {
			body += "."
		}
		if typ == '%' {
			body += "%"
		}
		return body
	case 'g', 'G', 'n':
		return generalForm(a, prec, alt, false)
	}
	if prec < 0 {
		return reprFloat(a)
	}
	return generalForm(a, prec, alt, true)
}

func isZero(body string) bool {
	return strings.Trim(body, "0.%") == "" || strings.HasPrefix(strings.Trim(body, "0."), "e")
}

// expForm is Python's 'e' format: d.ddde+XX, at least two exponent digits.
func expForm(a float64, prec int, alt bool) string {
	s := strconv.FormatFloat(a, 'e', prec, 64) // Go also writes at least two exponent digits
	if alt && prec == 0 {
		mant, exp, _ := strings.Cut(s, "e")
		s = mant + ".e" + exp
	}
	return s
}

// generalForm is Python's 'g' format (and, with repr, the float format with
// a precision and no type, which keeps a ".0" on whole numbers).
func generalForm(a float64, prec int, alt, noType bool) string {
	if prec == 0 {
		prec = 1
	}
	if a == 0 {
		switch {
		case alt:
			return "0." + strings.Repeat("0", prec-1)
		case noType:
			return "0.0"
		}
		return "0"
	}
	e := strconv.FormatFloat(a, 'e', prec-1, 64)
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	var s string
	if exp < -4 || exp >= prec {
		if !alt {
			mant = trimZeros(mant)
		}
		s = mant + "e" + expStr
	} else {
		s = strconv.FormatFloat(a, 'f', prec-1-exp, 64)
		if !alt {
			s = trimZeros(s)
			if noType && !strings.Contains(s, ".") {
				s += ".0"
			}
		} else if !strings.Contains(s, ".") {
			s += "."
		}
	}
	return s
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

// reprFloat is Python's repr of a float: the shortest digits that round
// trip, in exponent form below 1e-4 and from 1e16.
func reprFloat(a float64) string {
	if a == 0 {
		return "0.0"
	}
	e := strconv.FormatFloat(a, 'e', -1, 64)
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 16 {
		return mant + "e" + expStr
	}
	s := strconv.FormatFloat(a, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// strFormat is str.format with Python's format specs: "{:>8.2f}",
// "{0:,}", "{name!r:^10}", nested "{:{width}}", "{p.x}" and "{a[0]}".
func strFormat(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f := &formatter{args: args, kwargs: kwargs}
	s, err := f.format(string(b.Receiver().(starlark.String)), 0)
	if err != nil {
		return nil, err
	}
	return starlark.String(s), nil
}

type formatter struct {
	args         starlark.Tuple
	kwargs       []starlark.Tuple
	index        int
	auto, manual bool
}

func (f *formatter) format(s string, depth int) (string, error) {
	if depth > 2 {
		return "", fmt.Errorf("format: max string recursion exceeded")
	}
	var buf strings.Builder
	for len(s) > 0 {
		i := strings.IndexAny(s, "{}")
		if i < 0 {
			buf.WriteString(s)
			break
		}
		buf.WriteString(s[:i])
		c := s[i]
		s = s[i+1:]
		if len(s) > 0 && s[0] == c {
			buf.WriteByte(c) // "{{" or "}}"
			s = s[1:]
			continue
		}
		if c == '}' {
			return "", fmt.Errorf("format: single '}' in format string")
		}
		// Find the matching '}', allowing nested fields in the spec.
		level, j := 1, 0
		for ; j < len(s); j++ {
			if s[j] == '{' {
				level++
			} else if s[j] == '}' {
				level--
				if level == 0 {
					break
				}
			}
		}
		if level != 0 {
			return "", fmt.Errorf("format: expected '}' before end of string")
		}
		field := s[:j]
		s = s[j+1:]
		out, err := f.field(field, depth)
		if err != nil {
			return "", err
		}
		buf.WriteString(out)
	}
	return buf.String(), nil
}

func (f *formatter) field(field string, depth int) (string, error) {
	name, spec, hasSpec := field, "", false
	if i := strings.IndexAny(field, "!:"); i >= 0 {
		name = field[:i]
		rest := field[i:]
		conv := ""
		if rest[0] == '!' {
			conv, spec, hasSpec = rest[1:], "", false
			if k := strings.IndexByte(conv, ':'); k >= 0 {
				conv, spec, hasSpec = conv[:k], conv[k+1:], true
			}
			if conv != "s" && conv != "r" && conv != "a" {
				return "", fmt.Errorf("format: unknown conversion %q: want !s, !r or !a", "!"+conv)
			}
		} else {
			spec, hasSpec = rest[1:], true
		}
		v, err := f.lookup(name)
		if err != nil {
			return "", err
		}
		switch conv {
		case "s":
			if _, ok := v.(starlark.String); !ok {
				v = starlark.String(v.String())
			}
		case "r", "a":
			v = starlark.String(v.String())
		}
		if hasSpec && strings.Contains(spec, "{") {
			if spec, err = f.format(spec, depth+1); err != nil {
				return "", err
			}
		}
		return Format(v, spec)
	}
	v, err := f.lookup(name)
	if err != nil {
		return "", err
	}
	return Format(v, "")
}

// lookup finds a field's value: "" (the next argument), a position, or a
// keyword, then any ".attr" and "[key]" after it.
func (f *formatter) lookup(name string) (starlark.Value, error) {
	first := name
	if i := strings.IndexAny(name, ".["); i >= 0 {
		first = name[:i]
	}
	v, err := f.argument(first, name)
	if err != nil {
		return nil, err
	}
	return access(v, name[len(first):], name)
}

// argument is the value a field names first: "" (the next argument), a
// position, or a keyword.
func (f *formatter) argument(first, name string) (starlark.Value, error) {
	var v starlark.Value
	if first == "" {
		if f.manual {
			return nil, fmt.Errorf("format: cannot switch from manual field numbering to automatic field numbering")
		}
		f.auto = true
		if f.index >= len(f.args) {
			return nil, fmt.Errorf("format: replacement field {} number %d: only %d positional arguments", f.index, len(f.args))
		}
		v = f.args[f.index]
		f.index++
	} else if n, err := strconv.Atoi(first); err == nil && n >= 0 {
		if f.auto {
			return nil, fmt.Errorf("format: cannot switch from automatic field numbering to manual field numbering")
		}
		f.manual = true
		if n >= len(f.args) {
			return nil, fmt.Errorf("format: replacement field {%d}: only %d positional arguments", n, len(f.args))
		}
		v = f.args[n]
	} else {
		for _, kv := range f.kwargs {
			if string(kv[0].(starlark.String)) == first {
				v = kv[1]
			}
		}
		if v == nil {
			return nil, fmt.Errorf("format: no keyword argument %q for field {%s}", first, name)
		}
	}
	return v, nil
}

// access follows a field's ".attr" and "[key]" parts (rest) from v.
func access(v starlark.Value, rest, name string) (starlark.Value, error) {
	for rest != "" {
		if rest[0] == '.' {
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			attr := rest[:end]
			rest = rest[end:]
			ha, ok := v.(starlark.HasAttrs)
			if !ok {
				return nil, fmt.Errorf("format: field {%s}: %s has no attribute %s", name, v.Type(), attr)
			}
			av, err := ha.Attr(attr)
			if err != nil {
				return nil, fmt.Errorf("format: field {%s}: %v", name, err)
			}
			if av == nil {
				return nil, fmt.Errorf("format: field {%s}: %s has no attribute %s", name, v.Type(), attr)
			}
			v = av
			continue
		}
		end := strings.IndexByte(rest, ']')
		if rest[0] != '[' || end < 0 {
			return nil, fmt.Errorf("format: field {%s}: expected '.' or '['", name)
		}
		key := rest[1:end]
		rest = rest[end+1:]
		var k starlark.Value = starlark.String(key)
		if n, err := strconv.Atoi(key); err == nil {
			k = starlark.MakeInt(n)
		}
		switch c := v.(type) {
		case starlark.Mapping:
			e, found, err := c.Get(k)
			if err != nil || !found {
				return nil, fmt.Errorf("format: field {%s}: key %s not found", name, k)
			}
			v = e
		case starlark.Indexable:
			n, ok := k.(starlark.Int)
			i, _ := n.Int64()
			if !ok || i < 0 || int(i) >= c.Len() {
				return nil, fmt.Errorf("format: field {%s}: index %s out of range", name, key)
			}
			v = c.Index(int(i))
		default:
			return nil, fmt.Errorf("format: field {%s}: %s is not indexable", name, v.Type())
		}
	}
	return v, nil
}

var formatBuiltin = Func("format", `format(value, format_spec="") -> str

value formatted by Python's format-spec mini-language, as str.format
formats each field: [[fill]align][sign][#][0][width][,][.precision][type],
with the types d b o x X c (ints), f e g % (numbers) and s (strings).

    format(3.14159, ".2f")      # "3.14"
    format(1234567, ",")        # "1,234,567"
    format(0.25, ".0%")         # "25%"
    format("ok", "^6")          # "  ok  "
    "{:>8.3f}|{:<5}|{:05d}".format(2.5, "ab", 42)   # "   2.500|ab   |00042"`,
	func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var v starlark.Value
		spec := ""
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "value", &v, "format_spec?", &spec); err != nil {
			return nil, err
		}
		s, err := Format(v, spec)
		if err != nil {
			return nil, err
		}
		return starlark.String(s), nil
	})

// Percent is Python's printf-style str % args: %[(key)][flags][width][.precision]type
// with the flags # 0 - + and space, widths and precisions (or *), and the
// types d i u o x X e E f F g G c s r a %.
func Percent(format string, x starlark.Value) (starlark.Value, error) {
	p := &percent{s: format, x: x}
	p.mapping, p.isMapping = x.(starlark.Mapping)
	if t, ok := x.(starlark.Tuple); ok {
		p.args = t
	} else {
		p.args = starlark.Tuple{x}
	}
	if _, isStr := x.(starlark.String); isStr {
		p.isMapping = false
	}
	var buf strings.Builder
	for {
		i := strings.IndexByte(p.s, '%')
		if i < 0 {
			buf.WriteString(p.s)
			break
		}
		buf.WriteString(p.s[:i])
		p.s = p.s[i+1:]
		out, err := p.conversion()
		if err != nil {
			return nil, err
		}
		buf.WriteString(out)
	}
	if p.next < len(p.args) && !(p.isMapping && (p.usedMapping || p.next == 0)) {
		return nil, fmt.Errorf("%%: not all arguments converted during string formatting")
	}
	return starlark.String(buf.String()), nil
}

// percent is the state of a str % args: what is left of the format, and
// the arguments used so far.
type percent struct {
	s                      string // the format after the last conversion read
	x                      starlark.Value
	args                   starlark.Tuple
	next                   int // args[next] is the next argument to use
	mapping                starlark.Mapping
	isMapping, usedMapping bool
}

func (p *percent) nextArg() (starlark.Value, error) {
	if p.next >= len(p.args) {
		return nil, fmt.Errorf("%%: not enough arguments for format string")
	}
	p.next++
	return p.args[p.next-1], nil
}

// conversion formats one conversion, the format just after a %.
func (p *percent) conversion() (string, error) {
	arg, err := p.key()
	if err != nil {
		return "", err
	}
	sp := fspec{fill: ' ', prec: -1}
	left, zero := p.flags(&sp)
	w, err := p.num()
	if err != nil {
		return "", err
	}
	if w < 0 {
		left, w = true, -w
	}
	sp.width = w
	if len(p.s) > 0 && p.s[0] == '.' {
		p.s = p.s[1:]
		if sp.prec, err = p.num(); err != nil {
			return "", err
		}
		if sp.prec < 0 {
			sp.prec = 0
		}
	}
	for len(p.s) > 0 && (p.s[0] == 'h' || p.s[0] == 'l' || p.s[0] == 'L') {
		p.s = p.s[1:]
	}
	if p.s == "" {
		return "", fmt.Errorf("%%: incomplete format")
	}
	c := p.s[0]
	p.s = p.s[1:]
	if c == '%' {
		return "%", nil
	}
	if arg == nil {
		if arg, err = p.nextArg(); err != nil {
			return "", err
		}
	}
	switch {
	case left:
		sp.align = '<'
	case zero && c != 's' && c != 'r' && c != 'a' && c != 'c':
		sp.fill, sp.align = '0', '='
	default:
		sp.align = '>'
	}
	return percentOne(c, arg, sp)
}

// key reads a (key) and returns the mapping's value for it, or nil if the
// conversion has no key.
func (p *percent) key() (starlark.Value, error) {
	s := p.s
	if len(s) == 0 || s[0] != '(' {
		return nil, nil
	}
	if !p.isMapping {
		return nil, fmt.Errorf("%%: format requires a mapping, got %s", p.x.Type())
	}
	depth, j := 1, 1
	for ; j < len(s) && depth > 0; j++ {
		if s[j] == '(' {
			depth++
		} else if s[j] == ')' {
			depth--
		}
	}
	if depth > 0 {
		return nil, fmt.Errorf("%%: incomplete format key")
	}
	key := s[1 : j-1]
	p.s = s[j:]
	v, found, err := p.mapping.Get(starlark.String(key))
	if err != nil || !found {
		return nil, fmt.Errorf("%%: key %q not found", key)
	}
	p.usedMapping = true
	return v, nil
}

// flags reads the conversion flags into sp, and reports - and 0.
func (p *percent) flags(sp *fspec) (left, zero bool) {
	for len(p.s) > 0 {
		switch p.s[0] {
		case '-':
			left = true
		case '0':
			zero = true
		case '+':
			sp.sign = '+'
		case ' ':
			if sp.sign != '+' {
				sp.sign = ' '
			}
		case '#':
			sp.alt = true
		default:
			return left, zero
		}
		p.s = p.s[1:]
	}
	return left, zero
}

// num reads a width or precision: digits, or * for the next argument.
func (p *percent) num() (int, error) {
	if len(p.s) > 0 && p.s[0] == '*' {
		p.s = p.s[1:]
		v, err := p.nextArg()
		if err != nil {
			return 0, err
		}
		n, err := starlark.AsInt32(v)
		if err != nil {
			return 0, fmt.Errorf("%%: * wants int, got %s", v.Type())
		}
		return n, nil
	}
	j := 0
	for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(p.s[:j])
	p.s = p.s[j:]
	if n > 1<<20 {
		return 0, fmt.Errorf("%%: width or precision too big")
	}
	return n, nil
}

func percentOne(c byte, arg starlark.Value, sp fspec) (string, error) {
	switch c {
	case 's':
		return formatString(str(arg), sp), nil
	case 'r', 'a':
		return formatString(arg.String(), sp), nil
	case 'c':
		switch a := arg.(type) {
		case starlark.String:
			if utf8.RuneCountInString(string(a)) != 1 {
				return "", fmt.Errorf("%%c requires an int or a single character, got a string of length %d", utf8.RuneCountInString(string(a)))
			}
			return formatString(string(a), fspec{fill: ' ', align: sp.align, width: sp.width, prec: -1}), nil
		case starlark.Int:
			sp.typ, sp.sign, sp.alt = 'c', 0, false
			return formatInt(a, sp)
		}
		return "", fmt.Errorf("%%c requires an int or a single character, not %s", arg.Type())
	case 'd', 'i', 'u', 'o', 'x', 'X':
		var n starlark.Int
		switch a := arg.(type) {
		case starlark.Int:
			n = a
		case starlark.Bool:
			n = starlark.MakeInt(0)
			if a {
				n = starlark.MakeInt(1)
			}
		case starlark.Float:
			if c != 'd' && c != 'i' && c != 'u' {
				return "", fmt.Errorf("%%%c format: an integer is required, not float", c)
			}
			var err error
			if n, err = starlark.NumberToInt(a); err != nil {
				return "", fmt.Errorf("%%%c format: %v", c, err)
			}
		default:
			return "", fmt.Errorf("%%%c format: a number is required, not %s", c, arg.Type())
		}
		b := n.BigInt()
		neg := b.Sign() < 0
		b.Abs(b)
		var digits, prefix string
		switch c {
		case 'o':
			digits, prefix = b.Text(8), "0o"
		case 'x':
			digits, prefix = b.Text(16), "0x"
		case 'X':
			digits, prefix = strings.ToUpper(b.Text(16)), "0X"
		default:
			digits = b.Text(10)
		}
		if !sp.alt {
			prefix = ""
		}
		if sp.prec > len(digits) {
			digits = strings.Repeat("0", sp.prec-len(digits)) + digits
		}
		sp.prec = -1
		return layoutNumber(signOf(neg, sp.sign)+prefix, digits, "", 3, sp), nil
	case 'e', 'E', 'f', 'F', 'g', 'G':
		f, ok := starlark.AsFloat(arg)
		if !ok {
			return "", fmt.Errorf("%%%c format: a real number is required, not %s", c, arg.Type())
		}
		sp.typ = c
		return formatFloat(f, sp)
	}
	return "", fmt.Errorf("%%: unsupported format character '%c'", c)
}
