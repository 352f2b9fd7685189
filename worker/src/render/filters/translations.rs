//! Translation files: `<templates.dir>/translations/<locale>.json`, each one
//! locale's JSON object, loaded once and shared by every template. Keys
//! nest; a key is looked up as written first (`"a.b": …`), then as a path
//! (`{ "a": { "b": … } }`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

/// The example translations, built into the binary with the example templates.
pub const EXAMPLE_TRANSLATIONS: &[(&str, &str)] = &[
    (
        "en",
        include_str!("../../../../examples/templates/translations/en.json"),
    ),
    (
        "fr",
        include_str!("../../../../examples/templates/translations/fr.json"),
    ),
];

/// Why the translations could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TranslationError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: not a JSON object of translations: {message}")]
    Invalid { origin: String, message: String },
}

/// Every locale's translations, keyed by lowercase locale (`pt-br`).
#[derive(Debug, Default, Clone)]
pub struct Translations {
    locales: HashMap<String, Json>,
}

impl Translations {
    /// Reads every `<locale>.json` of `dir`; no folder means no translations.
    pub fn load_dir(dir: &Path) -> std::result::Result<Self, TranslationError> {
        let read_err = |source| TranslationError::Read {
            path: dir.to_owned(),
            source,
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(read_err(e)),
        };
        let mut files = Vec::new();
        for entry in entries {
            let path = entry.map_err(read_err)?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let source =
                    std::fs::read_to_string(&path).map_err(|source| TranslationError::Read {
                        path: path.clone(),
                        source,
                    })?;
                let locale = path.file_stem().unwrap_or_default().to_string_lossy();
                files.push((locale.into_owned(), source, path.display().to_string()));
            }
        }
        let mut translations = Self::default();
        for (locale, source, origin) in files {
            translations.add(&locale, &source, &origin)?;
        }
        Ok(translations)
    }

    /// Translations from `(locale, JSON text)` pairs.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> std::result::Result<Self, TranslationError> {
        let mut translations = Self::default();
        for (locale, source) in sources {
            translations.add(locale, source, &format!("translations/{locale}.json"))?;
        }
        Ok(translations)
    }

    fn add(
        &mut self,
        locale: &str,
        source: &str,
        origin: &str,
    ) -> std::result::Result<(), TranslationError> {
        let invalid = |message: String| TranslationError::Invalid {
            origin: origin.to_owned(),
            message,
        };
        let value: Json = serde_json::from_str(source).map_err(|e| invalid(e.to_string()))?;
        if !value.is_object() {
            return Err(invalid("the top level is not an object".into()));
        }
        self.locales.insert(normalise(locale), value);
        Ok(())
    }

    /// The locales loaded, as written in their file names but lowercase.
    pub fn locales(&self) -> impl Iterator<Item = &str> {
        self.locales.keys().map(String::as_str)
    }

    /// The entry for `key` in the first locale of `chain` that has it.
    pub(crate) fn find<'a>(
        &'a self,
        chain: &'a [String],
        key: &str,
    ) -> Option<(&'a str, &'a Json)> {
        chain.iter().find_map(|locale| {
            let root = self.locales.get(locale)?;
            let entry = root.get(key).or_else(|| {
                key.split('.')
                    .try_fold(root, |node, part| node.as_object()?.get(part))
            })?;
            Some((locale.as_str(), entry))
        })
    }
}

fn normalise(locale: &str) -> String {
    locale.trim().replace('_', "-").to_ascii_lowercase()
}
