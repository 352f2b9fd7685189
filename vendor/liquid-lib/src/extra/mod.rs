mod date;

pub use self::date::*;
