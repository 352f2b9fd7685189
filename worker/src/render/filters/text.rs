//! `pluralize`, `titlecase` and `from_markdown`: the original's text helpers.

use liquid_core::{Expression, Value, ValueView};
use pulldown_cmark::{html, Options, Parser};

use super::declare_filter;
use super::filter_error;

declare_filter!(
    /// `{{ total_actors | pluralize: "user", "users" }}`: the first word when the
    /// count is one, the second otherwise.
    pub Pluralize => PluralizeFilter {
        args: PluralizeArgs {
            singular: Expression => "The word when the count is one.",
            plural: Expression => "The word for any other count.",
        },
    },
    "pluralize",
    "The singular word when the input count is 1, else the plural word.",
    |input, args| {
        let count = input.as_scalar().and_then(|s| s.to_float()).ok_or_else(|| {
            filter_error("pluralize", format!("{} is not a number", input.source()))
        })?;
        let word = if count == 1.0 { args.singular } else { args.plural };
        Ok(Value::scalar(word.into_owned()))
    }
);

declare_filter!(
    /// `{{ "my project" | titlecase }}`: every word starting with a capital.
    pub Titlecase => TitlecaseFilter,
    "titlecase",
    "Capitalises the first letter of every word and lowercases the rest.",
    |input| Ok(Value::scalar(titlecase(&input.to_kstr())))
);

/// Title case over whitespace-separated words; the spacing is kept as is.
pub fn titlecase(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at_word_start = true;
    for c in text.chars() {
        if c.is_whitespace() {
            out.push(c);
            at_word_start = true;
        } else if at_word_start {
            out.extend(c.to_uppercase());
            at_word_start = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

declare_filter!(
    /// `{{ data.body | from_markdown }}`: CommonMark (with tables, strikethrough
    /// and task lists) rendered to HTML.
    pub FromMarkdown => FromMarkdownFilter,
    "from_markdown",
    "Renders Markdown to HTML.",
    |input| Ok(Value::scalar(markdown_to_html(&input.to_kstr())))
);

/// The HTML of `markdown`.
pub fn markdown_to_html(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, Parser::new_ext(markdown, options));
    out
}
