//! Prefix rules and allow entries, held in memory by the Lambda and matched
//! without any read: exact allows and the longest matching prefix.

use std::collections::HashMap;

use crate::entry::{Entry, Kind, Mode};

/// Longest E.164 number: `+` and 15 digits.
const MAX_E164_CHARS: usize = 16;

/// A valid prefix: `+` then 1-15 digits, the first not 0 (`+1900`, `+882`).
pub fn is_prefix(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| {
        (1..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// The rules table's entries, indexed for matching.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    allow: HashMap<String, Entry>,
    allow_prefixes: HashMap<String, Entry>,
    block_prefixes: HashMap<String, Entry>,
}

impl RuleSet {
    /// Indexes entries; `Block` entries (which live in the blocklist table)
    /// are ignored.
    pub fn new(entries: impl IntoIterator<Item = Entry>) -> RuleSet {
        let mut set = RuleSet::default();
        for entry in entries {
            let index = match entry.kind {
                Kind::Block | Kind::Report => continue,
                Kind::Prefix => &mut set.block_prefixes,
                Kind::Allow => &mut set.allow,
                Kind::AllowPrefix => &mut set.allow_prefixes,
            };
            index.insert(entry.value.clone(), entry);
        }
        set
    }

    /// How many rules of each kind: (prefix blocks, allows, allow prefixes).
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.block_prefixes.len(),
            self.allow.len(),
            self.allow_prefixes.len(),
        )
    }

    /// The allow entry that covers `number` on a call to `line` at `now`:
    /// an exact one, else the longest allow prefix.
    pub fn allow_for(&self, number: &str, line: Option<&str>, now: i64) -> Option<&Entry> {
        self.allow
            .get(number)
            .filter(|e| e.applies_at(now, line))
            .or_else(|| longest_prefix(&self.allow_prefixes, number, |e| e.applies_at(now, line)))
    }

    /// The longest blocking prefix in force for `number` on `line` at `now`.
    pub fn block_prefix_for(&self, number: &str, line: Option<&str>, now: i64) -> Option<&Entry> {
        longest_prefix(&self.block_prefixes, number, |e| {
            e.mode == Mode::Block && e.applies_at(now, line)
        })
    }

    /// The longest monitoring prefix in force for `number` on `line` at `now`.
    pub fn monitor_prefix_for(&self, number: &str, line: Option<&str>, now: i64) -> Option<&Entry> {
        longest_prefix(&self.block_prefixes, number, |e| {
            e.mode == Mode::Monitor && e.applies_at(now, line)
        })
    }
}

/// The longest prefix of `number` whose entry `applies`: at most 15 hash
/// lookups whatever the number of rules. A longer prefix that does not
/// apply (expired, another line, another mode) leaves the shorter ones.
fn longest_prefix<'a>(
    index: &'a HashMap<String, Entry>,
    number: &str,
    applies: impl Fn(&Entry) -> bool,
) -> Option<&'a Entry> {
    if index.is_empty() || !number.is_ascii() || number.len() > MAX_E164_CHARS {
        return None;
    }
    (2..=number.len())
        .rev()
        .filter_map(|len| index.get(&number[..len]))
        .find(|e| applies(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: Kind, value: &str) -> Entry {
        Entry {
            kind,
            value: value.into(),
            ..Entry::default()
        }
    }

    #[test]
    fn longest_prefix_wins() {
        let set = RuleSet::new([
            rule(Kind::Prefix, "+1"),
            rule(Kind::Prefix, "+1900"),
            rule(Kind::Prefix, "+19005"),
        ]);
        assert_eq!(
            set.block_prefix_for("+19005551234", None, 0).unwrap().value,
            "+19005"
        );
        assert_eq!(
            set.block_prefix_for("+19001234567", None, 0).unwrap().value,
            "+1900"
        );
        assert_eq!(
            set.block_prefix_for("+14155550123", None, 0).unwrap().value,
            "+1"
        );
        assert!(set.block_prefix_for("+442079460958", None, 0).is_none());
    }

    #[test]
    fn expired_and_pending_rules_do_not_match() {
        let mut expired = rule(Kind::Prefix, "+1900");
        expired.expires_at = Some(10);
        let mut pending = rule(Kind::Allow, "+19005550000");
        pending.status = crate::entry::Status::Pending;
        let set = RuleSet::new([expired, rule(Kind::Prefix, "+1"), pending]);
        assert_eq!(
            set.block_prefix_for("+19005550000", None, 5).unwrap().value,
            "+1900"
        );
        assert_eq!(
            set.block_prefix_for("+19005550000", None, 10)
                .unwrap()
                .value,
            "+1",
            "falls back to a shorter prefix"
        );
        assert!(set.allow_for("+19005550000", None, 0).is_none());
    }

    #[test]
    fn exact_allow_before_allow_prefix() {
        let set = RuleSet::new([
            rule(Kind::AllowPrefix, "+4420"),
            rule(Kind::Allow, "+442079460958"),
        ]);
        assert_eq!(
            set.allow_for("+442079460958", None, 0).unwrap().kind,
            Kind::Allow
        );
        assert_eq!(
            set.allow_for("+442079460000", None, 0).unwrap().kind,
            Kind::AllowPrefix
        );
        assert!(set.allow_for("+441234567890", None, 0).is_none());
    }

    /// A monitoring prefix never hides a shorter blocking one, and a prefix
    /// scoped to other lines never hides one for this line.
    #[test]
    fn monitor_and_line_scoped_prefixes_leave_shorter_ones() {
        let mut watch = rule(Kind::Prefix, "+1900");
        watch.mode = Mode::Monitor;
        let mut sales_only = rule(Kind::Prefix, "+19005");
        sales_only.lines = vec!["+18005550100".into()];
        let set = RuleSet::new([rule(Kind::Prefix, "+1"), watch, sales_only]);
        let number = "+19005550123";
        let sales = Some("+18005550100");
        let support = Some("+18005550199");
        assert_eq!(
            set.block_prefix_for(number, sales, 0).unwrap().value,
            "+19005"
        );
        assert_eq!(
            set.block_prefix_for(number, support, 0).unwrap().value,
            "+1"
        );
        assert_eq!(set.block_prefix_for(number, None, 0).unwrap().value, "+1");
        assert_eq!(
            set.monitor_prefix_for(number, support, 0).unwrap().value,
            "+1900"
        );
        assert!(set.monitor_prefix_for("+14155550123", support, 0).is_none());
    }

    #[test]
    fn line_scoped_allow_entries_allow_only_on_their_lines() {
        let mut support_vip = rule(Kind::Allow, "+14155550123");
        support_vip.lines = vec!["+18005550199".into()];
        let set = RuleSet::new([support_vip]);
        assert!(
            set.allow_for("+14155550123", Some("+18005550199"), 0)
                .is_some()
        );
        assert!(
            set.allow_for("+14155550123", Some("+18005550100"), 0)
                .is_none()
        );
    }

    #[test]
    fn prefixes_are_checked() {
        for ok in ["+1", "+1900", "+882", "+441234"] {
            assert!(is_prefix(ok), "{ok}");
        }
        for bad in ["1900", "+", "+0", "+19x", "+1234567890123456", " +1900"] {
            assert!(!is_prefix(bad), "{bad}");
        }
    }
}
