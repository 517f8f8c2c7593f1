//! Query strings as Go's `net/url` reads them (first value wins, `+` is a space, `%XX`
//! escapes), with the typed getters and the 400 texts of nats-server's monitor handlers.

/// A bad query parameter; the text is the body of the 400 answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

/// The decoded `name=value` pairs of a request's query string.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes `raw` (the part after `?`, if any).
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (unescape(name), unescape(value))
            })
            .collect();
        Query { pairs }
    }

    /// A query of already decoded pairs (the system account's requests carry their options
    /// as JSON, read into the same names).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Query {
        Query { pairs }
    }

    /// The first value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A Go `strconv.ParseBool` value; absent or empty is false.
    pub fn bool(&self, name: &str) -> Result<bool, QueryError> {
        match self.get(name).unwrap_or_default() {
            "" => Ok(false),
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
            other => Err(QueryError(format!(
                "Error decoding boolean for '{name}': strconv.ParseBool: parsing {other:?}: invalid syntax"
            ))),
        }
    }

    /// A Go `strconv.Atoi` value; absent or empty is 0.
    pub fn int(&self, name: &str) -> Result<i64, QueryError> {
        match self.get(name).unwrap_or_default() {
            "" => Ok(0),
            text => text.parse().map_err(|_| {
                QueryError(format!(
                    "Error decoding int for '{name}': strconv.Atoi: parsing {text:?}: invalid syntax"
                ))
            }),
        }
    }

    /// A Go `strconv.ParseUint` value; absent or empty is 0.
    pub fn uint(&self, name: &str) -> Result<u64, QueryError> {
        match self.get(name).unwrap_or_default() {
            "" => Ok(0),
            text => text.parse().map_err(|_| {
                QueryError(format!(
                    "Error decoding uint64 for '{name}': strconv.ParseUint: parsing {text:?}: invalid syntax"
                ))
            }),
        }
    }
}

/// `+` to space and `%XX` to its byte; malformed escapes are kept as written.
fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, name: &str, want: Option<&str>) {
        assert_eq!(Query::parse(Some(raw)).get(name), want, "{raw}");
    }

    #[test]
    fn decodes_like_go() {
        check("acc=%24G", "acc", Some("$G"));
        check("a=1&a=2", "a", Some("1"));
        check("test=foo+bar", "test", Some("foo bar"));
        check("subs", "subs", Some(""));
        check("x=%zz%4", "x", Some("%zz%4"));
        check("", "x", None);
        let query = Query::parse(Some("limit=x&auth=yes&cid=-1"));
        assert_eq!(
            query.int("limit").unwrap_err().0,
            "Error decoding int for 'limit': strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            query.bool("auth").unwrap_err().0,
            "Error decoding boolean for 'auth': strconv.ParseBool: parsing \"yes\": invalid syntax"
        );
        assert!(query.uint("cid").is_err());
        assert_eq!(query.int("offset"), Ok(0));
    }
}
