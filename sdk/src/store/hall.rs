//! The bid-opening hall's records (不见面开标大厅): [`HallStore`].
//!
//! A bid (投标文件) submitted to a tender is kept with the SM3 of each content key its
//! envelope carries, so the decrypt gate recognises a decrypt of that bid by what is being
//! decrypted — never by a label a caller supplies — and refuses a decrypt that matches no bid
//! unless the platform allows free decrypts. Sign-ins (签到) are kept per bid and certificate:
//! none replaces another. Pending sign-in logins are kept apart and never shown. Every store
//! keeps them ([`super::MemoryStore`], `SqliteStore`, `PostgresStore`, migration
//! `0004_hall.sql`), so a restart loses nothing and every server instance on one database
//! sees the same hall.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{BoxFuture, MemoryStore, StoreError};
use crate::crypto::{CryptoProvider, HashAlgorithm};

/// A bidder's sign-in (签到): the holder of the certificate a login verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    /// The holder's name.
    pub name: String,
    /// The organisation, for an organisation certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The signing certificate's serial (hex, lower case).
    pub cert_sn: String,
    /// The login transaction.
    pub tid: String,
    /// Unix seconds.
    pub signed_in_at: i64,
}

/// The holder of a bid's recipient encryption certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BidHolder {
    /// The holder's name.
    pub name: String,
    /// The CA vendor (caOrgType) that issued the holder's certificates.
    pub ca_org_type: String,
    /// The holder's stable identity (统一社会信用代码 or identity document, with the name):
    /// what a sign-in must match. Stored; a platform clears it before showing a bid
    /// ([`Bid::public`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub identity: String,
}

/// A bid of a tender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Bid {
    /// The bid's id.
    pub id: String,
    /// The tender (招标项目) it was submitted to.
    pub tender: String,
    /// The file name (without `.camrbid`).
    pub name: String,
    /// The envelope's size, bytes.
    pub size: u64,
    /// Serials (hex, lower case) of the encryption certificates the envelope is sealed to.
    pub recipients: Vec<String>,
    /// Unix seconds.
    pub submitted_at: i64,
    /// The bidder, when known (the bid was submitted with the encrypt transaction that made
    /// it): only this holder may sign in for the bid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<BidHolder>,
    /// The first verified sign-in (for display).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in: Option<SignIn>,
    /// Every verified sign-in, one per certificate, oldest first; none is ever replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sign_ins: Vec<SignIn>,
}

impl Bid {
    /// The bid as anyone may see it: without the holder's identity document number.
    pub fn public(mut self) -> Self {
        if let Some(h) = &mut self.holder {
            h.identity.clear();
        }
        self
    }
}

/// Why a bid is not taken at submission (递交投标文件).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionRefusal {
    /// The bid-opening time is reached: a bid delivered from then on is late (逾期送达的投标
    /// 文件应当拒收, Bidding Law art. 28).
    #[error(
        "投标已截止：开标时间 {} 已到，逾期送达的投标文件不予接收。Bid submission closed at the bid-opening time ({} China Standard Time); a late bid is refused.",
        crate::time::format_time(*opens_at),
        crate::time::format_time(*opens_at)
    )]
    Closed {
        /// The bid-opening time, unix seconds.
        opens_at: i64,
        /// The time of the refusal, unix seconds.
        now: i64,
    },
}

impl SubmissionRefusal {
    /// The stable error code.
    pub fn code(&self) -> crate::protocol::ErrorCode {
        match self {
            Self::Closed { .. } => crate::protocol::ErrorCode::BidSubmissionClosed,
        }
    }
}

/// Whether a tender opening at `opens_at` still takes bids at `now` (unix seconds): bids are
/// taken before the bid-opening time only — the deadline for submission is the opening time
/// itself, so the second the opening starts is already late.
pub fn check_submission(opens_at: i64, now: i64) -> Result<(), SubmissionRefusal> {
    if now >= opens_at {
        return Err(SubmissionRefusal::Closed { opens_at, now });
    }
    Ok(())
}

/// The key a decrypt is recognised by: lower-case hex SM3 of an encrypted content key.
pub fn key_digest(provider: &dyn CryptoProvider, encrypted_key: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&provider.digest(HashAlgorithm::Sm3, encrypted_key))
}

/// Where the hall's bids and sign-ins live.
pub trait HallStore: Send + Sync + std::fmt::Debug {
    /// Stores a new bid with the digests ([`key_digest`]) of its envelope's content keys;
    /// `Duplicate` when one of them belongs to a bid already (the same file submitted twice).
    fn insert_bid<'a>(
        &'a self,
        bid: &'a Bid,
        key_digests: &'a [String],
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The bids of `tender`, oldest first, with their sign-ins.
    fn bids<'a>(&'a self, tender: &'a str) -> BoxFuture<'a, Result<Vec<Bid>, StoreError>>;
    /// One bid, with its sign-ins.
    fn bid<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Bid>, StoreError>>;
    /// The bid whose envelope carries a content key with this digest.
    fn bid_by_key<'a>(&'a self, digest: &'a str) -> BoxFuture<'a, Result<Option<Bid>, StoreError>>;
    /// Records a pending sign-in login for a bid.
    fn add_pending_sign_in<'a>(
        &'a self,
        bid_id: &'a str,
        tid: &'a str,
        at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Pending sign-ins: (bid id, login tid), oldest first.
    fn pending_sign_ins(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, StoreError>>;
    /// Ends a pending sign-in: drops it and, with `sign_in`, records it for the bid unless that
    /// certificate signed in already (whoever settles first; the others change nothing).
    fn settle_sign_in<'a>(
        &'a self,
        bid_id: &'a str,
        tid: &'a str,
        sign_in: Option<&'a SignIn>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// The memory store's hall.
#[derive(Debug, Default)]
pub(super) struct MemoryHall {
    bids: Vec<(Bid, Vec<String>)>,
    pending: Vec<(String, String)>,
}

impl MemoryHall {
    fn with_sign_ins(bid: &Bid) -> Bid {
        let mut bid = bid.clone();
        bid.signed_in = bid.sign_ins.first().cloned();
        bid
    }
}

impl HallStore for MemoryStore {
    fn insert_bid<'a>(
        &'a self,
        bid: &'a Bid,
        key_digests: &'a [String],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let r = self.with(|s| {
            let taken =
                s.hall.bids.iter().any(|(b, keys)| {
                    b.id == bid.id || keys.iter().any(|k| key_digests.contains(k))
                });
            if taken {
                return Err(StoreError::Duplicate(bid.id.clone()));
            }
            let mut stored = bid.clone();
            stored.sign_ins.clear();
            stored.signed_in = None;
            s.hall.bids.push((stored, key_digests.to_vec()));
            Ok(())
        });
        Box::pin(async move { r })
    }

    fn bids<'a>(&'a self, tender: &'a str) -> BoxFuture<'a, Result<Vec<Bid>, StoreError>> {
        let r = self.with(|s| {
            Ok(s.hall
                .bids
                .iter()
                .filter(|(b, _)| b.tender == tender)
                .map(|(b, _)| MemoryHall::with_sign_ins(b))
                .collect())
        });
        Box::pin(async move { r })
    }

    fn bid<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Bid>, StoreError>> {
        let r = self.with(|s| {
            Ok(s.hall
                .bids
                .iter()
                .find(|(b, _)| b.id == id)
                .map(|(b, _)| MemoryHall::with_sign_ins(b)))
        });
        Box::pin(async move { r })
    }

    fn bid_by_key<'a>(&'a self, digest: &'a str) -> BoxFuture<'a, Result<Option<Bid>, StoreError>> {
        let r = self.with(|s| {
            Ok(s.hall
                .bids
                .iter()
                .find(|(_, keys)| keys.iter().any(|k| k == digest))
                .map(|(b, _)| MemoryHall::with_sign_ins(b)))
        });
        Box::pin(async move { r })
    }

    fn add_pending_sign_in<'a>(
        &'a self,
        bid_id: &'a str,
        tid: &'a str,
        _at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let r = self.with(|s| {
            s.hall.pending.push((bid_id.to_string(), tid.to_string()));
            Ok(())
        });
        Box::pin(async move { r })
    }

    fn pending_sign_ins(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, StoreError>> {
        let r = self.with(|s| Ok(s.hall.pending.clone()));
        Box::pin(async move { r })
    }

    fn settle_sign_in<'a>(
        &'a self,
        bid_id: &'a str,
        tid: &'a str,
        sign_in: Option<&'a SignIn>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let r = self.with(|s| {
            s.hall.pending.retain(|(b, t)| !(b == bid_id && t == tid));
            if let (Some(si), Some((bid, _))) = (
                sign_in,
                s.hall.bids.iter_mut().find(|(b, _)| b.id == bid_id),
            ) && !bid.sign_ins.iter().any(|x| x.cert_sn == si.cert_sn)
            {
                bid.sign_ins.push(si.clone());
            }
            Ok(())
        });
        Box::pin(async move { r })
    }
}

/// The SQL stores' hall: the same statements with the database's placeholders.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! sql_hall_store {
    ($store:ty, $db:literal, insert_bid: $insert_bid:literal, insert_key: $insert_key:literal,
     bids: $bids:literal, bid: $bid:literal, by_key: $by_key:literal, sign_ins: $sign_ins:literal,
     add_pending: $add_pending:literal, pending: $pending:literal,
     drop_pending: $drop_pending:literal, insert_sign_in: $insert_sign_in:literal) => {
        impl $store {
            /// The one bid `query` finds for `key` (its id, or a key digest), with sign-ins.
            async fn hall_bid_where(
                &self,
                query: &'static str,
                key: &str,
            ) -> Result<Option<Bid>, StoreError> {
                let row: Option<(String,)> = sqlx::query_as(query)
                    .bind(key)
                    .fetch_optional(self.pool())
                    .await
                    .map_err(|e| {
                        StoreError::Backend(format!("{} could not read the bid: {e}", $db))
                    })?;
                match row {
                    Some((record,)) => Ok(Some(self.hall_bid_with_sign_ins(record).await?)),
                    None => Ok(None),
                }
            }

            async fn hall_bid_with_sign_ins(&self, record: String) -> Result<Bid, StoreError> {
                let mut bid: Bid = serde_json::from_str(&record)
                    .map_err(|e| super::rows::data_error($db, "bid", e))?;
                let rows: Vec<(String,)> = sqlx::query_as($sign_ins)
                    .bind(bid.id.as_str())
                    .fetch_all(self.pool())
                    .await
                    .map_err(|e| {
                        StoreError::Backend(format!("{} could not read the sign-ins: {e}", $db))
                    })?;
                bid.sign_ins = rows
                    .into_iter()
                    .map(|(r,)| serde_json::from_str(&r))
                    .collect::<Result<_, _>>()
                    .map_err(|e| super::rows::data_error($db, "sign-in", e))?;
                bid.signed_in = bid.sign_ins.first().cloned();
                Ok(bid)
            }
        }

        impl HallStore for $store {
            fn insert_bid<'a>(
                &'a self,
                bid: &'a Bid,
                key_digests: &'a [String],
            ) -> BoxFuture<'a, Result<(), StoreError>> {
                Box::pin(async move {
                    let fail = |what: &'static str| {
                        move |e: sqlx::Error| {
                            StoreError::Backend(format!("{} could not {what}: {e}", $db))
                        }
                    };
                    let mut stored = bid.clone();
                    stored.sign_ins.clear();
                    stored.signed_in = None;
                    let record = super::rows::to_json("bid", &stored)?;
                    let mut tx = self
                        .pool()
                        .begin()
                        .await
                        .map_err(fail("begin a transaction"))?;
                    let done = sqlx::query($insert_bid)
                        .bind(bid.id.as_str())
                        .bind(bid.tender.as_str())
                        .bind(record)
                        .execute(&mut *tx)
                        .await
                        .map_err(fail("store the bid"))?;
                    let mut fresh = done.rows_affected() == 1;
                    for key in key_digests {
                        let done = sqlx::query($insert_key)
                            .bind(key.as_str())
                            .bind(bid.id.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(fail("store the bid's keys"))?;
                        fresh &= done.rows_affected() == 1;
                    }
                    if !fresh {
                        tx.rollback().await.map_err(fail("roll back"))?;
                        return Err(StoreError::Duplicate(bid.id.clone()));
                    }
                    tx.commit().await.map_err(fail("commit the bid"))
                })
            }

            fn bids<'a>(&'a self, tender: &'a str) -> BoxFuture<'a, Result<Vec<Bid>, StoreError>> {
                Box::pin(async move {
                    let rows: Vec<(String,)> = sqlx::query_as($bids)
                        .bind(tender)
                        .fetch_all(self.pool())
                        .await
                        .map_err(|e| {
                            StoreError::Backend(format!("{} could not read the bids: {e}", $db))
                        })?;
                    let mut out = Vec::with_capacity(rows.len());
                    for (record,) in rows {
                        out.push(self.hall_bid_with_sign_ins(record).await?);
                    }
                    Ok(out)
                })
            }

            fn bid<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Bid>, StoreError>> {
                Box::pin(self.hall_bid_where($bid, id))
            }

            fn bid_by_key<'a>(
                &'a self,
                digest: &'a str,
            ) -> BoxFuture<'a, Result<Option<Bid>, StoreError>> {
                Box::pin(self.hall_bid_where($by_key, digest))
            }

            fn add_pending_sign_in<'a>(
                &'a self,
                bid_id: &'a str,
                tid: &'a str,
                at: i64,
            ) -> BoxFuture<'a, Result<(), StoreError>> {
                Box::pin(async move {
                    sqlx::query($add_pending)
                        .bind(tid)
                        .bind(bid_id)
                        .bind(at)
                        .execute(self.pool())
                        .await
                        .map_err(|e| {
                            StoreError::Backend(format!("{} could not store the sign-in: {e}", $db))
                        })?;
                    Ok(())
                })
            }

            fn pending_sign_ins(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, StoreError>> {
                Box::pin(async move {
                    sqlx::query_as($pending)
                        .fetch_all(self.pool())
                        .await
                        .map_err(|e| {
                            StoreError::Backend(format!("{} could not read the sign-ins: {e}", $db))
                        })
                })
            }

            fn settle_sign_in<'a>(
                &'a self,
                bid_id: &'a str,
                tid: &'a str,
                sign_in: Option<&'a SignIn>,
            ) -> BoxFuture<'a, Result<(), StoreError>> {
                Box::pin(async move {
                    let fail = |what: &'static str| {
                        move |e: sqlx::Error| {
                            StoreError::Backend(format!("{} could not {what}: {e}", $db))
                        }
                    };
                    let mut tx = self
                        .pool()
                        .begin()
                        .await
                        .map_err(fail("begin a transaction"))?;
                    sqlx::query($drop_pending)
                        .bind(tid)
                        .execute(&mut *tx)
                        .await
                        .map_err(fail("drop the pending sign-in"))?;
                    if let Some(si) = sign_in {
                        // ON CONFLICT DO NOTHING: a certificate signs in once; the first
                        // record stays.
                        sqlx::query($insert_sign_in)
                            .bind(bid_id)
                            .bind(si.cert_sn.as_str())
                            .bind(super::rows::to_json("sign-in", si)?)
                            .bind(si.signed_in_at)
                            .execute(&mut *tx)
                            .await
                            .map_err(fail("store the sign-in"))?;
                    }
                    tx.commit().await.map_err(fail("commit the sign-in"))
                })
            }
        }
    };
}

#[cfg(feature = "sqlite")]
sql_hall_store!(
    super::SqliteStore,
    "SQLite",
    insert_bid: "INSERT INTO hall_bids (id, tender, record) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
    insert_key: "INSERT INTO hall_bid_keys (key_digest, bid_id) VALUES (?1, ?2) \
                 ON CONFLICT DO NOTHING",
    bids: "SELECT record FROM hall_bids WHERE tender = ?1 ORDER BY seq",
    bid: "SELECT record FROM hall_bids WHERE id = ?1",
    by_key: "SELECT b.record FROM hall_bids b JOIN hall_bid_keys k ON k.bid_id = b.id \
             WHERE k.key_digest = ?1",
    sign_ins: "SELECT record FROM hall_sign_ins WHERE bid_id = ?1 ORDER BY signed_in_at, seq",
    add_pending: "INSERT INTO hall_pending (tid, bid_id, created_at) VALUES (?1, ?2, ?3) \
                  ON CONFLICT DO NOTHING",
    pending: "SELECT bid_id, tid FROM hall_pending ORDER BY created_at, tid",
    drop_pending: "DELETE FROM hall_pending WHERE tid = ?1",
    insert_sign_in: "INSERT INTO hall_sign_ins (bid_id, cert_sn, record, signed_in_at) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING"
);

#[cfg(feature = "postgres")]
sql_hall_store!(
    super::PostgresStore,
    "PostgreSQL",
    insert_bid: "INSERT INTO hall_bids (id, tender, record) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
    insert_key: "INSERT INTO hall_bid_keys (key_digest, bid_id) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
    bids: "SELECT record FROM hall_bids WHERE tender = $1 ORDER BY seq",
    bid: "SELECT record FROM hall_bids WHERE id = $1",
    by_key: "SELECT b.record FROM hall_bids b JOIN hall_bid_keys k ON k.bid_id = b.id \
             WHERE k.key_digest = $1",
    sign_ins: "SELECT record FROM hall_sign_ins WHERE bid_id = $1 ORDER BY signed_in_at, seq",
    add_pending: "INSERT INTO hall_pending (tid, bid_id, created_at) VALUES ($1, $2, $3) \
                  ON CONFLICT DO NOTHING",
    pending: "SELECT bid_id, tid FROM hall_pending ORDER BY created_at, tid",
    drop_pending: "DELETE FROM hall_pending WHERE tid = $1",
    insert_sign_in: "INSERT INTO hall_sign_ins (bid_id, cert_sn, record, signed_in_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
);

/// What every store must do with the hall (run by the stores' tests).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(super) async fn hall_behaves(store: std::sync::Arc<dyn HallStore>) {
    let bid = |id: &str, tender: &str| Bid {
        id: id.into(),
        tender: tender.into(),
        name: format!("标书 {id}"),
        size: 338,
        recipients: vec!["0a1b".into()],
        submitted_at: 1_700_000_000,
        holder: Some(BidHolder {
            name: "张三".into(),
            ca_org_type: "SOFTCA".into(),
            identity: "org:91350100M000100Y43:张三".into(),
        }),
        signed_in: None,
        sign_ins: Vec::new(),
    };
    let a = bid("a1", "T1");
    store
        .insert_bid(&a, &["k1".into(), "k2".into()])
        .await
        .unwrap();
    store
        .insert_bid(&bid("b1", "T2"), &["k3".into()])
        .await
        .unwrap();
    // The same file (a key already known) is refused, and leaves nothing behind.
    let e = store
        .insert_bid(&bid("c1", "T1"), &["k9".into(), "k2".into()])
        .await;
    assert!(matches!(e, Err(StoreError::Duplicate(_))), "{e:?}");
    assert_eq!(store.bid("c1").await.unwrap(), None);
    assert_eq!(store.bid_by_key("k9").await.unwrap(), None);
    let t1 = store.bids("T1").await.unwrap();
    assert_eq!(t1.len(), 1);
    assert_eq!(
        t1[0].holder.as_ref().map(|h| h.identity.as_str()),
        Some("org:91350100M000100Y43:张三")
    );
    assert_eq!(
        store.bid_by_key("k2").await.unwrap().map(|b| b.id),
        Some("a1".into())
    );
    assert_eq!(store.bid_by_key("nope").await.unwrap(), None);
    // Sign-ins: pending ones apart, settled once per certificate, never replaced.
    store.add_pending_sign_in("a1", "tid-1", 10).await.unwrap();
    store.add_pending_sign_in("a1", "tid-2", 11).await.unwrap();
    store.add_pending_sign_in("a1", "tid-3", 12).await.unwrap();
    assert_eq!(store.pending_sign_ins().await.unwrap().len(), 3);
    let si = |sn: &str, tid: &str, at: i64| SignIn {
        name: sn.into(),
        organization: None,
        cert_sn: sn.into(),
        tid: tid.into(),
        signed_in_at: at,
    };
    store
        .settle_sign_in("a1", "tid-1", Some(&si("aa", "tid-1", 20)))
        .await
        .unwrap();
    store
        .settle_sign_in("a1", "tid-2", Some(&si("aa", "tid-2", 21)))
        .await
        .unwrap();
    store.settle_sign_in("a1", "tid-3", None).await.unwrap();
    assert!(store.pending_sign_ins().await.unwrap().is_empty());
    let a1 = store.bid("a1").await.unwrap().unwrap();
    assert_eq!(
        a1.sign_ins,
        vec![si("aa", "tid-1", 20)],
        "the first record stays"
    );
    assert_eq!(a1.signed_in, Some(si("aa", "tid-1", 20)));
    store.add_pending_sign_in("a1", "tid-4", 30).await.unwrap();
    store
        .settle_sign_in("a1", "tid-4", Some(&si("bb", "tid-4", 31)))
        .await
        .unwrap();
    let a1 = store.bid("a1").await.unwrap().unwrap();
    assert_eq!(a1.sign_ins.len(), 2);
    assert_eq!(a1.signed_in.map(|s| s.cert_sn), Some("aa".into()));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod submission_tests {
    use super::*;

    #[test]
    fn a_bid_delivered_at_or_after_the_opening_time_is_late() {
        let opens_at = 1_780_000_000;
        assert_eq!(check_submission(opens_at, opens_at - 1), Ok(()));
        for now in [opens_at, opens_at + 1, opens_at + 86_400] {
            let refusal = check_submission(opens_at, now).unwrap_err();
            assert_eq!(
                refusal.code(),
                crate::protocol::ErrorCode::BidSubmissionClosed
            );
            let text = refusal.to_string();
            // Chinese first, the date as people read it (北京时间), no unix seconds.
            assert!(text.starts_with("投标已截止"), "{text}");
            assert!(text.contains("2026-05-29 04:26:40"), "{text}");
            assert!(!text.contains("1780000000"), "{text}");
        }
    }
}
