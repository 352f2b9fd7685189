//! `${NAME}` and `${NAME:-default}` in configuration strings, read from the
//! process environment. `$${` stands for a literal `${`.

/// A reference to an environment variable that is not set and has no default.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {problem}")]
pub struct InterpolationError {
    /// Dotted path of the setting, e.g. `channels.ses.environments.prod.region`.
    pub location: String,
    pub problem: String,
}

/// Interpolates every string in a TOML tree, collecting every problem.
pub fn interpolate_tree(
    value: &mut toml::Value,
    location: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<InterpolationError>,
) {
    match value {
        toml::Value::String(s) => match interpolate(s, lookup) {
            Ok(new) => *s = new,
            Err(problem) => errors.push(InterpolationError {
                location: location.to_owned(),
                problem,
            }),
        },
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate_tree(item, &format!("{location}[{i}]"), lookup, errors);
            }
        }
        toml::Value::Table(table) => {
            for (key, item) in table.iter_mut() {
                let path = if location.is_empty() {
                    key.clone()
                } else {
                    format!("{location}.{key}")
                };
                interpolate_tree(item, &path, lookup, errors);
            }
        }
        _ => {}
    }
}

/// Interpolates one string.
pub fn interpolate(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let end = tail
                .find('}')
                .ok_or_else(|| format!("unterminated `${{` in {input:?}"))?;
            out.push_str(&resolve(&tail[..end], lookup)?);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn resolve(expr: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let (name, default) = match expr.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (expr, None),
    };
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(format!("`${{{expr}}}` is not a valid variable reference"));
    }
    match (lookup(name).filter(|v| !v.is_empty()), default) {
        (Some(value), _) => Ok(value),
        (None, Some(default)) => Ok(default.to_owned()),
        (None, None) => Err(format!("environment variable {name} is not set")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "KEY" => Some("k1".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn variables_defaults_and_escapes_are_expanded() {
        assert_eq!(interpolate("a ${KEY} b", &env).unwrap(), "a k1 b");
        assert_eq!(interpolate("${MISSING:-x:y}", &env).unwrap(), "x:y");
        assert_eq!(interpolate("${EMPTY:-d}", &env).unwrap(), "d");
        assert_eq!(interpolate("$${KEY} $5", &env).unwrap(), "${KEY} $5");
        assert_eq!(interpolate("{{ vars.x }}", &env).unwrap(), "{{ vars.x }}");
    }

    #[test]
    fn a_missing_variable_is_an_error_naming_it_and_its_location() {
        assert!(interpolate("${MISSING}", &env)
            .unwrap_err()
            .contains("MISSING"));
        assert!(interpolate("${KEY", &env).is_err());
        assert!(interpolate("${1X}", &env).is_err());
        let mut tree: toml::Value = toml::from_str("[a]\nb = [\"${NOPE}\"]").unwrap();
        let mut errors = Vec::new();
        interpolate_tree(&mut tree, "", &env, &mut errors);
        assert_eq!(errors[0].location, "a.b[0]");
    }
}
