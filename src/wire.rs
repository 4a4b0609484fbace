//! One way to name the values of a fieldless enum as they are written in
//! tables, CSV files, settings and the answer map, and to read them back:
//! [`wire_names!`](crate::wire_names). Its `match` lists every variant, so a new variant
//! without a name does not compile.

/// A name that is none of an enum's wire names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not {what}: use {expected}")]
pub struct UnknownName {
    /// What was expected, with its article: "a kind", "an action".
    pub what: &'static str,
    /// The text as given.
    pub value: String,
    /// The names that are accepted, as a sentence: "open or closed".
    pub expected: String,
}

/// `a`, `a or b`, `a, b or c`.
pub fn one_of(names: &[&str]) -> String {
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// Gives a fieldless enum `ALL`, `as_str`, `Display` and a `FromStr` that
/// ignores case and surrounding blanks, from one list of variant names:
///
/// ```ignore
/// wire_names!(FailMode, "a fail mode" { Open => "open", Closed => "closed" });
/// ```
#[macro_export]
macro_rules! wire_names {
    ($ty:ident, $what:literal { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in the order of its wire names.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The value's wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::wire::UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim();
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| $crate::wire::UnknownName {
                        what: $what,
                        value: s.to_owned(),
                        expected: $crate::wire::one_of(&[$($name),+]),
                    })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Colour {
        Red,
        DarkBlue,
    }
    crate::wire_names!(Colour, "a colour" { Red => "red", DarkBlue => "darkBlue" });

    #[test]
    fn names_round_trip_ignoring_case_and_blanks() {
        for c in Colour::ALL {
            assert_eq!(c.as_str().parse::<Colour>(), Ok(*c));
            assert_eq!(c.to_string(), c.as_str());
        }
        assert_eq!(" DARKBLUE ".parse::<Colour>(), Ok(Colour::DarkBlue));
    }

    #[test]
    fn an_unknown_name_says_what_is_accepted() {
        let err = "green".parse::<Colour>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "`green` is not a colour: use red or darkBlue"
        );
    }

    #[test]
    fn one_of_reads_as_a_sentence() {
        assert_eq!(one_of(&[]), "");
        assert_eq!(one_of(&["a"]), "a");
        assert_eq!(one_of(&["a", "b"]), "a or b");
        assert_eq!(one_of(&["a", "b", "c"]), "a, b or c");
    }
}
