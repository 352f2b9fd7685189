use liquid_core::Expression;
use liquid_core::Result;
use liquid_core::Runtime;
use liquid_core::{
    Display_filter, Filter, FilterParameters, FilterReflection, FromFilterParameters, ParseFilter,
};
use liquid_core::{Value, ValueView};

pub(super) mod case;
pub(super) mod operate;
pub(super) mod strip;
pub(super) mod truncate;

#[derive(Debug, FilterParameters)]
struct SplitArgs {
    #[parameter(
        description = "The separator between each element in the string.",
        arg_type = "str"
    )]
    pattern: Expression,
}

#[derive(Clone, ParseFilter, FilterReflection)]
#[filter(
    name = "split",
    description = "Divides an input string into an array using the argument as a separator.",
    parameters(SplitArgs),
    parsed(SplitFilter)
)]
pub struct Split;

#[derive(Debug, FromFilterParameters, Display_filter)]
#[name = "split"]
struct SplitFilter {
    #[parameters]
    args: SplitArgs,
}

impl Filter for SplitFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> Result<Value> {
        let args = self.args.evaluate(runtime)?;

        let input = input.to_kstr();

        if input.is_empty() {
            Ok(Value::Array(Vec::new()))
        } else {
            // checked before building it: every element costs 16 bytes
            let pattern = args.pattern.as_str();
            let pieces = if pattern.is_empty() {
                input.chars().count()
            } else {
                input.matches(pattern).count() + 1
            };
            let len = input.len() as u64 + pieces as u64 * 16;
            liquid_core::runtime::budget_of(runtime).value_len(len)?;
            // Shopify (Ruby): an empty pattern splits into characters, and
            // trailing empty strings are dropped
            let mut parts: Vec<Value> = if pattern.is_empty() {
                input.chars().map(|c| Value::scalar(c.to_string())).collect()
            } else {
                input.split(pattern).map(|s| Value::scalar(s.to_owned())).collect()
            };
            while parts.last().is_some_and(|v| v.to_kstr().is_empty()) {
                parts.pop();
            }
            Ok(Value::Array(parts))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_split() {
        assert_eq!(
            liquid_core::call_filter!(Split, "a, b, c", ", ").unwrap(),
            liquid_core::value!(["a", "b", "c"])
        );
        assert_eq!(
            liquid_core::call_filter!(Split, "a~b", "~").unwrap(),
            liquid_core::value!(["a", "b"])
        );
    }

    #[test]
    fn unit_split_bad_split_string() {
        assert_eq!(
            liquid_core::call_filter!(Split, "a,b,c", 1f64).unwrap(),
            liquid_core::value!(["a,b,c"])
        );
    }

    #[test]
    fn unit_split_no_args() {
        liquid_core::call_filter!(Split, "a,b,c").unwrap_err();
    }
}
