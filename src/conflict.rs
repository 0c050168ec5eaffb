//! Conflict of interest: a user whose name (or a configured alias) appears in a report's text or
//! subject is excluded from that report's case — not in their queue, search or counts, 404 on every
//! read and write. The names of every user are compiled into one Aho-Corasick automaton, rebuilt
//! when users change (a counter in the database moves with every change, so the server notices
//! changes made by `tipline user …` in another process). Exclusions are computed at intake for the
//! users whose jurisdiction covers the case, and backfilled over stored reports when a user is
//! added or gets an alias (`Store::backfill_exclusions`).

use crate::scope::Scope;
use crate::store::User;
use aho_corasick::{AhoCorasick, MatchKind};

/// A user named in a text: the user and the name or alias found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The user.
    pub user_id: i64,
    /// The name or alias as configured.
    pub matched: String,
}

/// Where a case is handled, as the scope check needs it.
#[derive(Debug, Clone, Copy)]
pub struct CasePlace<'a> {
    /// Handling division or `home`.
    pub handling: &'a str,
    /// County-level locus.
    pub locus: Option<&'a str>,
    /// Transfer target.
    pub transfer: Option<&'a str>,
}

/// The names of a deployment's users, compiled.
#[derive(Debug, Default)]
pub struct Matcher {
    automaton: Option<AhoCorasick>,
    /// Per pattern: the owner's index in `users` and the name as configured.
    patterns: Vec<(usize, String)>,
    users: Vec<(User, Scope)>,
}

/// The comparable form of a name or a text: NFKC, simplified characters, ASCII lower case.
fn fold(text: &str) -> String {
    intake::normalize_text(text).to_ascii_lowercase()
}

/// Whether a name is distinctive enough to look for: two characters of Chinese, or three letters
/// or digits of ASCII (matched as a whole word, so that `li` does not fire inside `police`).
fn usable(name: &str) -> bool {
    let n = name.chars().count();
    if name.is_ascii() {
        n >= 3
    } else {
        n >= 2
    }
}

impl Matcher {
    /// Compiles the users' names and aliases; `home` is the deployment's home jurisdiction.
    pub fn new(users: Vec<(User, Vec<String>)>, home: Option<&str>) -> Matcher {
        let mut words = Vec::new();
        let mut patterns = Vec::new();
        let mut owners = Vec::new();
        for (i, (user, aliases)) in users.into_iter().enumerate() {
            for name in std::iter::once(user.name.clone()).chain(aliases) {
                let folded = fold(name.trim());
                if usable(&folded) {
                    words.push(folded);
                    patterns.push((i, name.trim().to_string()));
                }
            }
            let scope = Scope::of(&user, home);
            owners.push((user, scope));
        }
        let automaton = (!words.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&words)
                    .ok()
            })
            .flatten();
        Matcher {
            automaton,
            patterns,
            users: owners,
        }
    }

    /// The users named in the texts (each once, with the first name found).
    pub fn named<'t>(&self, texts: impl IntoIterator<Item = &'t str>) -> Vec<Named> {
        let Some(ac) = &self.automaton else {
            return Vec::new();
        };
        let mut found: Vec<Named> = Vec::new();
        for text in texts {
            let hay = fold(text);
            // Overlapping: 王伟 inside 王伟东 and 伟东 are both names of someone.
            for m in ac.find_overlapping_iter(&hay) {
                let (owner, name) = &self.patterns[m.pattern().as_usize()];
                if name.is_ascii() && !whole_word(&hay, m.start(), m.end()) {
                    continue;
                }
                let user_id = self.users[*owner].0.id;
                if !found.iter().any(|n| n.user_id == user_id) {
                    found.push(Named {
                        user_id,
                        matched: name.clone(),
                    });
                }
            }
        }
        found
    }

    /// The users named in the texts whose jurisdiction covers a case handled at `place`.
    pub fn excluded<'t>(
        &self,
        texts: impl IntoIterator<Item = &'t str>,
        place: CasePlace<'_>,
    ) -> Vec<Named> {
        let mut named = self.named(texts);
        named.retain(|n| {
            self.users
                .iter()
                .find(|(u, _)| u.id == n.user_id)
                .is_some_and(|(_, scope)| scope.sees(place.handling, place.locus, place.transfer))
        });
        named
    }
}

fn whole_word(hay: &str, start: usize, end: usize) -> bool {
    let before = hay[..start].chars().next_back();
    let after = hay[end..].chars().next();
    !before.is_some_and(|c| c.is_ascii_alphanumeric())
        && !after.is_some_and(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Role;

    fn user(id: i64, name: &str, code: &str) -> User {
        User {
            id,
            name: name.into(),
            role: Role::Officer,
            jurisdiction: code.into(),
        }
    }

    #[test]
    fn names_and_aliases_are_found_in_their_jurisdiction_only() {
        let m = Matcher::new(
            vec![
                (user(1, "zhangwei", "210302"), vec!["张伟".into()]),
                (user(2, "li", "210302"), vec!["李華".into()]),
                (user(3, "wangfang", "210303"), vec!["王芳".into()]),
            ],
            Some("210300"),
        );
        let tiedong = CasePlace {
            handling: "210302",
            locus: Some("210302"),
            transfer: None,
        };
        let found = m.excluded(
            ["举报铁东区某培训学校，监管人员張偉收了好处，王芳也知情"],
            tiedong,
        );
        assert_eq!(
            found,
            vec![Named {
                user_id: 1,
                matched: "张伟".into()
            }],
            "traditional characters fold; 王芳 is out of the case's jurisdiction"
        );
        assert_eq!(
            m.named(["the police said"]).len(),
            0,
            "short ASCII names are not looked for"
        );
        assert_eq!(m.named(["ZhangWei took money"]).len(), 1);
        assert_eq!(
            m.named(["zhangweiming"]).len(),
            0,
            "ASCII names match whole words"
        );
        assert_eq!(m.named(["李华说"]).len(), 1, "aliases fold too");
    }
}
