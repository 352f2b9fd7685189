//! One way to declare a Liquid filter, and the plain parts the `liquid`
//! crate's traits ask of a tag or of a filter with free arguments.

use liquid_core::parser::{FilterReflection, ParameterReflection};
use liquid_core::{Language, ParseTag, Renderable, Result, TagReflection, TagTokenIter};

/// Declares a filter as the `liquid` crate wants it: the unit struct the
/// parser registers, the parsed filter it builds, which holds its arguments
/// in a field when the filter takes some, and that filter's `Filter` impl.
///
/// The last item is the evaluation: a function or closure of the input or,
/// for a filter with arguments, of the input and the arguments evaluated
/// (the `Evaluated…` struct that the `FilterParameters` derive writes).
///
/// The types are written `self::…` inside: the derives name the arguments'
/// variable with the span of these types, which must be the macro's own for
/// that variable to resolve.
///
/// ```ignore
/// declare_filter!(
///     /// `{{ "abc" | sha256 }}`: the SHA-256 digest in hex.
///     pub Sha256 => Sha256Filter,
///     "sha256",
///     "The SHA-256 digest of the input.",
///     hex_digest::<sha2::Sha256>
/// );
/// declare_filter!(
///     Sum => SumFilter { args: PropertyArgs },
///     "sum",
///     "The sum of an array.",
///     |input, args| Ok(sum(input, args.property.as_deref()))
/// );
/// ```
macro_rules! declare_filter {
    // The `Filter` impl: `$body` with the filter, its input and the runtime.
    (@filter $parsed:ident, |$this:ident, $input:ident, $runtime:ident| $body:block) => {
        impl ::liquid_core::Filter for $parsed {
            fn evaluate(
                &self,
                $input: &dyn ::liquid_core::ValueView,
                $runtime: &dyn ::liquid_core::Runtime,
            ) -> ::liquid_core::Result<::liquid_core::Value> {
                let $this = self;
                $body
            }
        }
    };
    (
        $(#[$doc:meta])* $vis:vis $unit:ident => $parsed:ident,
        $name:tt, $description:tt, $evaluate:expr $(,)?
    ) => {
        $(#[$doc])*
        #[derive(Clone, ::liquid_core::ParseFilter, ::liquid_core::FilterReflection)]
        #[filter(name = $name, description = $description, parsed($parsed))]
        $vis struct $unit;

        #[derive(Debug, Default, ::liquid_core::Display_filter)]
        #[name = $name]
        struct $parsed;

        $crate::render::filters::declare_filter!(@filter $parsed, |_this, input, _runtime| {
            let evaluate: fn(
                &dyn ::liquid_core::ValueView,
            ) -> ::liquid_core::Result<::liquid_core::Value> = $evaluate;
            evaluate(input)
        });
    };
    (
        $(#[$doc:meta])* $vis:vis $unit:ident => $parsed:ident { $field:ident: $args:ident },
        $name:tt, $description:tt, $evaluate:expr $(,)?
    ) => {
        $(#[$doc])*
        #[derive(Clone, ::liquid_core::ParseFilter, ::liquid_core::FilterReflection)]
        #[filter(
            name = $name,
            description = $description,
            parameters(self::$args),
            parsed(self::$parsed)
        )]
        $vis struct $unit;

        #[derive(Debug, ::liquid_core::FromFilterParameters, ::liquid_core::Display_filter)]
        #[name = $name]
        struct $parsed {
            #[parameters]
            $field: self::$args,
        }

        $crate::render::filters::declare_filter!(@filter $parsed, |this, input, runtime| {
            let evaluate: for<'a> fn(
                &dyn ::liquid_core::ValueView,
                <$args as ::liquid_core::parser::FilterParameters<'a>>::EvaluatedFilterParameters,
            ) -> ::liquid_core::Result<::liquid_core::Value> = $evaluate;
            let args = ::liquid_core::parser::FilterParameters::evaluate(&this.$field, runtime)?;
            evaluate(input, args)
        });
    };
}

pub(crate) use declare_filter;

/// The reflection of a filter that declares no parameters: it takes none,
/// or any named ones.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Undeclared {
    pub name: &'static str,
    pub description: &'static str,
}

impl FilterReflection for Undeclared {
    fn name(&self) -> &str {
        self.name
    }

    fn description(&self) -> &str {
        self.description
    }

    fn positional_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }

    fn keyword_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
}

/// A tag: its name, what it does, and how it parses its arguments into what
/// it renders.
#[derive(Clone)]
pub(crate) struct Tag<P> {
    name: &'static str,
    description: &'static str,
    parse: P,
}

impl<P> Tag<P>
where
    P: Fn(TagTokenIter<'_>, &Language) -> Result<Box<dyn Renderable>>,
{
    pub(crate) fn new(name: &'static str, description: &'static str, parse: P) -> Self {
        Tag {
            name,
            description,
            parse,
        }
    }
}

impl<P> TagReflection for Tag<P> {
    fn tag(&self) -> &str {
        self.name
    }

    fn description(&self) -> &str {
        self.description
    }
}

impl<P> ParseTag for Tag<P>
where
    P: Fn(TagTokenIter<'_>, &Language) -> Result<Box<dyn Renderable>>,
    P: Clone + Send + Sync + 'static,
{
    fn parse(
        &self,
        arguments: TagTokenIter<'_>,
        options: &Language,
    ) -> Result<Box<dyn Renderable>> {
        (self.parse)(arguments, options)
    }

    fn reflection(&self) -> &dyn TagReflection {
        self
    }
}
