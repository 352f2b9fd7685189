//! A reading of Liquid source that needs no parse: the `{{ … }}` and
//! `{% … %}` markup, the variable paths and the filters in it, each with its
//! byte offset, so that `herald check` can point at a line and column even in
//! a branch no sample takes, and in a template the parser rejected.

/// One `{{ … }}` output or `{% … %}` tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Markup<'a> {
    /// The text between the delimiters (whitespace-control dashes removed).
    pub text: &'a str,
    /// Byte offset of `text` in the source.
    pub offset: usize,
    /// The tag's name for `{% … %}`, `None` for an output.
    pub tag: Option<&'a str>,
}

/// A name used after `|` in some markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterUse<'a> {
    pub name: &'a str,
    pub offset: usize,
}

/// A variable path: `vars.domain`, `data["a b"][0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathUse {
    pub segments: Vec<Segment>,
    pub offset: usize,
    /// Absence is handled here: an `if`/`unless`/`case` test or a `default`
    /// filter right after the path.
    pub guarded: bool,
}

/// One step of a variable path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(i64),
    /// An index computed at render time (`vars[name]`): nothing to check.
    Dynamic,
}

impl PathUse {
    /// The path as written in Liquid, for messages.
    pub fn display(&self) -> String {
        let mut out = String::new();
        for (n, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Key(k) if n == 0 => out.push_str(k),
                Segment::Key(k) if is_identifier(k) => out.push_str(&format!(".{k}")),
                Segment::Key(k) => out.push_str(&format!("[{k:?}]")),
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
                Segment::Dynamic => out.push_str("[…]"),
            }
        }
        out
    }
}

/// Every output and tag of `source`, in order; the insides of `raw` and
/// `comment` blocks are text, not markup.
pub fn markups(source: &str) -> Vec<Markup<'_>> {
    let mut found = Vec::new();
    let mut at = 0;
    let mut skip_until: Option<&str> = None;
    while let Some(start) = source[at..].find(['{']).map(|i| at + i) {
        let rest = &source[start..];
        let close = if rest.starts_with("{{") {
            "}}"
        } else if rest.starts_with("{%") {
            "%}"
        } else {
            at = start + 1;
            continue;
        };
        let Some(len) = rest[2..].find(close) else {
            break;
        };
        let inner_start = start + 2;
        let inner = &source[inner_start..inner_start + len];
        at = inner_start + len + 2;
        let lead = inner.len() - inner.trim_start_matches(['-', ' ', '\t', '\r', '\n']).len();
        let text = inner[lead..].trim_end_matches(['-', ' ', '\t', '\r', '\n']);
        let tag = (close == "%}").then(|| text.split_whitespace().next().unwrap_or(""));
        if let Some(end) = skip_until {
            if tag == Some(end) {
                skip_until = None;
            }
            continue;
        }
        match tag {
            Some("raw") => skip_until = Some("endraw"),
            Some("comment") => skip_until = Some("endcomment"),
            Some(t) if t.starts_with('#') => continue,
            _ => {}
        }
        found.push(Markup {
            text,
            offset: inner_start + lead,
            tag,
        });
    }
    found
}

/// The filters named in `markup`.
pub fn filters<'a>(markup: &Markup<'a>) -> Vec<FilterUse<'a>> {
    let text = markup.text;
    let mut found = Vec::new();
    for (pipe, _) in outside_strings(text).filter(|(_, c)| *c == '|') {
        let after = &text[pipe + 1..];
        let skipped = after.len() - after.trim_start().len();
        let name_start = pipe + 1 + skipped;
        let name = identifier_at(text, name_start);
        if !name.is_empty() {
            found.push(FilterUse {
                name,
                offset: markup.offset + name_start,
            });
        }
    }
    found
}

/// The variable paths of `markup` whose first segment is `root`.
pub fn paths_from(markup: &Markup<'_>, root: &str) -> Vec<PathUse> {
    let text = markup.text;
    let guarded_tag = matches!(
        markup.tag,
        Some("if" | "elsif" | "unless" | "case" | "when")
    );
    let mut found = Vec::new();
    for (at, c) in outside_strings(text) {
        let before = text[..at].chars().next_back();
        let starts_word = !before.is_some_and(|b| is_word(b) || b == '.');
        if c != root.chars().next().unwrap_or(' ') || !starts_word {
            continue;
        }
        if identifier_at(text, at) != root {
            continue;
        }
        let (segments, end) = path_at(text, at);
        let after = text[end..].trim_start();
        let default = after
            .strip_prefix('|')
            .is_some_and(|f| identifier_at(f.trim_start(), 0) == "default");
        found.push(PathUse {
            segments,
            offset: markup.offset + at,
            guarded: guarded_tag || default,
        });
    }
    found
}

/// Whether some output of `source` prints `name` (`{{ content }}`).
pub fn outputs_variable(source: &str, name: &str) -> bool {
    markups(source)
        .iter()
        .filter(|m| m.tag.is_none())
        .any(|m| identifier_at(m.text, 0) == name)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// Characters of `text` outside quoted strings, with their byte offsets.
fn outside_strings(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut quote: Option<char> = None;
    text.char_indices().filter(move |&(_, c)| match quote {
        Some(q) => {
            if c == q {
                quote = None;
            }
            false
        }
        None if c == '"' || c == '\'' => {
            quote = Some(c);
            false
        }
        None => true,
    })
}

fn path_at(text: &str, start: usize) -> (Vec<Segment>, usize) {
    let first = identifier_at(text, start);
    let mut segments = vec![Segment::Key(first.to_owned())];
    let mut at = start + first.len();
    loop {
        let rest = &text[at..];
        if let Some(key) = rest.strip_prefix('.') {
            let key = identifier_at(key, 0);
            if key.is_empty() {
                break;
            }
            segments.push(Segment::Key(key.to_owned()));
            at += 1 + key.len();
        } else if let Some(inner) = rest.strip_prefix('[') {
            let Some(close) = inner.find(']') else { break };
            segments.push(bracket_segment(inner[..close].trim()));
            at += close + 2;
        } else {
            break;
        }
    }
    (segments, at)
}

fn bracket_segment(inside: &str) -> Segment {
    let quoted = inside.len() >= 2
        && ((inside.starts_with('"') && inside.ends_with('"'))
            || (inside.starts_with('\'') && inside.ends_with('\'')));
    if quoted {
        Segment::Key(inside[1..inside.len() - 1].to_owned())
    } else if let Ok(index) = inside.parse() {
        Segment::Index(index)
    } else {
        Segment::Dynamic
    }
}

fn identifier_at(text: &str, start: usize) -> &str {
    let rest = &text[start..];
    if !rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return "";
    }
    let end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
    &rest[..end]
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '?'
}

fn is_identifier(key: &str) -> bool {
    !key.is_empty() && identifier_at(key, 0) == key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_and_tags_are_found_with_their_offsets() {
        let source = "Hi {{- recipient.name -}}\n{% if vars.x %}y{% endif %}";
        let found = markups(source);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].text, "recipient.name");
        assert_eq!(&source[found[0].offset..][..9], "recipient");
        assert_eq!(found[1].tag, Some("if"));
        assert_eq!(line_col(source, found[1].offset), (2, 4));
    }

    #[test]
    fn raw_and_comment_blocks_hold_no_markup() {
        let source = "{% raw %}{{ vars.a }}{% endraw %}{% comment %}{{ vars.b }}{% endcomment %}{{ vars.c }}";
        let texts: Vec<_> = markups(source).into_iter().map(|m| m.text).collect();
        assert_eq!(texts, vec!["raw", "comment", "vars.c"]);
    }

    #[test]
    fn paths_are_read_in_dot_and_bracket_forms_outside_strings() {
        let source =
            r#"{{ "vars.no" | append: vars.a["b c"][0].d | append: myvars.e | append: vars[k] }}"#;
        let markup = &markups(source)[0];
        let shown: Vec<_> = paths_from(markup, "vars")
            .iter()
            .map(PathUse::display)
            .collect();
        assert_eq!(shown, vec![r#"vars.a["b c"][0].d"#, "vars[…]"]);
    }

    #[test]
    fn a_default_filter_or_a_condition_guards_a_path() {
        let guarded = |source: &str| -> Vec<bool> {
            markups(source)
                .iter()
                .flat_map(|m| paths_from(m, "vars"))
                .map(|p| p.guarded)
                .collect()
        };
        assert_eq!(guarded("{{ vars.a | default: 'x' }}"), vec![true]);
        assert_eq!(guarded("{{ vars.a | upcase }}"), vec![false]);
        assert_eq!(guarded("{% if vars.a %}{% endif %}"), vec![true]);
        assert_eq!(guarded("{% assign x = vars.a %}"), vec![false]);
    }

    #[test]
    fn filters_are_named_with_their_positions() {
        let source = "a\n{{ recipient.id | user | map: 'x|y' |  size }}";
        let markup = &markups(source)[0];
        let found: Vec<_> = filters(markup)
            .iter()
            .map(|f| (f.name, line_col(source, f.offset)))
            .collect();
        assert_eq!(
            found,
            vec![("user", (2, 19)), ("map", (2, 26)), ("size", (2, 40))]
        );
    }

    #[test]
    fn a_layout_prints_its_content_or_not() {
        assert!(outputs_variable("<main>{{- content }}</main>", "content"));
        assert!(!outputs_variable(
            "<main>{{ contents }}{% if content %}{% endif %}</main>",
            "content"
        ));
    }
}
