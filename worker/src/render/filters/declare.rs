//! One way to declare a Liquid filter.

/// Declares a filter as the `liquid` crate wants it: the unit struct the
/// parser registers, and the parsed filter it builds, which holds its
/// arguments in a field when the filter takes some. The caller implements
/// `Filter` for the parsed one.
///
/// The types are written `self::…` inside: the derives name the arguments'
/// variable with the span of these types, which must be the macro's own for
/// that variable to resolve.
///
/// ```ignore
/// declare_filter!(
///     /// `{{ "abc" | sha256 }}`: the SHA-256 digest in hex.
///     pub Sha256 => Sha256Filter, "sha256", "The SHA-256 digest of the input."
/// );
/// declare_filter!(pub Sum => SumFilter { args: PropertyArgs }, "sum", "The sum of an array.");
/// ```
macro_rules! declare_filter {
    ($(#[$doc:meta])* $vis:vis $unit:ident => $parsed:ident, $name:tt, $description:tt) => {
        $(#[$doc])*
        #[derive(Clone, ParseFilter, FilterReflection)]
        #[filter(name = $name, description = $description, parsed($parsed))]
        $vis struct $unit;

        #[derive(Debug, Default, Display_filter)]
        #[name = $name]
        struct $parsed;
    };
    ($(#[$doc:meta])* $vis:vis $unit:ident => $parsed:ident { $field:ident: $args:ident }, $name:tt, $description:tt) => {
        $(#[$doc])*
        #[derive(Clone, ParseFilter, FilterReflection)]
        #[filter(name = $name, description = $description, parameters(self::$args), parsed(self::$parsed))]
        $vis struct $unit;

        #[derive(Debug, FromFilterParameters, Display_filter)]
        #[name = $name]
        struct $parsed {
            #[parameters]
            $field: self::$args,
        }
    };
}

pub(crate) use declare_filter;
