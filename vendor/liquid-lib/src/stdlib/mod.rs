mod blocks;
mod filters;
mod tags;

pub use blocks::*;
pub use filters::*;
pub use tags::*;

pub use blocks::ForloopObject;
pub use blocks::Range;
pub use blocks::RangeExpression;
