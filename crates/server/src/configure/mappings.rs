//! A `mappings {}` (or `maps {}`) block, read as nats-server's `parseAccountMappings` and
//! `parseAccountMapDest` read it, with their error texts. The top-level block maps the
//! global account; an account's own block is read by the same [`parse`].

use natrium_config::{Kind, Value};
use natrium_subject::mapping::{MapDestination, Mapping, Mappings};

/// Reads one mappings block: each key a source subject, each value a destination subject,
/// one `{destination, weight, cluster}` map, or a list of them. Every mistake is reported,
/// one line each with its position, as nats-server lists them.
pub fn parse(block: &Value) -> Result<Mappings, Vec<String>> {
    let map = block.as_map().map_err(|e| vec![e.to_string()])?;
    let mut mappings = Mappings::new();
    let mut errors = Vec::new();
    for entry in map.iter() {
        let source = entry.key.as_str();
        let value = &entry.value;
        if !natrium_subject::is_valid_subject(source.as_bytes()) {
            errors.push(format!(
                "{}: Subject {source:?} is not a valid subject",
                entry.key_position
            ));
            continue;
        }
        let added = match &value.kind {
            Kind::String(destination) => {
                Mapping::new(source, &[MapDestination::always(destination)]).map_err(|e| {
                    format!(
                        "{}: Error adding mapping for {source:?} to {destination:?} : {e}",
                        value.position
                    )
                })
            }
            Kind::Array(items) => {
                let destinations: Vec<MapDestination> = items
                    .iter()
                    .filter_map(|item| destination(item).map_err(|e| errors.push(e)).ok())
                    .collect();
                weighted(source, &destinations, value)
            }
            _ => match destination(value) {
                Ok(one) => weighted(source, &[one], value),
                Err(error) => Err(error),
            },
        };
        match added {
            Ok(mapping) => mappings.add(mapping),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(mappings)
    } else {
        Err(errors)
    }
}

fn weighted(
    source: &str,
    destinations: &[MapDestination],
    value: &Value,
) -> Result<Mapping, String> {
    Mapping::new(source, destinations).map_err(|e| {
        format!(
            "{}: Error adding mapping for {source:?} : {e}",
            value.position
        )
    })
}

/// One `{destination, weight, cluster}` map.
fn destination(value: &Value) -> Result<MapDestination, String> {
    let Kind::Map(map) = &value.kind else {
        return Err(format!(
            "{}: Expected an entry for the mapping destination",
            value.position
        ));
    };
    let mut destination = MapDestination {
        subject: String::new(),
        weight: 0,
        cluster: String::new(),
    };
    let mut weight_set = false;
    for entry in map.iter() {
        let field = &entry.value;
        let at = &field.position;
        let text = |field: &Value| {
            field
                .as_str()
                .map(str::to_string)
                .map_err(|e| e.to_string())
        };
        match entry.key.to_lowercase().as_str() {
            "dest" | "destination" => destination.subject = text(field)?,
            "cluster" => destination.cluster = text(field)?,
            "weight" => {
                destination.weight = weight(field)?;
                weight_set = true;
            }
            _ => {
                return Err(format!(
                    "{at}: Unknown field {:?} for mapping destination",
                    entry.key
                ))
            }
        }
    }
    if !weight_set {
        return Err(format!(
            "{}: Missing weight for mapping destination {:?}",
            value.position, destination.subject
        ));
    }
    Ok(destination)
}

/// A weight: `80`, or a string such as `"80%"` (the `%` is optional).
fn weight(field: &Value) -> Result<u8, String> {
    let at = &field.position;
    let number = match &field.kind {
        Kind::Integer(number) => *number,
        Kind::String(text) => {
            let digits = text.strip_suffix('%').unwrap_or(text);
            // Rust's integer parse takes what Go's `strconv.Atoi` takes: a sign and digits.
            digits
                .parse::<i64>()
                .ok()
                .ok_or_else(|| format!("{at}: Invalid weight {digits:?} for mapping destination"))?
        }
        _ => {
            return Err(format!(
                "{at}: Unknown entry type for weight of {}",
                field.type_name()
            ))
        }
    };
    u8::try_from(number)
        .ok()
        .filter(|&weight| weight <= natrium_subject::mapping::WEIGHT_MAX)
        .ok_or_else(|| format!("{at}: Invalid weight {number} for mapping destination"))
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn errors(block: &str) -> Vec<String> {
        let root = natrium_config::parse_str(
            &format!("mappings: {{\n{block}\n}}\n"),
            std::path::Path::new("test.conf"),
        )
        .unwrap();
        let value = root.as_map().unwrap().get("mappings").unwrap().clone();
        let errors = parse(&value).unwrap_err();
        // Positions vary with the text around; the reasons are what nats-server prints.
        errors
            .into_iter()
            .map(|line| line.split_once(": ").unwrap().1.to_string())
            .collect()
    }

    #[test]
    fn mistakes_get_nats_server_texts() {
        let cases = [
            (
                r#"foo: [{destination: a, weight: 80%}, {destination: b, weight: 30%}]"#,
                r#"Error adding mapping for "foo" : total weight needs to be <= 100"#,
            ),
            (
                r#"foo: [{destination: a, weight: 120}]"#,
                "Invalid weight 120 for mapping destination",
            ),
            (
                r#"foo: [{destination: a, weight: "abc%"}]"#,
                r#"Invalid weight "abc" for mapping destination"#,
            ),
            (
                r#"foo: [{destination: a}]"#,
                r#"Missing weight for mapping destination "a""#,
            ),
            (
                r#"foo: {destination: a, weight: 50, bogus: 1}"#,
                r#"Unknown field "bogus" for mapping destination"#,
            ),
            ("foo: 5", "Expected an entry for the mapping destination"),
            (
                r#""foo bar": x"#,
                r#"Subject "foo bar" is not a valid subject"#,
            ),
            (
                r#""foo.*": "bar.$2""#,
                r#"Error adding mapping for "foo.*" to "bar.$2" : invalid mapping destination: wildcard index out of range in $2: [2]"#,
            ),
            (
                r#""foo.*": "bar.{{nope(1)}}""#,
                r#"Error adding mapping for "foo.*" to "bar.{{nope(1)}}" : invalid mapping destination: unknown function in {{nope(1)}}"#,
            ),
            (
                r#""foo.>": "bar""#,
                r#"Error adding mapping for "foo.>" to "bar" : invalid subject"#,
            ),
            (
                r#"foo: [{destination: a, weight: 50}, {destination: a, weight: 10}]"#,
                r#"Error adding mapping for "foo" : duplicate entry for "a""#,
            ),
        ];
        for (block, expected) in cases {
            assert_eq!(errors(block), vec![expected.to_string()], "{block}");
        }
    }

    #[test]
    fn every_form_of_destination_reads() {
        let root = natrium_config::parse_str(
            r#"mappings: {
                foo: bar
                "orders.*.*": "new.$2.$1"
                one: {dest: x, weight: 40}
                many: [{destination: a, weight: 80%}, {destination: b, weight: "20", cluster: c1}]
            }"#,
            std::path::Path::new("test.conf"),
        )
        .unwrap();
        let mappings = parse(root.as_map().unwrap().get("mappings").unwrap()).unwrap();
        let sources: Vec<&str> = mappings.iter().map(|m| m.source()).collect();
        assert_eq!(sources, ["foo", "orders.*.*", "one", "many"]);
    }
}
