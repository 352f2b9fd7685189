//! One way to declare a Liquid filter, and the plain parts the `liquid`
//! crate's traits ask of a tag or of a filter with free arguments.

use liquid_core::parser::{FilterReflection, ParameterReflection};
use liquid_core::{Language, ParseTag, Renderable, Result, TagReflection, TagTokenIter};

/// Declares a filter as the `liquid` crate wants it: the unit struct the
/// parser registers, the parsed filter it builds, which holds its arguments
/// in a field when the filter takes some, and that filter's `Filter` impl.
///
/// A filter's arguments are a [`filter_args!`] struct in the field the
/// braces name: declared in place, one parameter a line, when they are the
/// filter's own, or only named when they are declared apart (shared by
/// filters that take the same arguments).
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
///     Sum => SumFilter {
///         args: PropertyArgs {
///             property: Option<Expression> => "The property to look at.",
///         },
///     },
///     "sum",
///     "The sum of an array.",
///     |input, args| Ok(sum(input, args.property.as_deref()))
/// );
/// declare_filter!(
///     RemoveLast => RemoveLastFilter { args: LastArgs },
///     "remove_last",
///     "Removes the last occurrence of a string.",
///     |input, args| Ok(Value::scalar(replace_last(&input.to_kstr(), &args.search, "")))
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
    // Arguments declared in place: their struct, then the filter naming it.
    (
        $(#[$doc:meta])* $vis:vis $unit:ident => $parsed:ident {
            $field:ident: $args:ident { $($parameters:tt)* } $(,)?
        },
        $name:tt, $description:tt, $evaluate:expr $(,)?
    ) => {
        $crate::render::filters::filter_args! {
            struct $args { $($parameters)* }
        }

        $crate::render::filters::declare_filter!(
            $(#[$doc])* $vis $unit => $parsed { $field: $args },
            $name, $description, $evaluate
        );
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

/// Declares a filter's arguments: the struct, one field per parameter, with
/// the `FilterParameters` derive that parses, evaluates and describes them.
/// [`declare_filter!`] uses it for the arguments a filter declares in place.
///
/// A parameter is written `name: Expression => "description"`, or with
/// `Option<Expression>` when it may be left out. It is evaluated as a string
/// (`arg_type = "str"`) unless the line ends `as "any"` (or another
/// `arg_type`), or `as _` to leave the derive's default (any value). Doc
/// comments on the struct and on each parameter are kept.
///
/// ```ignore
/// filter_args! {
///     /// What `replace_last` and `remove_last` take.
///     struct LastArgs {
///         search: Expression => "The text to search.",
///         replace: Option<Expression> => "What replaces its last occurrence.",
///     }
/// }
/// filter_args! {
///     struct MatchArgs {
///         property: Expression => "The property to test.",
///         target_value: Option<Expression> => "The value it must equal; else truthy." as "any",
///     }
/// }
/// ```
///
/// The type is matched as the identifiers it is written with, never as a
/// `ty` fragment: the derive reads `Option<…>` from the field's tokens to
/// tell an optional parameter from a required one, and a `ty` fragment would
/// reach it wrapped in an invisible group that it does not look into.
macro_rules! filter_args {
    // Every parameter read: the struct.
    (@fields [$($attrs:tt)*] [$($decl:tt)*] [$($fields:tt)*]) => {
        $($attrs)*
        #[derive(Debug, ::liquid_core::FilterParameters)]
        $($decl)* {
            $($fields)*
        }
    };
    // A parameter without `as`: evaluated as a string.
    (
        @fields $attrs:tt $decl:tt $fields:tt
        $(#[$doc:meta])* $field:ident: $ty:ident $(<$arg:ident>)? => $description:literal
        $(, $($rest:tt)*)?
    ) => {
        $crate::render::filters::filter_args!(@fields $attrs $decl $fields
            $(#[$doc])* $field: $ty $(<$arg>)? => $description as "str" $(, $($rest)*)?
        );
    };
    // A parameter with its own `arg_type`.
    (
        @fields $attrs:tt $decl:tt [$($fields:tt)*]
        $(#[$doc:meta])* $field:ident: $ty:ident $(<$arg:ident>)? => $description:literal
        as $arg_type:literal $(, $($rest:tt)*)?
    ) => {
        $crate::render::filters::filter_args!(@fields $attrs $decl [
            $($fields)*
            $(#[$doc])*
            #[parameter(description = $description, arg_type = $arg_type)]
            $field: $ty $(<$arg>)?,
        ] $($($rest)*)?);
    };
    // A parameter with the derive's default `arg_type`.
    (
        @fields $attrs:tt $decl:tt [$($fields:tt)*]
        $(#[$doc:meta])* $field:ident: $ty:ident $(<$arg:ident>)? => $description:literal
        as _ $(, $($rest:tt)*)?
    ) => {
        $crate::render::filters::filter_args!(@fields $attrs $decl [
            $($fields)*
            $(#[$doc])*
            #[parameter(description = $description)]
            $field: $ty $(<$arg>)?,
        ] $($($rest)*)?);
    };
    ($(#[$attr:meta])* $vis:vis struct $name:ident { $($parameters:tt)* }) => {
        $crate::render::filters::filter_args!(
            @fields [$(#[$attr])*] [$vis struct $name] [] $($parameters)*
        );
    };
}

pub(crate) use filter_args;

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
