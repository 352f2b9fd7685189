//! Shopify tags the crate lacks: `{% echo %}`, `{% liquid %}` and
//! `{% doc %}` (`{% # comment %}` is handled by the patched grammar).

use std::io::Write;

use liquid::ParserBuilder;
use liquid_core::error::ResultLiquidReplaceExt;
use liquid_core::parser::{BlockElement, FilterChain};
use liquid_core::{
    BlockReflection, Language, ParseBlock, Renderable, Result, Runtime, TagBlock, TagTokenIter,
    Template, ValueView,
};

use crate::render::filters::Tag;

/// Adds the tags of this module to `builder`.
pub fn register(builder: ParserBuilder) -> ParserBuilder {
    builder
        .tag(Tag::new(
            "echo",
            "Outputs an expression, like {{ }}.",
            parse_echo,
        ))
        .tag(Tag::new(
            "liquid",
            "Several tags, one per line, inside one delimiter.",
            parse_liquid,
        ))
        .block(DocBlock)
}

/// `{% echo value | filters %}`: `{{ … }}` as a tag, for `{% liquid %}`.
fn parse_echo(mut arguments: TagTokenIter<'_>, options: &Language) -> Result<Box<dyn Renderable>> {
    let chain = arguments
        .expect_next("Value expected.")?
        .expect_filter_chain(options)
        .into_result()?;
    arguments.expect_nothing()?;
    Ok(Box::new(Echo(chain)))
}

#[derive(Debug)]
struct Echo(FilterChain);

impl Renderable for Echo {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> Result<()> {
        let value = self.0.evaluate(runtime)?;
        write!(writer, "{}", value.render()).replace("Failed to render")?;
        Ok(())
    }
}

/// `{% liquid %}`: one tag per line, without delimiters.
fn parse_liquid(
    mut arguments: TagTokenIter<'_>,
    options: &Language,
) -> Result<Box<dyn Renderable>> {
    let body = arguments.raw_str();
    arguments.by_ref().for_each(drop);
    let mut source = String::with_capacity(body.len() * 2);
    for line in body.lines().map(str::trim) {
        if !line.is_empty() && !line.starts_with('#') {
            source.push_str("{% ");
            source.push_str(line);
            source.push_str(" %}");
        }
    }
    let elements = liquid_core::parser::parse(&source, options)?;
    Ok(Box::new(Template::new(elements)))
}

/// `{% doc %}…{% enddoc %}`: documentation, never rendered.
#[derive(Clone, Copy, Debug)]
struct DocBlock;

impl BlockReflection for DocBlock {
    fn start_tag(&self) -> &str {
        "doc"
    }

    fn end_tag(&self) -> &str {
        "enddoc"
    }

    fn description(&self) -> &str {
        "Documentation of a template or partial; renders nothing."
    }
}

impl ParseBlock for DocBlock {
    fn parse(
        &self,
        mut arguments: TagTokenIter<'_>,
        mut tokens: TagBlock<'_, '_>,
        _options: &Language,
    ) -> Result<Box<dyn Renderable>> {
        arguments.expect_nothing()?;
        while let Some(element) = tokens.next()? {
            // the body is text; its tags are neither parsed nor rendered
            let _: BlockElement<'_> = element;
        }
        tokens.assert_empty();
        Ok(Box::new(Nothing))
    }

    fn reflection(&self) -> &dyn BlockReflection {
        self
    }
}

#[derive(Clone, Copy, Debug)]
struct Nothing;

impl Renderable for Nothing {
    fn render_to(&self, _writer: &mut dyn Write, _runtime: &dyn Runtime) -> Result<()> {
        Ok(())
    }
}
