//! The headers Herald and the broker put on messages: every name Herald
//! sets, and reading them back. Header values come from the broker, so they
//! are data, not trust: counts are clamped and a malformed one is absent.

use lapin::types::{AMQPValue, FieldTable};
use lapin::BasicProperties;

pub use herald_shared::topology::headers::*;

use crate::pipeline::History;

/// The largest count Herald reads or writes; anything above is clamped, so
/// that adding one never wraps.
pub const MAX_COUNT: u32 = 1_000_000;

/// A job's retry history, from its headers.
pub fn history(properties: &BasicProperties) -> History {
    let table = properties.headers().as_ref();
    History {
        attempts: count(table, ATTEMPTS),
        retries: count(table, RETRIES),
    }
}

/// A count as a header value.
pub fn count_value(n: u32) -> AMQPValue {
    AMQPValue::LongLongInt(i64::from(n.min(MAX_COUNT)))
}

/// A header as text, for strings and numbers.
pub fn text(table: Option<&FieldTable>, key: &str) -> Option<String> {
    match table?.inner().get(key)? {
        AMQPValue::LongString(s) => Some(s.to_string()),
        AMQPValue::ShortString(s) => Some(s.to_string()),
        other => number(other).map(|n| n.to_string()),
    }
}

/// A non-negative count header, at most [`MAX_COUNT`]; 0 when absent,
/// negative or not a number.
pub fn count(table: Option<&FieldTable>, key: &str) -> u32 {
    let value = table.and_then(|t| t.inner().get(key));
    let n = match value {
        Some(AMQPValue::LongString(s)) => s.to_string().trim().parse().ok(),
        Some(v) => number(v),
        None => None,
    };
    match n {
        Some(n) if n >= 0 => u32::try_from(n).map_or(MAX_COUNT, |n| n.min(MAX_COUNT)),
        _ => 0,
    }
}

fn number(value: &AMQPValue) -> Option<i64> {
    Some(match value {
        AMQPValue::ShortShortInt(v) => i64::from(*v),
        AMQPValue::ShortShortUInt(v) => i64::from(*v),
        AMQPValue::ShortInt(v) => i64::from(*v),
        AMQPValue::ShortUInt(v) => i64::from(*v),
        AMQPValue::LongInt(v) => i64::from(*v),
        AMQPValue::LongUInt(v) => i64::from(*v),
        AMQPValue::LongLongInt(v) => *v,
        AMQPValue::Timestamp(v) => i64::try_from(*v).ok()?,
        _ => return None,
    })
}

/// The most recent `x-death` entry the broker added: (reason, unix time).
pub fn last_death(table: Option<&FieldTable>) -> Option<(String, Option<i64>)> {
    let AMQPValue::FieldArray(deaths) = table?.inner().get("x-death")? else {
        return None;
    };
    let AMQPValue::FieldTable(first) = deaths.as_slice().first()? else {
        return None;
    };
    let reason = text(Some(first), "reason")?;
    let time = first.inner().get("time").and_then(number);
    Some((reason, time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::types::{FieldArray, LongString};

    #[test]
    fn counts_and_texts_read_any_integer_or_string_encoding() {
        let mut table = FieldTable::default();
        table.insert("a".into(), AMQPValue::LongLongInt(7));
        table.insert("b".into(), AMQPValue::LongString(LongString::from("3")));
        table.insert("c".into(), AMQPValue::ShortShortInt(-1));
        assert_eq!(count(Some(&table), "a"), 7);
        assert_eq!(count(Some(&table), "b"), 3);
        assert_eq!(count(Some(&table), "c"), 0);
        assert_eq!(count(None, "a"), 0);
        table.insert("big".into(), AMQPValue::LongUInt(u32::MAX));
        table.insert("huge".into(), AMQPValue::LongLongInt(i64::MAX));
        table.insert("text".into(), AMQPValue::LongString(LongString::from("x")));
        assert_eq!(count(Some(&table), "big"), MAX_COUNT);
        assert_eq!(count(Some(&table), "huge"), MAX_COUNT);
        assert_eq!(count(Some(&table), "text"), 0);
        assert_eq!(text(Some(&table), "a").as_deref(), Some("7"));
    }

    #[test]
    fn the_newest_x_death_entry_is_read() {
        let mut newest = FieldTable::default();
        newest.insert(
            "reason".into(),
            AMQPValue::LongString(LongString::from("delivery_limit")),
        );
        newest.insert("time".into(), AMQPValue::Timestamp(1_700_000_000));
        let mut older = FieldTable::default();
        older.insert(
            "reason".into(),
            AMQPValue::LongString(LongString::from("expired")),
        );
        let deaths = FieldArray::from(vec![
            AMQPValue::FieldTable(newest),
            AMQPValue::FieldTable(older),
        ]);
        let mut table = FieldTable::default();
        table.insert("x-death".into(), AMQPValue::FieldArray(deaths));
        assert_eq!(
            last_death(Some(&table)),
            Some(("delivery_limit".into(), Some(1_700_000_000)))
        );
    }
}
