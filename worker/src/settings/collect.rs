//! Deserializing the settings while collecting every problem, not only the
//! first: each error is recorded with its location, the offending key is
//! taken out of the tree, and deserialization runs again. An operator fixing
//! a file sees all its typos and type errors in one `herald check`.

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

/// More problems than this in one file are not worth listing one by one.
const MAX_PROBLEMS: usize = 100;

/// Deserializes `T` from `tree` as `build` turns it into a configuration
/// (file plus environment overrides). Returns the value once every bad key
/// was taken out, with one problem per bad key; `None` when nothing more can
/// be taken out (an error at the root, or one from the environment).
pub fn deserialize_collecting<T: DeserializeOwned>(
    mut tree: toml::Value,
    build: impl Fn(&toml::Value) -> Result<config::Config, config::ConfigError>,
    problems: &mut Vec<String>,
) -> Option<T> {
    for _ in 0..MAX_PROBLEMS {
        let config = match build(&tree) {
            Ok(config) => config,
            Err(e) => {
                problems.push(message(&e));
                return None;
            }
        };
        let error = match serde_path_to_error::deserialize::<_, T>(config) {
            Ok(value) => return Some(value),
            Err(error) => error,
        };
        let path: Vec<String> = error.path().iter().filter_map(key).collect();
        let text = message(error.inner());
        let problem = match path.is_empty() {
            true => text,
            false => format!("{}: {text}", path.join(".")),
        };
        if problems.contains(&problem) {
            return None;
        }
        problems.push(problem);
        if !remove(&mut tree, &path) {
            return None;
        }
    }
    problems.push(format!(
        "more than {MAX_PROBLEMS} problems; fix these first"
    ));
    None
}

/// A path segment as the TOML key (or array index) it stands for.
fn key(segment: &Segment) -> Option<String> {
    match segment {
        Segment::Map { key } => Some(key.clone()),
        Segment::Seq { index } => Some(index.to_string()),
        Segment::Enum { .. } | Segment::Unknown => None,
    }
}

/// The error without the key and origin the config crate appends: the path
/// already gives the location.
fn message(error: &config::ConfigError) -> String {
    use config::ConfigError as E;
    match error {
        E::Type {
            unexpected,
            expected,
            origin,
            ..
        } => {
            let from_env = origin.as_deref() == Some("the environment");
            let suffix = if from_env {
                " (from the environment)"
            } else {
                ""
            };
            format!("invalid type: {unexpected}, expected {expected}{suffix}")
        }
        E::At { error, .. } => message(error),
        E::NotFound(field) => {
            let field = field.rsplit('.').next().unwrap_or(field);
            format!("missing field `{field}`")
        }
        other => other.to_string(),
    }
}

/// Takes the deepest existing node along `path` out of `tree`; `false` when
/// the path names nothing in the tree (the root, or a key that came from the
/// environment), so that no progress is possible.
fn remove(tree: &mut toml::Value, path: &[String]) -> bool {
    let depth = existing_depth(tree, path);
    let Some((last, parents)) = path[..depth].split_last() else {
        return false;
    };
    let mut node = tree;
    for step in parents {
        node = child_mut(node, step).expect("the path exists to this depth");
    }
    match node {
        toml::Value::Table(table) => table.remove(last).is_some(),
        toml::Value::Array(items) => {
            items.remove(last.parse::<usize>().expect("an existing index"));
            true
        }
        _ => false,
    }
}

/// How many leading segments of `path` exist in `tree`.
fn existing_depth(tree: &toml::Value, path: &[String]) -> usize {
    let mut node = tree;
    for (depth, step) in path.iter().enumerate() {
        let next = match node {
            toml::Value::Table(table) => table.get(step),
            toml::Value::Array(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => return depth,
        }
    }
    path.len()
}

fn child_mut<'a>(node: &'a mut toml::Value, step: &str) -> Option<&'a mut toml::Value> {
    match node {
        toml::Value::Table(table) => table.get_mut(step),
        toml::Value::Array(items) => items.get_mut(step.parse::<usize>().ok()?),
        _ => None,
    }
}
