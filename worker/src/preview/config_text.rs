//! Positions of settings in the configuration file's text, so that a problem
//! in a sender field points at its line.

use toml::de::{DeTable, DeValue};

use super::scan::line_col;

/// The configuration file as text, and its name.
#[derive(Debug, Clone)]
pub struct ConfigText {
    pub name: String,
    pub text: String,
}

impl ConfigText {
    /// Byte offset where the value at `path` (`["channels", "ses", …]`) starts.
    pub fn value_offset(&self, path: &[&str]) -> Option<usize> {
        let document = DeTable::parse(&self.text).ok()?;
        let (last, parents) = path.split_last()?;
        let mut table = document.get_ref();
        for key in parents {
            match find(table, key)?.get_ref() {
                DeValue::Table(inner) => table = inner,
                _ => return None,
            }
        }
        Some(find(table, last)?.span().start)
    }

    /// Line and column of `offset` within the string value at `path`: exact
    /// for a one-line basic string without escapes, the value's own
    /// position otherwise.
    pub fn position_in_value(&self, path: &[&str], offset: usize) -> Option<(usize, usize)> {
        let start = self.value_offset(path)?;
        let value = &self.text[start..];
        let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'');
        let one_line = value.lines().next().is_some_and(|l| !l.contains('\\'));
        match quote {
            Some(_) if one_line && !value.starts_with("\"\"\"") && !value.starts_with("'''") => {
                Some(line_col(&self.text, start + 1 + offset))
            }
            _ => Some(line_col(&self.text, start)),
        }
    }
}

fn find<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a toml::Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sender_field_is_found_in_a_table_and_an_offset_inside_it() {
        let config = ConfigText {
            name: "h.toml".into(),
            text: "[channels.ses.environments.dev]\nsandbox = true\nfrom_address = \"dev@{{ vars.domian }}\"\n".into(),
        };
        let path = ["channels", "ses", "environments", "dev", "from_address"];
        assert_eq!(config.position_in_value(&path, 0), Some((3, 17)));
        assert_eq!(config.position_in_value(&path, 7), Some((3, 24)));
        assert_eq!(
            config.value_offset(&["channels", "ses", "environments", "prod"]),
            None
        );
    }
}
