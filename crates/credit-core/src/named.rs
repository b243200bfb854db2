//! Closed sets of named values — statuses, kinds, channels, reason codes.
//! Each is declared once, with [`named!`], as a list of variants and their
//! names; the list gives the names in JSON and in the database, parsing,
//! the "must be a, b or c" of error messages and SQL's `IN (...)` lists.

/// A value of a closed set, known by its name.
pub trait Named: Copy + PartialEq + 'static {
    /// Every value, in the order they are listed.
    const ALL: &'static [Self];

    fn name(self) -> &'static str;

    fn from_name(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|value| value.name() == text)
    }

    /// Every name, for a message: `open, in_review or withdrawn`.
    fn expected() -> String {
        Self::expected_or(&[])
    }

    /// Every name and then `more`: `open, in_review, withdrawn or all`.
    fn expected_or(more: &[&str]) -> String {
        let mut names: Vec<&str> = Self::ALL.iter().map(|value| value.name()).collect();
        names.extend(more);
        one_of(&names)
    }

    /// The names of `values` as SQL literals: `'open', 'in_review'`. Names
    /// are plain words, never quotes.
    fn sql_list(values: &[Self]) -> String {
        values
            .iter()
            .map(|value| format!("'{}'", value.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `a`, `a or b`, `a, b or c`.
pub fn one_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [only] => (*only).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Declares an enum of named values: `Variant = "name"`, one per line. It
/// gets `ALL`, `as_str`, `parse`, `Display`, serde (by name) and [`Named`].
#[macro_export]
macro_rules! named {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                <$name as $crate::Named>::from_name(text)
            }
        }

        impl $crate::Named for $name {
            const ALL: &'static [$name] = $name::ALL;

            fn name(self) -> &'static str {
                self.as_str()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::named::serde::Serialize for $name {
            fn serialize<S>(&self, serializer: S) -> Result<S::Ok, S::Error>
            where
                S: $crate::named::serde::Serializer,
            {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::named::serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> Result<$name, D::Error>
            where
                D: $crate::named::serde::Deserializer<'de>,
            {
                let text = <::std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| {
                    <D::Error as $crate::named::serde::de::Error>::unknown_variant(
                        &text,
                        &[$($text),+],
                    )
                })
            }
        }
    };
}

#[doc(hidden)]
pub use serde;

#[cfg(test)]
mod tests {
    use super::*;

    named! {
        /// A test set.
        pub enum Light {
            Red = "red",
            Amber = "amber",
            /// Go.
            Green = "green",
        }
    }

    #[test]
    fn one_list_gives_names_parsing_messages_and_sql() {
        assert_eq!(Light::ALL, &[Light::Red, Light::Amber, Light::Green]);
        assert_eq!(Light::Amber.as_str(), "amber");
        assert_eq!(Light::parse("green"), Some(Light::Green));
        assert_eq!(Light::parse("Green"), None);
        assert_eq!(Light::expected(), "red, amber or green");
        assert_eq!(Light::expected_or(&["off"]), "red, amber, green or off");
        assert_eq!(
            Light::sql_list(&[Light::Red, Light::Green]),
            "'red', 'green'"
        );
        assert_eq!(Light::Red.to_string(), "red");
    }

    #[test]
    fn json_uses_the_names() {
        assert_eq!(serde_json::to_string(&Light::Amber).unwrap(), "\"amber\"");
        let parsed: Light = serde_json::from_str("\"red\"").unwrap();
        assert_eq!(parsed, Light::Red);
        let error = serde_json::from_str::<Light>("\"blue\"").unwrap_err();
        assert!(error.to_string().contains("`red`, `amber`"), "{error}");
    }

    #[test]
    fn lists_read_naturally() {
        assert_eq!(one_of(&[]), "");
        assert_eq!(one_of(&["a"]), "a");
        assert_eq!(one_of(&["a", "b"]), "a or b");
        assert_eq!(one_of(&["a", "b", "c"]), "a, b or c");
    }
}
