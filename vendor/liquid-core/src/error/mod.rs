//! Liquid Processing Errors.

#![warn(missing_docs)]
#![warn(missing_debug_implementations)]
#![warn(unused_extern_crates)]

mod clone;
mod error;
mod result_ext;
mod trace;

pub use clone::*;
pub use error::*;
pub use result_ext::*;
use trace::*;
