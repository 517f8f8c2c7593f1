//! A client certificate's identity for `verify_and_map`: its subject DN and its SAN emails,
//! DNS names and URIs, read from the DER with a small walker (only the fields nats-server's
//! `checkClientTLSCertSubject` looks at), and DN comparison as its `ldap.DN` does it.

use std::fmt::Write;

/// One attribute of a distinguished name: its short type name (`CN`, `O`, ...) or dotted
/// OID, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// `CN`, `O`, `OU`, `C`, `L`, `ST`, `STREET`, `POSTALCODE`, `SERIALNUMBER`, `DC`, `UID`,
    /// or a dotted OID.
    pub kind: String,
    /// The value as text.
    pub value: String,
}

/// A distinguished name as relative names in the order Go prints them (most specific first,
/// the reverse of the certificate's encoding); each relative name may hold several values.
pub type DistinguishedName = Vec<Vec<Attribute>>;

/// What `verify_and_map` can match a user by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertIdentity {
    /// SAN email addresses.
    pub emails: Vec<String>,
    /// SAN DNS names.
    pub dns_names: Vec<String>,
    /// SAN URIs.
    pub uris: Vec<String>,
    /// The subject.
    pub subject: DistinguishedName,
}

impl CertIdentity {
    /// Reads the identity of a DER certificate; `None` if it does not parse.
    pub fn from_der(der: &[u8]) -> Option<CertIdentity> {
        let (certificate, _) = element(der, SEQUENCE)?;
        let (tbs, _) = element(certificate, SEQUENCE)?;
        let mut rest = tbs;
        if rest.first() == Some(&0xa0) {
            rest = skip(rest)?; // version
        }
        for _ in 0..4 {
            rest = skip(rest)?; // serial, signature algorithm, issuer, validity
        }
        let (subject, after_subject) = element(rest, SEQUENCE)?;
        let mut identity = CertIdentity {
            subject: parse_name(subject)?,
            ..CertIdentity::default()
        };
        let mut rest = skip(after_subject)?; // subject public key info
        while let Some(&tag) = rest.first() {
            if tag == 0xa3 {
                let (extensions, _) = element(rest, 0xa3)?;
                let (mut list, _) = element(extensions, SEQUENCE)?;
                while !list.is_empty() {
                    let (extension, next) = element(list, SEQUENCE)?;
                    identity.read_extension(extension);
                    list = next;
                }
                break;
            }
            rest = skip(rest)?;
        }
        Some(identity)
    }

    fn read_extension(&mut self, extension: &[u8]) -> Option<()> {
        let (oid, mut rest) = element(extension, OID)?;
        if oid != SUBJECT_ALT_NAME {
            return Some(());
        }
        if rest.first() == Some(&BOOLEAN) {
            rest = skip(rest)?;
        }
        let (value, _) = element(rest, OCTET_STRING)?;
        let (mut names, _) = element(value, SEQUENCE)?;
        while let Some(&tag) = names.first() {
            let (name, next) = element(names, tag)?;
            let text = String::from_utf8_lossy(name).to_string();
            match tag {
                0x81 => self.emails.push(text),
                0x82 => self.dns_names.push(text),
                0x86 => self.uris.push(text),
                _ => {}
            }
            names = next;
        }
        Some(())
    }

    /// The subject as Go's `pkix.Name.ToRDNSequence().String()` prints it: `CN=a,O=b,C=c`.
    pub fn subject_text(&self) -> String {
        let mut text = String::new();
        for (i, rdn) in self.subject.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            for (j, attribute) in rdn.iter().enumerate() {
                if j > 0 {
                    text.push('+');
                }
                let _ = write!(text, "{}={}", attribute.kind, escape(&attribute.value));
            }
        }
        text
    }
}

/// nats-server's `ldap.DN.Equal`: same relative names in the same order; attribute types
/// compared without case, values exactly.
pub fn dn_equal(a: &DistinguishedName, b: &DistinguishedName) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| rdn_equal(x, y))
}

/// nats-server's `ldap.DN.RDNsMatch`: the same relative names in any order.
pub fn dn_rdns_match(a: &DistinguishedName, b: &DistinguishedName) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| rdn_equal(x, y)))
}

fn rdn_equal(a: &[Attribute], b: &[Attribute]) -> bool {
    a.len() == b.len()
        && a.iter().all(|x| {
            b.iter()
                .any(|y| x.kind.eq_ignore_ascii_case(&y.kind) && x.value == y.value)
        })
}

/// Parses a DN written as text (`CN=alice, O=Acme`, RFC 4514 escapes); `None` if it is not
/// one (most user names are not).
pub fn parse_dn(text: &str) -> Option<DistinguishedName> {
    let mut dn = Vec::new();
    for rdn in split_unescaped(text, ',') {
        let mut attributes = Vec::new();
        for pair in split_unescaped(&rdn, '+') {
            let (kind, value) = pair.split_once('=')?;
            let kind = kind.trim();
            if kind.is_empty()
                || !kind
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            {
                return None;
            }
            attributes.push(Attribute {
                kind: kind.to_ascii_uppercase(),
                value: unescape(value.trim()),
            });
        }
        dn.push(attributes);
    }
    (!dn.is_empty()).then_some(dn)
}

fn split_unescaped(text: &str, separator: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            parts.push(String::new());
            continue;
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Go's `attributeTypeAndValue` escaping in `RDNSequence.String`.
fn escape(value: &str) -> String {
    let mut out = String::new();
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == ' ' || c == '#'))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

const BOOLEAN: u8 = 0x01;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
/// 2.5.29.17.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

/// The contents of the element at the start of `input` if its tag is `tag`, and the rest.
fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if *input.first()? != tag {
        return None;
    }
    let first = *input.get(1)?;
    let (length, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let bytes = input.get(2..2 + count)?;
        let length = bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b));
        (length, 2 + count)
    };
    let end = header.checked_add(length)?;
    Some((input.get(header..end)?, input.get(end..)?))
}

/// The rest after the element at the start of `input`, whatever its tag.
fn skip(input: &[u8]) -> Option<&[u8]> {
    element(input, *input.first()?).map(|(_, rest)| rest)
}

/// A Name (SEQUENCE OF SET OF AttributeTypeAndValue) in Go's printing order.
fn parse_name(mut name: &[u8]) -> Option<DistinguishedName> {
    let mut rdns = Vec::new();
    while !name.is_empty() {
        let (mut set, rest) = element(name, SET)?;
        let mut rdn = Vec::new();
        while !set.is_empty() {
            let (pair, next) = element(set, SEQUENCE)?;
            let (oid, value) = element(pair, OID)?;
            let value_tag = *value.first()?;
            let (raw, _) = element(value, value_tag)?;
            let text = match value_tag {
                0x1e => String::from_utf16_lossy(
                    &raw.chunks(2)
                        .map(|p| u16::from_be_bytes([p[0], *p.get(1).unwrap_or(&0)]))
                        .collect::<Vec<_>>(),
                ),
                _ => String::from_utf8_lossy(raw).to_string(),
            };
            rdn.push(Attribute {
                kind: attribute_name(oid),
                value: text,
            });
            set = next;
        }
        rdns.push(rdn);
        name = rest;
    }
    rdns.reverse();
    Some(rdns)
}

fn attribute_name(oid: &[u8]) -> String {
    let name = match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x05] => "SERIALNUMBER",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x09] => "STREET",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x55, 0x04, 0x11] => "POSTALCODE",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID",
        _ => return dotted(oid),
    };
    name.to_string()
}

fn dotted(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value = 0u64;
    for &byte in oid {
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            arcs.push(value);
            value = 0;
        }
    }
    let Some(&first) = arcs.first() else {
        return String::new();
    };
    let (a, b) = if first < 80 {
        (first / 40, first % 40)
    } else {
        (2, first - 80)
    };
    let mut text = format!("{a}.{b}");
    for arc in &arcs[1..] {
        let _ = write!(text, ".{arc}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(kind: &str, value: &str) -> Attribute {
        Attribute {
            kind: kind.into(),
            value: value.into(),
        }
    }

    #[test]
    fn dns_parse_print_and_compare_as_go_ldap() {
        let dn = parse_dn("CN=alice, O=Acme\\, Inc,C=US").expect("a DN");
        assert_eq!(
            dn,
            vec![
                vec![attr("CN", "alice")],
                vec![attr("O", "Acme, Inc")],
                vec![attr("C", "US")]
            ]
        );
        let identity = CertIdentity {
            subject: dn.clone(),
            ..CertIdentity::default()
        };
        assert_eq!(identity.subject_text(), "CN=alice,O=Acme\\, Inc,C=US");
        let reordered = parse_dn("c=US,CN=alice,O=Acme\\, Inc").expect("a DN");
        assert!(!dn_equal(&dn, &reordered));
        assert!(dn_rdns_match(&dn, &reordered));
        assert!(parse_dn("alice").is_none());
        assert!(parse_dn("alice@example.com").is_none());
        assert_eq!(
            dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]),
            "1.2.840.113549"
        );
    }

    #[test]
    fn truncated_der_is_refused_not_panicked_on() {
        for der in [
            &[][..],
            &[0x30],
            &[0x30, 0x82, 0xff, 0xff, 0x30],
            &[0x30, 0x03, 0x30, 0x01],
        ] {
            assert_eq!(CertIdentity::from_der(der), None);
        }
    }
}
