//! Instances per account: which Identity Center instances each audited account sees.

use crate::model::{Instance, InstanceType, Inventory};

/// One row of the `idc_instances` report. `instance` is `None` for an audited account
/// that sees no instance at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceRow<'a> {
    pub account_id: &'a str,
    pub account_name: &'a str,
    pub instance: Option<&'a Instance>,
}

/// A row per audited account and instance it can see, in the order Organizations listed
/// the accounts; within an account the organization instance comes first.
pub fn instance_rows(inventory: &Inventory) -> Vec<InstanceRow<'_>> {
    let mut rows = Vec::new();
    for account in &inventory.accounts {
        let Some(arns) = inventory.visible_instances.get(&account.id) else {
            continue;
        };
        let mut seen: Vec<&Instance> = arns.iter().filter_map(|arn| inventory.instances.get(arn)).collect();
        seen.sort_by(|a, b| {
            (a.instance_type != InstanceType::Organization, &a.arn)
                .cmp(&(b.instance_type != InstanceType::Organization, &b.arn))
        });
        seen.dedup_by(|a, b| a.arn == b.arn);
        if seen.is_empty() {
            rows.push(InstanceRow {
                account_id: account.id.as_str(),
                account_name: &account.name,
                instance: None,
            });
        }
        for instance in seen {
            rows.push(InstanceRow {
                account_id: account.id.as_str(),
                account_name: &account.name,
                instance: Some(instance),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Account, AccountId, IdentityStoreId, InstanceArn};

    fn instance(arn: &str, store: &str, owner: &str, kind: InstanceType) -> Instance {
        Instance {
            arn: InstanceArn::from(arn),
            identity_store_id: IdentityStoreId::from(store),
            owner_account_id: AccountId::from(owner),
            instance_type: kind,
            region: "us-east-1".into(),
            name: String::new(),
            status: "ACTIVE".into(),
            replicas: Vec::new(),
        }
    }

    #[test]
    fn rows_per_account_and_instance_with_empty_row_for_none() {
        let org = instance(
            "arn:aws:sso:::instance/ssoins-b",
            "d-111122223333",
            "111122223333",
            InstanceType::Organization,
        );
        let acct = instance(
            "arn:aws:sso:::instance/ssoins-a",
            "d-111111111111",
            "111122221111",
            InstanceType::Account,
        );
        let mut inv = Inventory::default();
        for (id, name) in [
            ("111122223333", "mgmt"),
            ("111122224444", "none"),
            ("111122221111", "both"),
            ("111122225555", "failed"),
        ] {
            inv.accounts.push(Account {
                id: AccountId::from(id),
                name: name.into(),
                state: "ACTIVE".into(),
            });
        }
        inv.instances.insert(org.arn.clone(), org.clone());
        inv.instances.insert(acct.arn.clone(), acct.clone());
        inv.visible_instances
            .insert(AccountId::from("111122223333"), vec![org.arn.clone()]);
        inv.visible_instances.insert(AccountId::from("111122224444"), vec![]);
        inv.visible_instances.insert(
            AccountId::from("111122221111"),
            vec![acct.arn.clone(), org.arn.clone(), acct.arn.clone()],
        );
        let rows = instance_rows(&inv);
        let got: Vec<(&str, Option<&str>)> = rows
            .iter()
            .map(|r| (r.account_id, r.instance.map(|i| i.identity_store_id.as_str())))
            .collect();
        assert_eq!(
            got,
            vec![
                ("111122223333", Some("d-111122223333")),
                ("111122224444", None),
                ("111122221111", Some("d-111122223333")),
                ("111122221111", Some("d-111111111111")),
            ]
        );
    }
}
