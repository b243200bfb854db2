//! People's bearer tokens: who is calling, and in which role.
//!
//! Tokens are configured as `token=name:role` entries separated by commas,
//! e.g. `s3cr3t=ana:manager, t0k3n=bo:associate`.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

credit_core::named! {
    /// What a person (or a system) may do. A manager may do everything an
    /// associate or an integration may; an integration only reads the
    /// event feed and runs event delivery.
    #[derive(PartialOrd, Ord)]
    pub enum Role {
        /// Works the queues: releases orders, records payments and disputes.
        Associate = "associate",
        /// Everything an associate does, plus policy and credit-limit decisions.
        Manager = "manager",
        /// A system (the ERP, a scheduler) that reads the event feed.
        Integration = "integration",
    }
}

impl Role {
    /// Whether someone in this role may do what needs `required`.
    pub fn allows(self, required: Role) -> bool {
        self == required || self == Role::Manager
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    /// Parses a role's name (exactly, lowercase).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::parse(text).ok_or(UnknownRole)
    }
}

/// The text is not a role's name.
#[derive(Clone, Copy, Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown role: expected \"associate\", \"manager\" or \"integration\"")]
pub struct UnknownRole;

/// A caller identified by a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// The name the token was issued to.
    pub name: String,
    /// What the person may do.
    pub role: Role,
}

/// A problem in the token list. Entries are numbered from 1 and the token
/// text itself is never part of the message.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenSpecError {
    /// The entry has no `=` between token and person.
    #[error("token entry {position}: expected \"token=name:role\" but there is no '='")]
    MissingEquals {
        /// 1-based position of the entry.
        position: usize,
    },
    /// The entry has no `:` between name and role.
    #[error(
        "token entry {position}: expected \"token=name:role\" but there is no ':' after the '='"
    )]
    MissingColon {
        /// 1-based position of the entry.
        position: usize,
    },
    /// The token before `=` is empty.
    #[error("token entry {position}: the token is empty")]
    EmptyToken {
        /// 1-based position of the entry.
        position: usize,
    },
    /// The name between `=` and `:` is empty.
    #[error("token entry {position}: the name is empty")]
    EmptyName {
        /// 1-based position of the entry.
        position: usize,
    },
    /// The role is not a role's name.
    #[error(
        "token entry {position}: unknown role {role:?}, expected \"associate\", \"manager\" or \"integration\""
    )]
    UnknownRole {
        /// 1-based position of the entry.
        position: usize,
        /// The role as written.
        role: String,
    },
    /// The same token appears in an earlier entry.
    #[error("token entry {position}: the token repeats the one in entry {first}")]
    DuplicateToken {
        /// 1-based position of the repeated entry.
        position: usize,
        /// 1-based position of the entry where the token first appears.
        first: usize,
    },
}

/// The known bearer tokens and the people they belong to.
///
/// Only SHA-256 digests of the tokens are kept, and `Debug` shows only the
/// people.
#[derive(Clone, Default)]
pub struct Tokens {
    entries: Vec<TokenEntry>,
}

#[derive(Clone)]
struct TokenEntry {
    digest: TokenDigest,
    person: Person,
}

type TokenDigest = [u8; 32];

impl Tokens {
    /// Parses `token=name:role` entries separated by commas.
    ///
    /// Whitespace around entries and their parts is ignored, as are empty
    /// entries, so an empty spec means no tokens. The token ends at the last
    /// `=` of an entry, so a token may itself contain `=` (base64 padding)
    /// but a name may not; the name ends at the last `:`.
    pub fn parse(spec: &str) -> Result<Tokens, TokenSpecError> {
        let mut entries: Vec<(usize, TokenEntry)> = Vec::new();
        for (index, text) in spec.split(',').enumerate() {
            let position = index + 1;
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let entry = parse_entry(position, text)?;
            if let Some((first, _)) = entries.iter().find(|(_, e)| e.digest == entry.digest) {
                return Err(TokenSpecError::DuplicateToken {
                    position,
                    first: *first,
                });
            }
            entries.push((position, entry));
        }
        Ok(Tokens {
            entries: entries.into_iter().map(|(_, entry)| entry).collect(),
        })
    }

    /// The person a token belongs to, if any.
    ///
    /// Every entry is compared, without stopping at a match and in constant
    /// time per entry, so the time taken does not reveal how much of a
    /// guessed token was right.
    pub fn person(&self, token: &str) -> Option<&Person> {
        let wanted = digest(token);
        let mut found = None;
        for entry in &self.entries {
            if digests_equal(&entry.digest, &wanted) {
                found = Some(&entry.person);
            }
        }
        found
    }

    /// Everyone who holds a token, once each (a person may hold several),
    /// by name; a person with tokens of several roles in the widest one.
    pub fn people(&self) -> Vec<Person> {
        let mut people: Vec<Person> = vec![];
        for Person { name, role } in self.entries.iter().map(|entry| &entry.person) {
            match people.iter_mut().find(|p| &p.name == name) {
                Some(known) if role.allows(known.role) => known.role = *role,
                Some(_) => {}
                None => people.push(Person {
                    name: name.clone(),
                    role: *role,
                }),
            }
        }
        people.sort_by(|a, b| a.name.cmp(&b.name));
        people
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no tokens at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl FromStr for Tokens {
    type Err = TokenSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        Self::parse(spec)
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let people: Vec<&Person> = self.entries.iter().map(|entry| &entry.person).collect();
        f.debug_struct("Tokens")
            .field("people", &people)
            .finish_non_exhaustive()
    }
}

/// Parses one non-empty, trimmed `token=name:role` entry.
fn parse_entry(position: usize, text: &str) -> Result<TokenEntry, TokenSpecError> {
    let (token, person) = text
        .rsplit_once('=')
        .ok_or(TokenSpecError::MissingEquals { position })?;
    let (name, role) = person
        .rsplit_once(':')
        .ok_or(TokenSpecError::MissingColon { position })?;
    let (token, name, role) = (token.trim(), name.trim(), role.trim());
    if token.is_empty() {
        return Err(TokenSpecError::EmptyToken { position });
    }
    if name.is_empty() {
        return Err(TokenSpecError::EmptyName { position });
    }
    let role = role
        .parse()
        .map_err(|UnknownRole| TokenSpecError::UnknownRole {
            position,
            role: role.to_owned(),
        })?;
    Ok(TokenEntry {
        digest: digest(token),
        person: Person {
            name: name.to_owned(),
            role,
        },
    })
}

fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

/// Compares two digests without stopping at the first difference.
fn digests_equal(a: &TokenDigest, b: &TokenDigest) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// The token of an `Authorization: Bearer <token>` header.
///
/// The scheme is matched case-insensitively and surrounding whitespace is
/// ignored. Gives `None` for a missing header, another scheme, or a token
/// that is empty or contains whitespace.
pub fn bearer_token(authorization: Option<&str>) -> Option<&str> {
    let (scheme, token) = authorization?.trim().split_once(char::is_whitespace)?;
    let token = token.trim();
    let well_formed = !token.is_empty() && !token.contains(char::is_whitespace);
    (scheme.eq_ignore_ascii_case("bearer") && well_formed).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "tok-ana=Ana Lima:manager, tok-bo=Bo:associate";

    fn person(name: &str, role: Role) -> Person {
        Person {
            name: name.to_owned(),
            role,
        }
    }

    #[test]
    fn people_are_listed_once_by_name_in_their_widest_role() {
        let tokens =
            Tokens::parse("t1=bo:associate, t2=ana:associate, t3=bo:manager, t4=erp:integration")
                .unwrap();
        assert_eq!(
            tokens.people(),
            [
                person("ana", Role::Associate),
                person("bo", Role::Manager),
                person("erp", Role::Integration),
            ]
        );
    }

    #[test]
    fn manager_allows_everything_an_associate_may() {
        assert!(Role::Manager.allows(Role::Manager));
        assert!(Role::Manager.allows(Role::Associate));
        assert!(Role::Associate.allows(Role::Associate));
        assert!(!Role::Associate.allows(Role::Manager));
        assert!(Role::Manager > Role::Associate);
        assert!(Role::Manager.allows(Role::Integration));
        assert!(Role::Integration.allows(Role::Integration));
        assert!(
            !Role::Integration.allows(Role::Associate),
            "the feed and nothing else"
        );
        assert!(!Role::Associate.allows(Role::Integration));
    }

    #[test]
    fn roles_serialize_lowercase() {
        assert_eq!(
            serde_json::to_string(&Role::Manager).unwrap(),
            "\"manager\""
        );
        assert_eq!(
            serde_json::to_string(&Role::Associate).unwrap(),
            "\"associate\""
        );
        assert_eq!(Role::Associate.to_string(), "associate");
    }

    #[test]
    fn roles_parse_exactly() {
        assert_eq!("manager".parse(), Ok(Role::Manager));
        assert_eq!("associate".parse(), Ok(Role::Associate));
        assert_eq!("Manager".parse::<Role>(), Err(UnknownRole));
        assert_eq!("admin".parse::<Role>(), Err(UnknownRole));
    }

    #[test]
    fn finds_the_person_of_each_token() {
        let tokens = Tokens::parse(SPEC).unwrap();
        assert_eq!(tokens.len(), 2);
        assert_eq!(
            tokens.person("tok-ana"),
            Some(&person("Ana Lima", Role::Manager))
        );
        assert_eq!(
            tokens.person("tok-bo"),
            Some(&person("Bo", Role::Associate))
        );
    }

    #[test]
    fn unknown_or_near_miss_tokens_find_nobody() {
        let tokens = Tokens::parse(SPEC).unwrap();
        for token in ["", "tok-an", "tok-ana ", "TOK-ANA", "tok-anaa", "Ana Lima"] {
            assert_eq!(tokens.person(token), None, "token {token:?}");
        }
    }

    #[test]
    fn whitespace_around_entries_and_parts_is_trimmed() {
        let tokens = Tokens::parse("  a = Ana : manager ,\n\tb=Bo:associate  ").unwrap();
        assert_eq!(tokens.person("a"), Some(&person("Ana", Role::Manager)));
        assert_eq!(tokens.person("b"), Some(&person("Bo", Role::Associate)));
    }

    #[test]
    fn empty_spec_means_no_tokens() {
        for spec in ["", "   ", ",", " , , "] {
            let tokens = Tokens::parse(spec).unwrap();
            assert!(tokens.is_empty(), "spec {spec:?}");
            assert_eq!(tokens.person(""), None);
        }
    }

    #[test]
    fn trailing_comma_is_allowed() {
        let tokens = Tokens::parse("a=Ana:manager,").unwrap();
        assert_eq!(tokens.len(), 1);
    }

    #[test]
    fn token_may_contain_equals_and_colon() {
        let tokens = Tokens::parse("dG9rZW4:x==:=Ana:manager").unwrap();
        assert_eq!(
            tokens.person("dG9rZW4:x==:"),
            Some(&person("Ana", Role::Manager))
        );
    }

    #[test]
    fn missing_equals_is_reported_by_position() {
        assert_eq!(
            Tokens::parse("a=Ana:manager, secret-token Bo:associate").unwrap_err(),
            TokenSpecError::MissingEquals { position: 2 }
        );
    }

    #[test]
    fn missing_colon_is_reported_by_position() {
        assert_eq!(
            Tokens::parse("secret=Ana manager").unwrap_err(),
            TokenSpecError::MissingColon { position: 1 }
        );
    }

    #[test]
    fn empty_token_is_reported_by_position() {
        assert_eq!(
            Tokens::parse("a=Ana:manager,,  =Bo:associate").unwrap_err(),
            TokenSpecError::EmptyToken { position: 3 }
        );
    }

    #[test]
    fn empty_name_is_reported_by_position() {
        assert_eq!(
            Tokens::parse("secret= :manager").unwrap_err(),
            TokenSpecError::EmptyName { position: 1 }
        );
    }

    #[test]
    fn unknown_role_is_reported_by_position() {
        assert_eq!(
            Tokens::parse("a=Ana:manager,secret=Bo:admin").unwrap_err(),
            TokenSpecError::UnknownRole {
                position: 2,
                role: "admin".to_owned()
            }
        );
        assert_eq!(
            Tokens::parse("secret=Bo:").unwrap_err(),
            TokenSpecError::UnknownRole {
                position: 1,
                role: String::new()
            }
        );
    }

    #[test]
    fn duplicate_token_is_reported_by_both_positions() {
        assert_eq!(
            Tokens::parse("secret=Ana:manager, b=Bo:associate, secret =Cy:associate").unwrap_err(),
            TokenSpecError::DuplicateToken {
                position: 3,
                first: 1
            }
        );
    }

    #[test]
    fn error_messages_do_not_contain_the_token() {
        let specs = [
            "secret-token Bo:associate",
            "secret-token=Bo associate",
            "secret-token= :associate",
            "secret-token=Bo:admin",
            "secret-token=Bo:associate,secret-token=Cy:manager",
        ];
        for spec in specs {
            let message = Tokens::parse(spec).unwrap_err().to_string();
            assert!(!message.contains("secret-token"), "{message}");
            assert!(message.starts_with("token entry "), "{message}");
        }
    }

    #[test]
    fn debug_output_shows_people_but_no_tokens() {
        let tokens = Tokens::parse(SPEC).unwrap();
        let printed = format!("{tokens:?}");
        assert!(!printed.contains("tok-ana"), "{printed}");
        assert!(!printed.contains("tok-bo"), "{printed}");
        assert!(printed.contains("Ana Lima"), "{printed}");
        let pretty = format!("{tokens:#?}");
        assert!(!pretty.contains("tok-"), "{pretty}");
    }

    #[test]
    fn bearer_token_is_extracted() {
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("BEARER abc")), Some("abc"));
        assert_eq!(bearer_token(Some("  Bearer   abc  ")), Some("abc"));
        assert_eq!(bearer_token(Some("Bearer\tabc")), Some("abc"));
        assert_eq!(bearer_token(Some("Bearer abc==")), Some("abc=="));
    }

    #[test]
    fn bearer_token_refuses_anything_else() {
        assert_eq!(bearer_token(None), None);
        for header in [
            "",
            "Bearer",
            "Bearer ",
            "Bearer    ",
            "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
            "Bearerabc",
            "abc",
            "Bearer abc def",
            "Token abc",
        ] {
            assert_eq!(bearer_token(Some(header)), None, "header {header:?}");
        }
    }
}
