//! The format as data: each case is a configuration text and the tree or error nats-server's
//! conf package gives for it (cases marked "nats-server 2.9.10" were confirmed with `nats-server -t`).

mod common;

use std::path::Path;

use common::{render, MemoryHost};
use natrium_config::parse_str_with;

/// The file every case pretends to be.
const ORIGIN: &str = "/conf/main.conf";

/// Environment variables every case can see.
const ENV: &[(&str, &str)] = &[
    ("NATRIUM_PORT", "4222"),
    ("NATRIUM_STR", "xyz"),
    ("NATRIUM_QUOTED", "'3xyz'"),
    ("NATRIUM_SIZE_LIKE", "3Gyz"),
    ("NATRIUM_MAP", "{ a = 1, b = [x, y] }"),
    ("NATRIUM_INDIRECT", "$NATRIUM_PORT"),
    ("NATRIUM_CYCLE_A", "$NATRIUM_CYCLE_B"),
    ("NATRIUM_CYCLE_B", "$NATRIUM_CYCLE_A"),
    ("NATRIUM_BAD", "[1,"),
    ("NATRIUM_EMPTY", ""),
];

/// Files every case can include.
const FILES: &[(&str, &str)] = &[
    ("/conf/inc.conf", "port = 4222\nhost = 'h'\n"),
    ("/conf/sub/a.conf", "include b.conf\nx = 1\n"),
    ("/conf/sub/b.conf", "y = 2\n"),
    ("/conf/bad.conf", "a = 1\nb = [1,\n"),
    ("/conf/self.conf", "include self.conf\n"),
    ("/conf/uses_parent.conf", "z = $top\n"),
    ("/conf/empty.conf", ""),
    ("/conf/leaf.conf", "leaf = 1\n"),
];

enum Expect<'a> {
    /// The parsed tree, rendered by `common::render`.
    Tree(&'a str),
    /// The error's full display, `<file>:<line>:<col>: <message>`.
    Error(&'a str),
    /// Text the error's display must contain (for very long messages).
    ErrorContaining(&'a str),
}

use Expect::{Error, ErrorContaining, Tree};

const CASES: &[(&str, Expect<'static>)] = &[
    // Key/value separators and value terminators (parse_test.go TestSimpleTopLevel).
    ("foo='1'; bar=2.2; baz=true; boo=22", Tree("{foo: \"1\", bar: 2.2, baz: true, boo: 22}")),
    ("a = 1\nb: 2\nc 3\n", Tree("{a: 1, b: 2, c: 3}")),
    ("a=1, b=2; c=3", Tree("{a: 1, b: 2, c: 3}")),
    ("a\t=\t1\r\nb = 2\r\n", Tree("{a: 1, b: 2}")),
    ("", Tree("{}")),
    ("\n\n   \n# only comments\n", Tree("{}")),
    // Maps, with and without separators, commas or newlines.
    ("m { a = 1\n b = [1, 2, 3 ] }", Tree("{m: {a: 1, b: [1, 2, 3]}}")),
    ("m = {a:1, b:2}", Tree("{m: {a: 1, b: 2}}")),
    ("m {a 1; b 2}", Tree("{m: {a: 1, b: 2}}")),
    ("m: {\n  n {\n    o = x\n  }\n}", Tree("{m: {n: {o: \"x\"}}}")),
    ("m {}", Tree("{m: {}}")),
    // Arrays, with commas or newlines, nested, mixed.
    ("a = [\n 1\n 2\n 'x'\n]", Tree("{a: [1, 2, \"x\"]}")),
    ("a = [[1, 2 ], {b = [true]}, []]", Tree("{a: [[1, 2], {b: [true]}, []]}")),
    ("a = [ \"a.com\", \"b.com\" ]", Tree("{a: [\"a.com\", \"b.com\"]}")),
    // nats-server 2.9.10: a number directly followed by `]` lexes as the string "1]".
    ("a = [1]\n", Error("/conf/main.conf:2:1: Expected an array value terminator \",\" or an array terminator \"]\", but got '\u{0}' instead.")),
    // Comments, `#` and `//`, everywhere a value may end.
    (
        "# c\na = 1 # trailing\n// slash\nb = 2 // t\nm {\n # in map\n c = 3 // x\n}\nl = [\n # in array\n 1 // one\n]",
        Tree("{a: 1, b: 2, m: {c: 3}, l: [1]}"),
    ),
    // Strings: double-quoted with escapes, single-quoted raw, bare, bare with escapes.
    ("a = \"t\\tn\\nr\\rq\\\"b\\\\x\\x41\"", Tree("{a: \"t\\tn\\nr\\rq\\\"b\\\\xA\"}")),
    ("b = 'no \\t escape'", Tree("{b: \"no \\\\t escape\"}")),
    ("c = hello-world.com", Tree("{c: \"hello-world.com\"}")),
    ("d = a\\tb", Tree("{d: \"a\\tb\"}")),
    ("e = \"\\xc3\\xa9\"", Tree("{e: \"é\"}")),
    ("\"a b\" = 1\n'c.d': 2", Tree("{a b: 1, c.d: 2}")),
    ("m { \"x y\" = 1, 'z': 2 }", Tree("{m: {x y: 1, z: 2}}")),
    ("a = \"\"\nb = ''", Tree("{a: \"\", b: \"\"}")),
    ("a = 3xyz\nb = 3Gyz", Tree("{a: \"3xyz\", b: \"3Gyz\"}")),
    ("listen = 127.0.0.1:4222\nhost = 0.0.0.0", Tree("{listen: \"127.0.0.1:4222\", host: \"0.0.0.0\"}")),
    // Block strings: `(` to a `)` alone on a line.
    ("a = (\nline1\n  (x)\n)\nb = 1\n", Tree("{a: \"\\nline1\\n  (x)\\n\", b: 1}")),
    // nats-server quirk kept: at the very end of input the closing `)` stays in the string.
    ("a = (\nx\n)", Tree("{a: \"\\nx\\n)\"}")),
    ("a = (foo)\n", Error("/conf/main.conf:2:1: Unexpected EOF processing block.")),
    // Integers and size suffixes: a bare letter is a power of 1000, with b/i/ib a power of 1024.
    (
        "a = 8k, b = 4kb, c = 3ki, d = 4KiB, e = 1m, f = 2MB, g = 2Mi, h = 64MiB, i = 2g, j = 22GB",
        Tree("{a: 8000, b: 4096, c: 3072, d: 4096, e: 1000000, f: 2097152, g: 2097152, h: 67108864, i: 2000000000, j: 23622320128}"),
    ),
    (
        "k = 22Gi, l = 2t, m = 2TB, n = 1p, o = 1PiB, p = 1e, q = 1EB, r = -5k, s = 1K, t = 1Kb, u = 9E",
        Tree("{k: 23622320128, l: 2000000000000, m: 2199023255552, n: 1000000000000000, o: 1125899906842624, p: 1000000000000000000, q: 1152921504606846976, r: -5000, s: 1000, t: 1024, u: 9000000000000000000}"),
    ),
    ("a = -42\nb = 0", Tree("{a: -42, b: 0}")),
    ("port = 99999999999999999999", Error("/conf/main.conf:1:8: integer '99999999999999999999' is out of the range")),
    // Divergence: nats-server wraps around silently.
    ("a = 10E", Error("/conf/main.conf:1:5: integer '10E' is out of the range")),
    // Divergence: nats-server 2.9.10 accepts `1kbi` and drops the key; we refuse it.
    ("a = 1kbi", Error("/conf/main.conf:1:5: expected integer, but got '1kbi'")),
    ("a = 1e5\n", Error("/conf/main.conf:1:7: Expected a top-level value to end with a new line, comment or EOF, but got '5' instead.")),
    // Floats.
    ("a = 2.5, b = -0.5, c = 1.0", Tree("{a: 2.5, b: -0.5, c: 1.0}")),
    ("a = .5", Error("/conf/main.conf:1:5: Floats must start with a digit")),
    ("a = 1.x", Error("/conf/main.conf:1:7: Floats must have a digit after the '.', but got 'x' instead.")),
    ("a = -x", Error("/conf/main.conf:1:6: Expected a digit but got 'x'.")),
    ("a = -.5", Error("/conf/main.conf:1:6: Floats must start with a digit, not '.'.")),
    // Datetimes (ISO 8601 Zulu only), checked like Go's time.Parse.
    ("a = 2016-05-04T18:53:41Z", Tree("{a: dt(2016-05-04T18:53:41Z)}")),
    ("a = 2016-02-29T00:00:00Z", Tree("{a: dt(2016-02-29T00:00:00Z)}")),
    ("a = 2016-13-04T18:53:41Z", Error("/conf/main.conf:1:5: expected Zulu formatted DateTime, but got '2016-13-04T18:53:41Z'")),
    ("a = 2015-02-29T00:00:00Z", Error("/conf/main.conf:1:5: expected Zulu formatted DateTime, but got '2015-02-29T00:00:00Z'")),
    ("a = 2016-05-04\n", Error("/conf/main.conf:1:15: Expected 'T' in ISO8601 datetime, but found '\\n' instead.")),
    ("a = 12-05", Error("/conf/main.conf:1:7: All ISO8601 dates must be in full Zulu form.")),
    // Booleans, any case.
    ("a = TRUE, b = Yes, c = on, d = OFF, e = no, f = False", Tree("{a: true, b: true, c: true, d: false, e: false, f: false}")),
    ("a = 'true'\nb = truex", Tree("{a: \"true\", b: \"truex\"}")),
    // Variables: innermost enclosing map first, then the environment (TestNestedVariable).
    ("index = 22\nfoo = $index", Tree("{index: 22, foo: 22}")),
    (
        "index = 22\nnest {\n  index = 11\n  foo = $index\n}\nbar = $index",
        Tree("{index: 22, nest: {index: 11, foo: 11}, bar: 22}"),
    ),
    ("a = 1\nl = [ $a, [$a] ]", Tree("{a: 1, l: [1, [1]]}")),
    ("m { x = 1 }\nn = $m", Tree("{m: {x: 1}, n: {x: 1}}")),
    ("foo = $index", Error("/conf/main.conf:1:7: variable reference for 'index' on line 1 can not be found")),
    ("foo = $bar\nbar = 1", Error("/conf/main.conf:1:7: variable reference for 'bar' on line 1 can not be found")),
    ("m { x = 1 }\ny = $x", Error("/conf/main.conf:2:5: variable reference for 'x' on line 2 can not be found")),
    ("Index = 1\nfoo = $index", Error("/conf/main.conf:2:7: variable reference for 'index' on line 2 can not be found")),
    ("a = $", Error("/conf/main.conf:1:5: variable reference for '' on line 1 can not be found")),
    ("password: $2a$11$ooo", Tree("{password: \"$2a$11$ooo\"}")),
    ("port = $NATRIUM_PORT", Tree("{port: 4222}")),
    ("s = $NATRIUM_STR\nq = $NATRIUM_QUOTED\nz = $NATRIUM_SIZE_LIKE", Tree("{s: \"xyz\", q: \"3xyz\", z: \"3Gyz\"}")),
    ("m = $NATRIUM_MAP", Tree("{m: {a: 1, b: [\"x\", \"y\"]}}")),
    ("p = $NATRIUM_INDIRECT\ne = $NATRIUM_EMPTY", Tree("{p: 4222, e: \"\"}")),
    ("NATRIUM_PORT = 1\np = $NATRIUM_PORT", Tree("{NATRIUM_PORT: 1, p: 1}")),
    (
        "a = $NATRIUM_CYCLE_A",
        Error("/conf/main.conf:1:5: variable reference for 'NATRIUM_CYCLE_A' on line 1 could not be parsed: variable reference for 'NATRIUM_CYCLE_B' on line 1 could not be parsed: variable reference for 'NATRIUM_CYCLE_A' on line 1 could not be parsed: variable reference cycle for 'NATRIUM_CYCLE_A'"),
    ),
    (
        "\nb = $NATRIUM_BAD",
        Error("/conf/main.conf:2:5: variable reference for 'NATRIUM_BAD' on line 2 could not be parsed: Expected an array value terminator \",\" or an array terminator \"]\", but got '\u{0}' instead."),
    ),
    // Includes, resolved against the including file's directory; quoted or bare; in maps too.
    ("include ./inc.conf\nother = 1", Tree("{port: 4222, host: \"h\", other: 1}")),
    ("include \"inc.conf\"", Tree("{port: 4222, host: \"h\"}")),
    ("m { include 'inc.conf' }", Tree("{m: {port: 4222, host: \"h\"}}")),
    ("m {\n  INCLUDE inc.conf\n  x = 1\n}", Tree("{m: {port: 4222, host: \"h\", x: 1}}")),
    ("include sub/a.conf", Tree("{y: 2, x: 1}")),
    ("include /sub/b.conf", Tree("{y: 2}")),
    ("include empty.conf\na = 1", Tree("{a: 1}")),
    ("include inc.conf\np = $port", Tree("{port: 4222, host: \"h\", p: 4222}")),
    ("port = 1\ninclude inc.conf", Tree("{port: 4222, host: \"h\"}")),
    (
        "include nope.conf",
        Error("/conf/main.conf:1:9: error parsing include file 'nope.conf', /conf/nope.conf: error opening config file: no such file or directory"),
    ),
    (
        "x = 1\ninclude 'bad.conf'",
        Error("/conf/main.conf:2:10: error parsing include file 'bad.conf', /conf/bad.conf:3:1: Expected an array value terminator \",\" or an array terminator \"]\", but got '\u{0}' instead."),
    ),
    (
        "top = 1\ninclude uses_parent.conf",
        Error("/conf/main.conf:2:9: error parsing include file 'uses_parent.conf', /conf/uses_parent.conf:1:5: variable reference for 'top' on line 1 can not be found"),
    ),
    ("include self.conf", ErrorContaining("/conf/self.conf: includes nested deeper than 32 files")),
    ("include [x]", Error("/conf/main.conf:1:9: Expected include value but found start of an array")),
    ("include \"x", Error("/conf/main.conf:1:11: Unexpected EOF in double quoted include")),
    // Keys: case preserved, a repeated key replaces the value in its first slot.
    ("Port = 1", Tree("{Port: 1}")),
    ("a = 1\nb = 2\na = 3", Tree("{a: 3, b: 2}")),
    // Top-level braces (JSON-like files) and a trailing stray `}` are accepted.
    ("{ port = 4222 }", Tree("{port: 4222}")),
    ("{}", Tree("{}")),
    ("{\n  \"port\": 4222,\n  \"cluster\": { \"port\": 6222 }\n}\n", Tree("{port: 4222, cluster: {port: 6222}}")),
    ("accounts { users = [{}]}\n}\n", Tree("{accounts: {users: [{}]}}")),
    // nats-server 2.9.10: a key with no value inside a map takes the map, at the outer level.
    ("m {a }\n", Tree("{a: {}}")),
    ("m { a = 1,, }", Tree("{,: {a: 1}}")),
    // More of the lexer's corners, each confirmed against nats-server main's conf package.
    ("a = 1\u{0}b = 2", Tree("{a: 1, b: 2}")),
    ("m { /a = 1 }", Tree("{m: {a: 1}}")),
    ("a = (\r\n)\r\n", Error("/conf/main.conf:3:1: Unexpected EOF processing block.")),
    ("a = (\nx\n)\u{0}", Tree("{a: \"\\nx\\n\"}")),
    ("a = 1\nb = $a\na = 2\nc = $a", Tree("{a: 2, b: 1, c: 2}")),
    ("a 1; b: [x\n y]\n", Tree("{a: 1, b: [\"x\", \"y\"]}")),
    // Syntax errors with positions (the character the lexer stopped at).
    ("port = \n", Error("/conf/main.conf:1:8: Expected value but found new line")),
    ("a = \"x\\q\"", Error("/conf/main.conf:1:8: Invalid escape character 'q'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.")),
    ("a = \"\\xzz\"", Error("/conf/main.conf:1:9: Expected two hexadecimal digits after '\\x', but got 'zz'")),
    ("a = \"\\x4\n\"", Error("/conf/main.conf:1:9: Expected two hexadecimal digits after '\\x', but hit end of line")),
    ("a = \"\\xff\"", Error("/conf/main.conf:1:6: string is not valid UTF-8 after \\x escapes")),
    ("port: 4222 x\n", Error("/conf/main.conf:1:12: Expected a top-level value to end with a new line, comment or EOF, but got 'x' instead.")),
    ("a {\n b = 1\n", Error("/conf/main.conf:3:1: Unexpected EOF processing map.")),
    ("aaaa", Error("/conf/main.conf:1:1: config is invalid")),
    ("a,a,a", Error("/conf/main.conf:1:1: config is invalid")),
    ("= 1", Error("/conf/main.conf:1:1: Unexpected key separator '='")),
    ("m { = 1 }", Error("/conf/main.conf:1:5: Unexpected key separator '='.")),
    ("m { ] }", Error("/conf/main.conf:1:5: Unexpected array end ']' processing map.")),
    ("a = [1,,2]", Error("/conf/main.conf:1:8: Unexpected array value terminator ','.")),
    ("m { a = 1 b = 2 }", Error("/conf/main.conf:1:11: Expected a map value terminator \",\" or a map terminator \"}\", but got 'b' instead.")),
    ("m { a = , }", Error("/conf/main.conf:1:9: Unexpected map value terminator \",\".")),
    ("m { 'a", Error("/conf/main.conf:1:7: Unexpected EOF processing quoted map key.")),
    ("a = 'unterminated", Error("/conf/main.conf:1:18: Unexpected EOF.")),
    ("/a = 1", Error("/conf/main.conf:1:2: Unexpected EOF.")),
    ("{ a = 1 } x", Error("/conf/main.conf:1:11: config is invalid")),
];

fn check(input: &str, expected: &Expect<'_>) {
    let host = MemoryHost::new(ENV, FILES);
    let result = parse_str_with(input, Path::new(ORIGIN), &host);
    match (expected, result) {
        (Tree(tree), Ok(value)) => assert_eq!(render(&value), *tree, "input {input:?}"),
        (Error(message), Err(e)) => assert_eq!(e.to_string(), *message, "input {input:?}"),
        (ErrorContaining(part), Err(e)) => {
            let shown = e.to_string();
            assert!(shown.contains(part), "input {input:?}: {shown}");
        }
        (Tree(_), Err(e)) => panic!("input {input:?}: unexpected error {e}"),
        (_, Ok(value)) => panic!("input {input:?}: expected an error, got {}", render(&value)),
    }
}

#[test]
fn format_cases() {
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|(input, expected)| {
            std::panic::catch_unwind(|| check(input, expected))
                .err()
                .map(|_| format!("{input:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "failing cases: {failures:#?}");
}

/// Bounds nats-server lacks (see README): generated inputs and the error each must give.
#[test]
fn bounds() {
    let nested = |depth: usize| format!("a = {}{}", "[".repeat(depth), "]".repeat(depth));
    let deepest = format!("{{a: {}{}}}", "[".repeat(128), "]".repeat(128));
    let cases: Vec<(String, Expect<'_>)> = vec![
        (nested(128), Tree(&deepest)),
        (nested(129), Error("/conf/main.conf:1:133: maps and arrays nested deeper than 128 levels")),
        (
            format!("{}\nb = [$a]", nested(128)),
            Error("/conf/main.conf:2:6: maps and arrays nested deeper than 128 levels"),
        ),
        ("include leaf.conf\n".repeat(1024), Tree("{leaf: 1}")),
        (
            "include leaf.conf\n".repeat(1025),
            Error("/conf/main.conf:1025:9: error parsing include file 'leaf.conf', /conf/leaf.conf: more than 1024 includes"),
        ),
    ];
    for (input, expected) in &cases {
        check(input, expected);
    }
}
