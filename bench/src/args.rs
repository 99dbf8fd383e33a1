//! A small hand-rolled command line parser: one positional word and
//! `--key value` / `--flag` options.

use std::collections::HashMap;
use std::str::FromStr;

/// Parsed arguments; options are taken out one by one, and [`Args::finish`]
/// reports any left over.
#[derive(Debug, Default)]
pub struct Args {
    positional: Vec<String>,
    options: HashMap<String, Option<String>>,
}

impl Args {
    /// Splits `args` (without the program name) into positional words and options.
    /// A `--key` followed by a word that does not start with `--` takes it as value.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Self {
        let mut parsed = Self::default();
        let mut args = args.into_iter().peekable();
        while let Some(arg) = args.next() {
            if let Some(key) = arg.strip_prefix("--") {
                let value = match args.peek() {
                    Some(next) if !next.starts_with("--") => args.next(),
                    _ => None,
                };
                parsed.options.insert(key.to_owned(), value);
            } else {
                parsed.positional.push(arg);
            }
        }
        parsed
    }

    /// The positional words, in order.
    pub fn positional(&self) -> &[String] {
        &self.positional
    }

    /// Takes `--key value`, parsed, or `default` when absent.
    pub fn value<T: FromStr>(&mut self, key: &str, default: T) -> Result<T, String> {
        match self.options.remove(key) {
            None => Ok(default),
            Some(None) => Err(format!("--{key} needs a value")),
            Some(Some(value)) => value
                .parse()
                .map_err(|_| format!("--{key}: cannot parse `{value}`")),
        }
    }

    /// Takes `--key value` if present.
    pub fn optional<T: FromStr>(&mut self, key: &str) -> Result<Option<T>, String> {
        match self.options.remove(key) {
            None => Ok(None),
            Some(None) => Err(format!("--{key} needs a value")),
            Some(Some(value)) => value
                .parse()
                .map(Some)
                .map_err(|_| format!("--{key}: cannot parse `{value}`")),
        }
    }

    /// Takes `--key` as a flag (no value).
    pub fn flag(&mut self, key: &str) -> Result<bool, String> {
        match self.options.remove(key) {
            None => Ok(false),
            Some(None) => Ok(true),
            Some(Some(value)) => Err(format!("--{key} takes no value (got `{value}`)")),
        }
    }

    /// Fails if any option was not taken.
    pub fn finish(self) -> Result<(), String> {
        match self.options.keys().next() {
            Some(key) => Err(format!("unknown option --{key}")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_words_values_and_flags() {
        let mut args = Args::parse(
            [
                "echo",
                "--connections",
                "10",
                "--negotiate",
                "--duration",
                "3",
            ]
            .map(String::from),
        );
        assert_eq!(args.positional(), ["echo"]);
        assert_eq!(args.value("connections", 1usize), Ok(10));
        assert_eq!(args.flag("negotiate"), Ok(true));
        assert_eq!(args.value("warmup", 2u64), Ok(2));
        assert!(args.value::<u64>("duration", 0).is_ok());
        assert!(args.finish().is_ok());
        let mut args = Args::parse(["--bogus".to_owned()]);
        assert!(args.value("connections", 1usize).is_ok());
        assert!(args.finish().is_err());
    }
}
