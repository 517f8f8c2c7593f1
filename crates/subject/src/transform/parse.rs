//! Reading one destination token: a literal, a `$N` reference, or a `{{function(args)}}`,
//! with nats-server's argument rules (`indexPlaceHolders` in `subject_transform.go`).

use super::{DestinationError, TransformError};

/// A destination token as written, before wildcard positions become source token indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Placeholder<'a> {
    /// Copied as written (`$` followed by a non-number is a literal too, as nats-server says
    /// other features rely on such tokens).
    Literal,
    /// `$N` or `{{wildcard(N)}}`.
    Wildcard(i64),
    /// `{{partition(buckets, N...)}}`; no positions means the whole subject is hashed.
    Partition { buckets: i64, wildcards: Vec<i64> },
    /// One of the functions taking a wildcard position and a number.
    Sized {
        function: SizedFunction,
        wildcard: i64,
        number: i32,
    },
    /// `{{split(N, delimiter)}}`.
    Split { wildcard: i64, delimiter: &'a str },
    /// `{{random(buckets)}}`.
    Random { buckets: i64 },
}

/// The functions of the form `name(wildcard, number)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SizedFunction {
    SplitFromLeft,
    SplitFromRight,
    SliceFromLeft,
    SliceFromRight,
    Left,
    Right,
}

/// Every function name nats-server knows, with the letters its patterns accept in either
/// case written in upper case (the first letter is always either case).
const FUNCTION_NAMES: &[&str] = &[
    "wildcard",
    "partition",
    "splitFromLeft",
    "splitFromRight",
    "sliceFromLeft",
    "sliceFromRight",
    "split",
    "left",
    "right",
    "random",
];

/// Functions `ValidateMapping` does not list: nats-server refuses them in subject mappings
/// (as unknown) while stream transforms accept them.
const NOT_FOR_MAPPINGS: &[&str] = &["left", "right"];

/// The function a `{{...}}` token calls and its raw argument text, or `None` when the
/// token is not a `{{...}}` call at all.
pub(super) fn function_call(token: &str) -> Option<Result<(&'static str, &str), ()>> {
    let inner = token.strip_prefix("{{")?.strip_suffix("}}")?;
    if token.len() <= 4 {
        return None;
    }
    let call = inner.trim_matches(is_go_space);
    let Some(open) = call.find('(') else {
        return Some(Err(()));
    };
    let Some(arguments) = call[open + 1..].strip_suffix(')') else {
        return Some(Err(()));
    };
    let name = call[..open].trim_end_matches(is_go_space);
    match FUNCTION_NAMES
        .iter()
        .find(|known| name_matches(known, name))
    {
        Some(known) => Some(Ok((known, arguments))),
        None => Some(Err(())),
    }
}

/// True if a `{{...}}` token names a function subject mappings accept (`ValidateMapping`).
pub(super) fn is_mapping_function(token: &str) -> bool {
    matches!(function_call(token), Some(Ok((name, _))) if !NOT_FOR_MAPPINGS.contains(&name))
}

/// Reads one destination token.
pub(super) fn placeholder(token: &str) -> Result<Placeholder<'_>, TransformError> {
    if token.len() > 1 {
        if let Some(number) = token.strip_prefix('$') {
            return Ok(match go_atoi(number) {
                Some(position) => Placeholder::Wildcard(position),
                None => Placeholder::Literal,
            });
        }
    }
    let Some(call) = function_call(token) else {
        return Ok(Placeholder::Literal);
    };
    let fail = |kind| TransformError::destination(kind, token);
    let (name, arguments) = call.map_err(|()| fail(DestinationError::UnknownFunction))?;
    let args = split_arguments(arguments);
    let number = |text: &str| go_atoi(text.trim_matches(' '));
    let invalid = || fail(DestinationError::InvalidArgument);
    let sized = |function| {
        let [wildcard, size] = two_arguments(&args).map_err(fail)?;
        let wildcard = number(wildcard).ok_or_else(invalid)?;
        let size = number(size)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(invalid)?;
        Ok(Placeholder::Sized {
            function,
            wildcard,
            number: size,
        })
    };
    match name {
        "wildcard" => match args.as_slice() {
            [""] => Err(fail(DestinationError::NotEnoughArguments)),
            [position] => Ok(Placeholder::Wildcard(number(position).ok_or_else(invalid)?)),
            _ => Err(fail(DestinationError::TooManyArguments)),
        },
        "partition" => {
            let buckets = bucket_count(args[0]).ok_or_else(invalid)?;
            let wildcards = args[1..]
                .iter()
                .map(|arg| number(arg))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(invalid)?;
            Ok(Placeholder::Partition { buckets, wildcards })
        }
        "splitFromLeft" => sized(SizedFunction::SplitFromLeft),
        "splitFromRight" => sized(SizedFunction::SplitFromRight),
        "sliceFromLeft" => sized(SizedFunction::SliceFromLeft),
        "sliceFromRight" => sized(SizedFunction::SliceFromRight),
        "left" => sized(SizedFunction::Left),
        "right" => sized(SizedFunction::Right),
        "split" => {
            let [wildcard, delimiter] = two_arguments(&args).map_err(fail)?;
            let wildcard = number(wildcard).ok_or_else(invalid)?;
            if delimiter.contains(' ') || delimiter.contains('.') {
                return Err(invalid());
            }
            Ok(Placeholder::Split {
                wildcard,
                delimiter,
            })
        }
        "random" => match args.as_slice() {
            [buckets] => Ok(Placeholder::Random {
                buckets: bucket_count(buckets).ok_or_else(invalid)?,
            }),
            _ => Err(fail(DestinationError::NotEnoughArguments)),
        },
        _ => Err(fail(DestinationError::UnknownFunction)),
    }
}

/// Exactly two arguments, or which way the count is wrong.
fn two_arguments<'a>(args: &[&'a str]) -> Result<[&'a str; 2], DestinationError> {
    match args {
        [first, second] => Ok([first, second]),
        [] | [_] => Err(DestinationError::NotEnoughArguments),
        _ => Err(DestinationError::TooManyArguments),
    }
}

/// A partition or random bucket count: any integer up to `i32::MAX` (nats-server keeps the
/// low 32 bits of a larger negative one).
fn bucket_count(text: &str) -> Option<i64> {
    go_atoi(text.trim_matches(' ')).filter(|&n| n <= i64::from(i32::MAX))
}

/// Arguments split at commas, each comma eating the blanks after it (`,\s*`).
fn split_arguments(arguments: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = arguments.split(',').collect();
    for part in parts.iter_mut().skip(1) {
        *part = part.trim_start_matches(is_go_space);
    }
    parts
}

/// Go's `strconv.Atoi`, which takes what Rust's integer parse takes: a sign and digits.
fn go_atoi(text: &str) -> Option<i64> {
    text.parse().ok()
}

/// `\s` in Go's regular expressions.
fn is_go_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c')
}

/// True if `name` spells `known` with the case freedom of nats-server's patterns: the first
/// letter and every capital of `known` in either case, the rest exactly.
fn name_matches(known: &str, name: &str) -> bool {
    known.len() == name.len()
        && known
            .bytes()
            .zip(name.bytes())
            .enumerate()
            .all(|(i, (k, n))| {
                if i == 0 || k.is_ascii_uppercase() {
                    k.eq_ignore_ascii_case(&n)
                } else {
                    k == n
                }
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_take_case_where_nats_server_does() {
        assert!(name_matches("splitFromLeft", "SplitFromLeft"));
        assert!(name_matches("splitFromLeft", "splitfromleft"));
        assert!(!name_matches("splitFromLeft", "SPLITFROMLEFT"));
        assert!(name_matches("wildcard", "Wildcard"));
        assert!(!name_matches("wildcard", "WildCard"));
    }

    #[test]
    fn atoi_is_gos() {
        assert_eq!(go_atoi("12"), Some(12));
        assert_eq!(go_atoi("+3"), Some(3));
        assert_eq!(go_atoi("-3"), Some(-3));
        assert_eq!(go_atoi(""), None);
        assert_eq!(go_atoi(" 3"), None);
        assert_eq!(go_atoi("3a"), None);
    }

    #[test]
    fn arguments_split_at_commas_eating_following_blanks() {
        assert_eq!(split_arguments("10, 1,\t2"), vec!["10", "1", "2"]);
        assert_eq!(split_arguments(" 1 ,-"), vec![" 1 ", "-"]);
        assert_eq!(split_arguments(""), vec![""]);
    }
}
