//! Platform accounts bound to certificate holders (扫码绑定, 共享注册): [`AccountStore`].
//!
//! A login with a certificate the platform does not know leads to a registration; the
//! account it makes is keyed by the holder's identity as the certificate states it
//! ([`identity_key`]: organisation certificates by USCC and holder name, personal ones by the
//! identity document and name), not by the certificate's serial, so a renewed or reissued
//! certificate of the same holder finds the same account. Registrations are approved at once
//! or wait for staff (`pending` → `active` or `refused`, a compare-and-set like the
//! transactions' states). Every store keeps accounts: [`super::MemoryStore`], `SqliteStore`
//! and `PostgresStore` (table `accounts`, migration `0002_accounts.sql`), so several server
//! instances on one PostgreSQL database share them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{BoxFuture, MemoryStore, StoreError};
use crate::pki::Subject;
use crate::protocol::{SharedRegistration, SubjectType};

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AccountStatus {
    /// Registered, waiting for staff approval (待平台后台审核).
    Pending,
    /// Approved (automatically or by staff): logins of the holder map to it.
    Active,
    /// Refused by staff; the holder may register again.
    Refused,
}

impl AccountStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Refused => "refused",
        }
    }
}

/// A platform account bound to a certificate holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The account id (`A` and 16 hex digits in the reference server).
    pub id: String,
    /// The holder's identity ([`identity_key`]): what binds later certificates to it.
    pub identity_key: String,
    /// Pending, active or refused.
    pub status: AccountStatus,
    /// The holder's name (from the certificate).
    pub name: String,
    /// The organisation (from the certificate), for organisation certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The certificate subject that registered (identity, serial, issuer).
    pub subject: Subject,
    /// Registration data the holder shared and the registration form completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<SharedRegistration>,
    /// CA vendor of the registering certificate.
    pub ca_org_type: String,
    /// Unix seconds.
    pub created_at: i64,
    /// When it was approved or refused, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<i64>,
    /// Who decided or why (`approved automatically`, the refusal reason, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The identity a binding is keyed by, from a verified certificate's subject, or `None` when
/// the certificate states none a platform could bind to (no USCC, no identity number):
/// - organisation certificate: `org:<USCC>:<holder name>`;
/// - personal certificate: `person:<identity type or "id">:<number>:<name>` (a passport's
///   number with its country).
///
/// The serial is not part of it: a renewed or reissued certificate (new serial, same holder)
/// maps to the same account.
pub fn identity_key(subject: &Subject) -> Option<String> {
    match subject.subject_type {
        SubjectType::Org => {
            let uscc = subject.uscc.as_deref()?.trim();
            (!uscc.is_empty()).then(|| format!("org:{}:{}", uscc.to_uppercase(), subject.name))
        }
        SubjectType::Personal => {
            let number = subject.identity_number.as_deref()?.trim();
            if number.is_empty() {
                return None;
            }
            let kind = subject
                .identity_type
                .and_then(|t| serde_json::to_value(t).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "id".into());
            let country = subject
                .identity_country
                .as_deref()
                .map(|c| format!("{c}-"))
                .unwrap_or_default();
            Some(format!(
                "person:{kind}:{country}{}:{}",
                number.to_uppercase(),
                subject.name
            ))
        }
    }
}

/// Where a platform keeps its accounts.
pub trait AccountStore: Send + Sync + std::fmt::Debug {
    /// Stores a new account. `Duplicate` when an account with the same identity key is
    /// pending or active; a refused one is replaced.
    fn insert_account(&self, account: Account) -> BoxFuture<'_, Result<(), StoreError>>;
    /// The account with this id.
    fn account<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Account>, StoreError>>;
    /// The account of this identity key.
    fn account_by_identity<'a>(
        &'a self,
        identity_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Account>, StoreError>>;
    /// The accounts with this status (all when `None`), oldest first.
    fn accounts(
        &self,
        status: Option<AccountStatus>,
    ) -> BoxFuture<'_, Result<Vec<Account>, StoreError>>;
    /// Approves or refuses a pending account (compare-and-set: only from `pending`);
    /// `NotFound`, or `Backend` naming the status it has when it is not pending.
    fn decide_account<'a>(
        &'a self,
        id: &'a str,
        to: AccountStatus,
        at: i64,
        note: &'a str,
    ) -> BoxFuture<'a, Result<Account, StoreError>>;
}

/// Why a decision cannot be made on an account in `status`.
pub(super) fn not_pending(id: &str, status: AccountStatus) -> StoreError {
    StoreError::Backend(format!(
        "account {id} is {}, not pending: it was decided already",
        status.as_str()
    ))
}

/// `to` must be a decision.
pub(super) fn check_decision(to: AccountStatus) -> Result<(), StoreError> {
    match to {
        AccountStatus::Pending => Err(StoreError::Backend(
            "an account decision is active or refused, not pending".into(),
        )),
        _ => Ok(()),
    }
}

impl AccountStore for MemoryStore {
    fn insert_account(&self, account: Account) -> BoxFuture<'_, Result<(), StoreError>> {
        let r = self.with(|s| {
            if let Some(i) = s
                .accounts
                .iter()
                .position(|a| a.identity_key == account.identity_key)
            {
                if s.accounts[i].status != AccountStatus::Refused {
                    return Err(StoreError::Duplicate(account.identity_key.clone()));
                }
                s.accounts.remove(i);
            }
            s.accounts.push(account);
            Ok(())
        });
        Box::pin(async move { r })
    }

    fn account<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Account>, StoreError>> {
        let r = self.with(|s| Ok(s.accounts.iter().find(|a| a.id == id).cloned()));
        Box::pin(async move { r })
    }

    fn account_by_identity<'a>(
        &'a self,
        identity_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Account>, StoreError>> {
        let r = self.with(|s| {
            Ok(s.accounts
                .iter()
                .find(|a| a.identity_key == identity_key)
                .cloned())
        });
        Box::pin(async move { r })
    }

    fn accounts(
        &self,
        status: Option<AccountStatus>,
    ) -> BoxFuture<'_, Result<Vec<Account>, StoreError>> {
        let r = self.with(|s| {
            Ok(s.accounts
                .iter()
                .filter(|a| status.is_none_or(|st| a.status == st))
                .cloned()
                .collect())
        });
        Box::pin(async move { r })
    }

    fn decide_account<'a>(
        &'a self,
        id: &'a str,
        to: AccountStatus,
        at: i64,
        note: &'a str,
    ) -> BoxFuture<'a, Result<Account, StoreError>> {
        let r = check_decision(to).and_then(|()| {
            self.with(|s| {
                let a = s
                    .accounts
                    .iter_mut()
                    .find(|a| a.id == id)
                    .ok_or_else(|| StoreError::NotFound(format!("account {id}")))?;
                if a.status != AccountStatus::Pending {
                    return Err(not_pending(id, a.status));
                }
                a.status = to;
                a.decided_at = Some(at);
                a.note = Some(note.to_string());
                Ok(a.clone())
            })
        });
        Box::pin(async move { r })
    }
}

/// What every account store does (run against each in `store::tests`).
#[cfg(test)]
pub(super) async fn accounts_behave(store: std::sync::Arc<dyn AccountStore>) {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use crate::protocol::CertType;

    let subject = |name: &str, sn: &str, uscc: Option<&str>| Subject {
        name: name.into(),
        organization: uscc.map(|_| "某某建设有限公司".into()),
        cert_type: if uscc.is_some() {
            CertType::OrgCert
        } else {
            CertType::PersonalCert
        },
        subject_type: if uscc.is_some() {
            SubjectType::Org
        } else {
            SubjectType::Personal
        },
        identity_number: uscc.is_none().then(|| "11010519491231002X".into()),
        identity_type: None,
        identity_country: None,
        uscc: uscc.map(str::to_string),
        cert_sn: sn.into(),
        issuer: "camr Demo CA".into(),
        not_before: 1_700_000_000,
        not_after: 1_800_000_000,
    };
    let account = |id: &str, s: Subject, status: AccountStatus| Account {
        id: id.into(),
        identity_key: identity_key(&s).unwrap(),
        status,
        name: s.name.clone(),
        organization: s.organization.clone(),
        registration: Some(SharedRegistration {
            mobile: Some("13800138000".into()),
            email: Some("zhang@example.cn".into()),
            ..SharedRegistration::default()
        }),
        ca_org_type: "SOFTCA".into(),
        subject: s,
        created_at: 1_700_000_100,
        decided_at: None,
        note: None,
    };
    let org = subject("张三", "0A", Some("91350100M000100Y43"));
    // Renewal: another serial, the same holder → the same key; another holder → another.
    assert_eq!(
        identity_key(&org),
        identity_key(&subject("张三", "0B", Some("91350100m000100y43")))
    );
    assert_ne!(
        identity_key(&org),
        identity_key(&subject("李四", "0A", Some("91350100M000100Y43")))
    );
    assert_eq!(
        identity_key(&subject("王五", "0C", None)).unwrap(),
        "person:id:11010519491231002X:王五"
    );
    let mut anonymous = subject("无名", "0D", None);
    anonymous.identity_number = None;
    assert_eq!(identity_key(&anonymous), None);

    assert!(store.accounts(None).await.unwrap().is_empty());
    let a = account("A1", org.clone(), AccountStatus::Pending);
    store.insert_account(a.clone()).await.unwrap();
    assert_eq!(store.account("A1").await.unwrap(), Some(a.clone()));
    assert_eq!(
        store.account_by_identity(&a.identity_key).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(store.account("A9").await.unwrap(), None);
    // The same holder cannot register twice while pending.
    let again = account("A2", org.clone(), AccountStatus::Pending);
    assert!(matches!(
        store.insert_account(again.clone()).await.unwrap_err(),
        StoreError::Duplicate(_)
    ));
    let b = account("B1", subject("王五", "0C", None), AccountStatus::Active);
    store.insert_account(b.clone()).await.unwrap();
    assert_eq!(
        store.accounts(Some(AccountStatus::Pending)).await.unwrap(),
        vec![a.clone()]
    );
    assert_eq!(store.accounts(None).await.unwrap().len(), 2);
    // Decisions are a compare-and-set from pending.
    assert!(
        store
            .decide_account("A1", AccountStatus::Pending, 1, "x")
            .await
            .is_err()
    );
    let refused = store
        .decide_account("A1", AccountStatus::Refused, 1_700_000_200, "资料不全")
        .await
        .unwrap();
    assert_eq!(refused.status, AccountStatus::Refused);
    assert_eq!(refused.note.as_deref(), Some("资料不全"));
    let e = store
        .decide_account("A1", AccountStatus::Active, 1_700_000_300, "staff")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("refused, not pending"), "{e}");
    assert!(matches!(
        store
            .decide_account("A9", AccountStatus::Active, 1, "staff")
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));
    // After a refusal the holder may register again; approved, it is active.
    store.insert_account(again.clone()).await.unwrap();
    assert_eq!(store.account("A1").await.unwrap(), None);
    let active = store
        .decide_account("A2", AccountStatus::Active, 1_700_000_400, "staff")
        .await
        .unwrap();
    assert_eq!(active.status, AccountStatus::Active);
    assert_eq!(active.decided_at, Some(1_700_000_400));
    assert_eq!(
        store
            .account_by_identity(&again.identity_key)
            .await
            .unwrap(),
        Some(active.clone())
    );
    assert!(
        store
            .accounts(Some(AccountStatus::Pending))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.accounts(Some(AccountStatus::Active)).await.unwrap(),
        vec![b, active]
    );
}

/// The SQL stores' account methods: the same statements with the database's placeholders.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! sql_account_store {
    ($store:ty, $db:literal, insert: $insert:literal, delete_refused: $delete:literal,
     by_id: $by_id:literal, by_key: $by_key:literal, all: $all:literal, with_status: $with:literal,
     decide: $decide:literal) => {
        impl AccountStore for $store {
            fn insert_account(&self, account: Account) -> BoxFuture<'_, Result<(), StoreError>> {
                Box::pin(async move {
                    let fail = |what: &'static str| {
                        move |e: sqlx::Error| {
                            StoreError::Backend(format!("{} could not {what}: {e}", $db))
                        }
                    };
                    let subject = super::rows::to_json("account subject", &account.subject)?;
                    let registration = account
                        .registration
                        .as_ref()
                        .map(|r| super::rows::to_json("registration", r))
                        .transpose()?;
                    let mut tx = self
                        .pool()
                        .begin()
                        .await
                        .map_err(fail("begin a transaction"))?;
                    // A refused registration makes way for a new one of the same holder.
                    sqlx::query($delete)
                        .bind(account.identity_key.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(fail("replace a refused account"))?;
                    let done = sqlx::query($insert)
                        .bind(account.id.as_str())
                        .bind(account.identity_key.as_str())
                        .bind(account.status.as_str())
                        .bind(account.name.as_str())
                        .bind(account.organization.as_deref())
                        .bind(subject)
                        .bind(registration)
                        .bind(account.ca_org_type.as_str())
                        .bind(account.created_at)
                        .bind(account.decided_at)
                        .bind(account.note.as_deref())
                        .execute(&mut *tx)
                        .await
                        .map_err(fail("store the account"))?;
                    if done.rows_affected() == 0 {
                        tx.rollback().await.map_err(fail("roll back"))?;
                        return Err(StoreError::Duplicate(account.identity_key));
                    }
                    tx.commit().await.map_err(fail("commit the account"))
                })
            }

            fn account<'a>(
                &'a self,
                id: &'a str,
            ) -> BoxFuture<'a, Result<Option<Account>, StoreError>> {
                Box::pin(async move {
                    let row = sqlx::query($by_id)
                        .bind(id)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(|e| {
                            StoreError::Backend(format!("{} could not read the account: {e}", $db))
                        })?;
                    row.map(|r| super::rows::account_from_row($db, &r))
                        .transpose()
                })
            }

            fn account_by_identity<'a>(
                &'a self,
                identity_key: &'a str,
            ) -> BoxFuture<'a, Result<Option<Account>, StoreError>> {
                Box::pin(async move {
                    let row = sqlx::query($by_key)
                        .bind(identity_key)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(|e| {
                            StoreError::Backend(format!("{} could not read the account: {e}", $db))
                        })?;
                    row.map(|r| super::rows::account_from_row($db, &r))
                        .transpose()
                })
            }

            fn accounts(
                &self,
                status: Option<AccountStatus>,
            ) -> BoxFuture<'_, Result<Vec<Account>, StoreError>> {
                Box::pin(async move {
                    let rows = match status {
                        None => sqlx::query($all).fetch_all(self.pool()).await,
                        Some(s) => {
                            sqlx::query($with)
                                .bind(s.as_str())
                                .fetch_all(self.pool())
                                .await
                        }
                    }
                    .map_err(|e| {
                        StoreError::Backend(format!("{} could not read the accounts: {e}", $db))
                    })?;
                    rows.iter()
                        .map(|r| super::rows::account_from_row($db, r))
                        .collect()
                })
            }

            fn decide_account<'a>(
                &'a self,
                id: &'a str,
                to: AccountStatus,
                at: i64,
                note: &'a str,
            ) -> BoxFuture<'a, Result<Account, StoreError>> {
                Box::pin(async move {
                    check_decision(to)?;
                    // The compare-and-set: one statement, only from pending.
                    let done = sqlx::query($decide)
                        .bind(to.as_str())
                        .bind(at)
                        .bind(note)
                        .bind(id)
                        .execute(self.pool())
                        .await
                        .map_err(|e| {
                            StoreError::Backend(format!(
                                "{} could not decide the account: {e}",
                                $db
                            ))
                        })?;
                    let account = self
                        .account(id)
                        .await?
                        .ok_or_else(|| StoreError::NotFound(format!("account {id}")))?;
                    if done.rows_affected() != 1 {
                        return Err(not_pending(id, account.status));
                    }
                    Ok(account)
                })
            }
        }
    };
}

#[cfg(feature = "sqlite")]
sql_account_store!(
    super::SqliteStore,
    "SQLite",
    insert: "INSERT INTO accounts (id, identity_key, status, name, organization, subject, \
             registration, ca_org_type, created_at, decided_at, note) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING",
    delete_refused: "DELETE FROM accounts WHERE identity_key = ?1 AND status = 'refused'",
    by_id: "SELECT * FROM accounts WHERE id = ?1",
    by_key: "SELECT * FROM accounts WHERE identity_key = ?1",
    all: "SELECT * FROM accounts ORDER BY seq",
    with_status: "SELECT * FROM accounts WHERE status = ?1 ORDER BY seq",
    decide: "UPDATE accounts SET status = ?1, decided_at = ?2, note = ?3 \
             WHERE id = ?4 AND status = 'pending'"
);

#[cfg(feature = "postgres")]
sql_account_store!(
    super::PostgresStore,
    "PostgreSQL",
    insert: "INSERT INTO accounts (id, identity_key, status, name, organization, subject, \
             registration, ca_org_type, created_at, decided_at, note) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
    delete_refused: "DELETE FROM accounts WHERE identity_key = $1 AND status = 'refused'",
    by_id: "SELECT * FROM accounts WHERE id = $1",
    by_key: "SELECT * FROM accounts WHERE identity_key = $1",
    all: "SELECT * FROM accounts ORDER BY seq",
    with_status: "SELECT * FROM accounts WHERE status = $1 ORDER BY seq",
    decide: "UPDATE accounts SET status = $1, decided_at = $2, note = $3 \
             WHERE id = $4 AND status = 'pending'"
);
