//! A pre-scan of a template's nesting, so the parser (which recurses once per
//! nested block, and once per bracket in a variable such as `a[b[c]]`) only
//! ever sees templates it can parse within its stack.

use super::TemplateError;

/// Blocks whose bodies nest; `end<name>` closes them.
const BLOCKS: &[&str] = &[
    "if",
    "unless",
    "for",
    "case",
    "capture",
    "tablerow",
    "comment",
    "ifchanged",
    "doc",
];

/// Fails when blocks or brackets in `source` nest deeper than `max_depth`.
pub fn check(source: &str, max_depth: usize) -> Result<(), TemplateError> {
    let mut scan = Scan {
        depth: 0,
        max_depth,
    };
    let mut rest = source;
    while let Some(start) = rest.find('{') {
        rest = &rest[start..];
        if let Some(markup) = rest.strip_prefix("{{") {
            let end = markup.find("}}").unwrap_or(markup.len());
            scan.brackets(&markup[..end])?;
            rest = &markup[end..];
        } else if let Some(markup) = rest.strip_prefix("{%") {
            let end = markup.find("%}").unwrap_or(markup.len());
            let tag = &markup[..end];
            rest = &markup[end..];
            if tag_name(tag) == "raw" {
                rest = skip_raw(rest);
            } else {
                scan.tag(tag, 0)?;
            }
        } else {
            rest = &rest[1..];
        }
    }
    Ok(())
}

struct Scan {
    depth: usize,
    max_depth: usize,
}

impl Scan {
    /// One tag's markup (between `{%` and `%}`); `liquid` tags nest `level`
    /// deeper for each `liquid` line inside them.
    fn tag(&mut self, markup: &str, level: usize) -> Result<(), TemplateError> {
        let markup = markup.trim_matches(|c: char| c == '-' || c.is_whitespace());
        let name = tag_name(markup);
        if name != "liquid" {
            self.brackets(markup)?;
        }
        if name == "liquid" {
            self.enter(level + 1)?;
            let body = &markup[name.len()..];
            for line in body.lines() {
                self.tag(line, level + 1)?;
            }
        } else if BLOCKS.contains(&name) {
            self.depth += 1;
            self.enter(level)?;
        } else if name
            .strip_prefix("end")
            .is_some_and(|block| BLOCKS.contains(&block))
        {
            self.depth = self.depth.saturating_sub(1);
        }
        Ok(())
    }

    fn enter(&self, extra: usize) -> Result<(), TemplateError> {
        if self.depth + extra > self.max_depth {
            return Err(TemplateError::limit(
                "max_nesting_depth",
                format!("blocks nest deeper than {}", self.max_depth),
            ));
        }
        Ok(())
    }

    /// Brackets and parentheses of one markup, and its filter chain's
    /// length (four filters per level of depth), outside string literals.
    fn brackets(&self, markup: &str) -> Result<(), TemplateError> {
        let (mut depth, mut quote, mut filters) = (0usize, None, 0usize);
        for c in markup.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '|') => {
                    filters += 1;
                    if filters > 4 * self.max_depth {
                        return Err(TemplateError::limit(
                            "max_nesting_depth",
                            format!("a filter chain is longer than {}", 4 * self.max_depth),
                        ));
                    }
                }
                (None, '[' | '(') => {
                    depth += 1;
                    if depth > self.max_depth {
                        return Err(TemplateError::limit(
                            "max_nesting_depth",
                            format!("brackets nest deeper than {}", self.max_depth),
                        ));
                    }
                }
                (None, ']' | ')') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        Ok(())
    }
}

/// The first word of a tag's markup.
fn tag_name(markup: &str) -> &str {
    let markup = markup.trim_start_matches(|c: char| c == '-' || c.is_whitespace());
    let end = markup
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(markup.len());
    &markup[..end]
}

/// The text after `{% raw %}`'s closing `{% endraw %}` (raw bodies are not
/// parsed, so they do not nest).
fn skip_raw(rest: &str) -> &str {
    let mut search = rest;
    while let Some(at) = search.find("{%") {
        let after = &search[at + 2..];
        if tag_name(after) == "endraw" {
            return after;
        }
        search = after;
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_templates_pass() {
        let source = "{% if a %}{% for x in xs %}{{ x[0] | upcase }}{% endfor %}{% endif %}";
        assert!(check(source, 2).is_ok());
    }

    #[test]
    fn blocks_deeper_than_the_limit_fail() {
        let source = "{% if a %}".repeat(3) + &"{% endif %}".repeat(3);
        assert!(check(&source, 3).is_ok());
        let deeper = "{% if a %}".repeat(4) + &"{% endif %}".repeat(4);
        let err = check(&deeper, 3).unwrap_err();
        assert!(matches!(
            err,
            TemplateError::Limit {
                limit: "max_nesting_depth",
                ..
            }
        ));
    }

    #[test]
    fn sibling_blocks_do_not_add_up() {
        let source = "{%- unless a -%}x{%- endunless -%}".repeat(100);
        assert!(check(&source, 1).is_ok());
    }

    #[test]
    fn nested_brackets_fail_but_brackets_in_strings_do_not_count() {
        assert!(check("{{ a[a[a[a]]] }}", 3).is_ok());
        assert!(check("{{ a[a[a[a]]] }}", 2).is_err());
        assert!(check("{{ '[[[[[[' | append: x[0] }}", 3).is_ok());
    }

    #[test]
    fn liquid_tags_count_their_lines_and_raw_bodies_do_not() {
        let lines = "{% liquid\nif a\nif b\necho 1\nendif\nendif %}";
        assert!(check(lines, 3).is_ok());
        assert!(check(lines, 2).is_err());
        let raw = format!("{{% raw %}}{}{{% endraw %}}", "{% if a %}".repeat(10));
        assert!(check(&raw, 1).is_ok());
        let many_lines = format!(
            "{{% liquid\n{}%}}",
            "echo x | upcase | downcase\n".repeat(20)
        );
        assert!(
            check(&many_lines, 2).is_ok(),
            "filters are counted per line"
        );
    }
}
