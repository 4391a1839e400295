//! Duplicated people: the same email in two or more identity stores.
//!
//! User names and emails are unique within one store, so a duplicate person can only
//! exist across stores. Emails are compared in Unicode NFC, trimmed and lower-cased: a
//! precomposed `é` and `e` followed by a combining accent are one address, while
//! distinct letters stay distinct (`ß` and `ss`, dotless `ı` and `i`, an invisible
//! zero-width space), as they are different addresses to a mail system. Every email of
//! a user counts; a store seen through many accounts is still one store.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use foldhash::HashMap;
use unicode_normalization::UnicodeNormalization;

use crate::model::{AccountId, IdentityStoreId, Instance, StoreContents};

/// One row of the `duplicated_users` report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateRow {
    /// The normalised email.
    pub email: String,
    /// The stores holding it, sorted.
    pub store_ids: Vec<IdentityStoreId>,
    /// User names holding it across those stores, sorted, unique.
    pub user_names: Vec<String>,
    /// Owners of the instances of those stores, sorted, unique.
    pub owner_account_ids: Vec<AccountId>,
}

/// Composes an email to Unicode NFC, then trims and lower-cases it; `None` when nothing
/// is left. Borrows when the email is already in that form (lower-case ASCII, the usual
/// case: ASCII is always NFC), so most emails are not copied.
pub fn normalize_email(email: &str) -> Option<Cow<'_, str>> {
    let trimmed = email.trim();
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        return Some(Cow::Borrowed(trimmed));
    }
    let composed: String = email.nfc().collect();
    let normal = composed.trim().to_lowercase();
    (!normal.is_empty()).then_some(Cow::Owned(normal))
}

/// Every email present in two or more distinct stores, sorted by email.
/// `instances` gives each store's owner account.
///
/// Works on one flat list of (email, store, user name) entries rather than a map of
/// maps: with 100,000 users, per-email tree nodes cost more memory than the users. A
/// hash pass finds the emails held by two or more stores; only their entries are sorted.
pub fn duplicated_users<'a>(
    stores: &BTreeMap<IdentityStoreId, StoreContents>,
    instances: impl IntoIterator<Item = &'a Instance>,
) -> Vec<DuplicateRow> {
    let owners: BTreeMap<&IdentityStoreId, &AccountId> = instances
        .into_iter()
        .map(|i| (&i.identity_store_id, &i.owner_account_id))
        .collect();
    let entries: Vec<(Cow<'_, str>, &IdentityStoreId, &str)> = stores
        .iter()
        .flat_map(|(store_id, contents)| {
            contents.users.iter().flat_map(move |user| {
                user.emails
                    .iter()
                    .filter_map(|e| normalize_email(e))
                    .map(move |email| (email, store_id, user.user_name.as_str()))
            })
        })
        .collect();
    // Per email: the first store seen, and whether another store holds it too.
    let mut first_store: HashMap<&str, (&IdentityStoreId, bool)> =
        HashMap::with_capacity_and_hasher(entries.len(), Default::default());
    for (email, store_id, _) in &entries {
        first_store
            .entry(email.as_ref())
            .and_modify(|(first, shared)| *shared |= *first != *store_id)
            .or_insert((*store_id, false));
    }
    let mut shared: Vec<&(Cow<'_, str>, &IdentityStoreId, &str)> = entries
        .iter()
        .filter(|(email, _, _)| first_store.get(email.as_ref()).is_some_and(|(_, shared)| *shared))
        .collect();
    drop(first_store);
    shared.sort_unstable();
    shared.dedup();
    shared
        .chunk_by(|a, b| a.0 == b.0)
        .map(|same_email| {
            let store_ids: BTreeSet<&IdentityStoreId> = same_email.iter().map(|e| e.1).collect();
            let user_names: BTreeSet<&str> = same_email.iter().map(|e| e.2).collect();
            let owner_account_ids: BTreeSet<&AccountId> =
                store_ids.iter().filter_map(|s| owners.get(*s).copied()).collect();
            DuplicateRow {
                email: same_email[0].0.clone().into_owned(),
                store_ids: store_ids.into_iter().cloned().collect(),
                user_names: user_names.into_iter().map(str::to_owned).collect(),
                owner_account_ids: owner_account_ids.into_iter().cloned().collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InstanceArn, InstanceType, User, UserId};

    fn user(name: &str, emails: &[&str]) -> User {
        User {
            user_id: UserId::from(format!("id-{name}").as_str()),
            user_name: name.into(),
            emails: emails.iter().map(|e| (*e).to_owned()).collect(),
            status: None,
        }
    }

    fn stores(spec: &[(&str, Vec<User>)]) -> BTreeMap<IdentityStoreId, StoreContents> {
        spec.iter()
            .map(|(id, users)| {
                (
                    IdentityStoreId::from(*id),
                    StoreContents {
                        users: users.clone(),
                        ..Default::default()
                    },
                )
            })
            .collect()
    }

    fn instance(store: &str, owner: &str) -> Instance {
        Instance {
            arn: InstanceArn::from(format!("arn:aws:sso:::instance/ssoins-{store}").as_str()),
            identity_store_id: IdentityStoreId::from(store),
            owner_account_id: AccountId::from(owner),
            instance_type: InstanceType::Account,
            region: "us-east-1".into(),
            name: String::new(),
            status: "ACTIVE".into(),
            replicas: Vec::new(),
        }
    }

    #[test]
    fn normalisation_trims_and_lowercases() {
        assert_eq!(
            normalize_email("  Alice@Example.COM "),
            Some("alice@example.com".into())
        );
        assert_eq!(normalize_email("   "), None);
        assert_eq!(normalize_email("ÉLODIE@exemple.fr"), Some("élodie@exemple.fr".into()));
    }

    #[test]
    fn the_blog_duplicates() {
        let s = stores(&[
            (
                "d-111122223333",
                vec![
                    user("u1", &["username+adminuser@domain.com"]),
                    user("u2", &["username2+adminuser@domain.com"]),
                    user("solo", &["solo@domain.com"]),
                ],
            ),
            (
                "d-111111111111",
                vec![
                    user("u1", &["username+adminuser@domain.com"]),
                    user("u2", &["username2+adminuser@domain.com"]),
                    user("u3", &["username3+adminuser@domain.com"]),
                ],
            ),
            (
                "d-222222222222",
                vec![
                    user("u2", &["username2+adminuser@domain.com"]),
                    user("u3", &["username3+adminuser@domain.com"]),
                ],
            ),
        ]);
        let inst = [
            instance("d-111122223333", "111122223333"),
            instance("d-111111111111", "111122221111"),
            instance("d-222222222222", "111122225555"),
        ];
        let rows = duplicated_users(&s, inst.iter());
        let got: Vec<(String, Vec<String>)> = rows
            .iter()
            .map(|r| (r.email.clone(), r.store_ids.iter().map(|s| s.to_string()).collect()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "username+adminuser@domain.com".into(),
                    vec!["d-111111111111".into(), "d-111122223333".into()]
                ),
                (
                    "username2+adminuser@domain.com".into(),
                    vec![
                        "d-111111111111".into(),
                        "d-111122223333".into(),
                        "d-222222222222".into()
                    ]
                ),
                (
                    "username3+adminuser@domain.com".into(),
                    vec!["d-111111111111".into(), "d-222222222222".into()]
                ),
            ]
        );
        assert_eq!(rows[1].owner_account_ids.len(), 3);
    }

    #[test]
    fn case_spaces_and_second_emails_match_but_one_store_is_not_a_duplicate() {
        let s = stores(&[
            (
                "d-1",
                vec![
                    user("a", &["Bob@X.com"]),
                    user("a2", &[" bob@x.com"]),
                    user("nomail", &[]),
                    user("two", &["one@x.com", "Two@x.com"]),
                ],
            ),
            (
                "d-2",
                vec![
                    user("b", &["bob@x.com  "]),
                    user("t", &["two@X.COM"]),
                    user("blank", &["  "]),
                ],
            ),
        ]);
        let rows = duplicated_users(&s, std::iter::empty());
        let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
        assert_eq!(emails, vec!["bob@x.com", "two@x.com"]);
        assert_eq!(rows[0].user_names, vec!["a", "a2", "b"]);
        assert!(rows[0].owner_account_ids.is_empty());
    }

    #[test]
    fn precomposed_and_decomposed_letters_are_one_address() {
        let precomposed = "\u{e9}lodie@exemple.fr"; // é
        let decomposed = "e\u{301}lodie@exemple.fr"; // e + combining acute accent
        assert_ne!(precomposed, decomposed);
        assert_eq!(normalize_email(decomposed), normalize_email(precomposed));
        assert_eq!(normalize_email(precomposed).as_deref(), Some(precomposed));
        // Upper case and spaces too: É decomposed, then lower-cased.
        assert_eq!(
            normalize_email("  E\u{301}LODIE@Exemple.FR ").as_deref(),
            Some(precomposed)
        );
        let s = stores(&[
            ("d-1", vec![user("a", &[precomposed])]),
            ("d-2", vec![user("b", &[decomposed])]),
        ]);
        let rows = duplicated_users(&s, std::iter::empty());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].email, precomposed);
        assert_eq!(rows[0].user_names, vec!["a", "b"]);
    }

    #[test]
    fn distinct_letters_stay_distinct_addresses() {
        for (a, b) in [
            ("stra\u{df}e@x.de", "strasse@x.de"), // ß and ss
            ("\u{131}nci@x.com", "inci@x.com"),   // dotless ı and i
            ("bob\u{200b}@x.com", "bob@x.com"),   // a zero-width space inside
            ("\u{200b}bob@x.com", "bob@x.com"),   // and leading: not white space, not trimmed
        ] {
            assert_ne!(normalize_email(a), normalize_email(b), "{a:?} vs {b:?}");
        }
        let s = stores(&[
            ("d-1", vec![user("a", &["stra\u{df}e@x.de", "\u{131}nci@x.com"])]),
            (
                "d-2",
                vec![user("b", &["strasse@x.de", "inci@x.com", "bob\u{200b}@x.com"])],
            ),
            ("d-3", vec![user("c", &["bob@x.com"])]),
        ]);
        assert!(duplicated_users(&s, std::iter::empty()).is_empty());
    }

    #[test]
    fn emails_already_normal_are_borrowed() {
        assert!(matches!(
            normalize_email(" bob@x.com"),
            Some(Cow::Borrowed("bob@x.com"))
        ));
        assert!(matches!(normalize_email("Bob@x.com"), Some(Cow::Owned(_))));
        assert!(matches!(normalize_email("élodie@x.fr"), Some(Cow::Owned(_))));
    }

    #[test]
    fn same_store_twice_is_never_a_duplicate() {
        // One store in the map once, whatever number of accounts see it.
        let s = stores(&[("d-1", vec![user("a", &["a@x.com"]), user("b", &["A@x.com"])])]);
        assert!(duplicated_users(&s, std::iter::empty()).is_empty());
    }
}
