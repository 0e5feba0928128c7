//! A transaction between start and answer: the app's request fetch, status, cancel, expiry.

use crate::protocol::{SignedRequest, Tid, Transaction, TransactionState};
use crate::store::{StoreError, TxPatch, TxRecord};

use super::{CResult, CeremonyError, Platform};

impl Platform {
    pub(super) async fn live_record(&self, tid: &Tid) -> CResult<TxRecord> {
        let rec = self
            .store
            .get(tid)
            .await?
            .ok_or_else(|| StoreError::NotFound(tid.to_string()))?;
        let state = rec.transaction.state;
        if !state.is_terminal() && self.now() > rec.transaction.expires_at {
            let _ = self
                .store
                .transition(
                    tid,
                    &[
                        TransactionState::Created,
                        TransactionState::Scanned,
                        TransactionState::Approved,
                    ],
                    TransactionState::Expired,
                    TxPatch::default(),
                )
                .await;
            self.audit(Some(tid), "expired", "").await;
            return Err(CeremonyError::Expired {
                tid: tid.to_string(),
                expires_at: rec.transaction.expires_at,
            });
        }
        Ok(rec)
    }

    /// The app fetches the signed request object; the transaction becomes `scanned`. Where
    /// codes rotate, use [`Platform::request_scanned`] with the rotating part (this call is
    /// then refused).
    pub async fn request(&self, tid: &Tid) -> CResult<SignedRequest> {
        self.request_scanned(tid, None).await
    }

    /// The request of a seal-session step (签章会话): steps are never shown as a QR code (no
    /// rotating part); the session's phone reaches them through the session it authorised,
    /// and only that certificate may answer them. Any other transaction is refused.
    pub async fn request_step(&self, tid: &Tid) -> CResult<SignedRequest> {
        let rec = self.live_record(tid).await?;
        let request = rec
            .request
            .request_object()
            .map_err(|e| CeremonyError::Misuse(e.to_string()))?;
        if request.session.is_none() {
            return Err(CeremonyError::Misuse(format!(
                "transaction {tid} is not a step of a seal session"
            )));
        }
        self.fetch_request(tid).await
    }

    /// Marks transaction `tid` scanned on the word of the app's vendor cloud, over a channel
    /// the platform authenticated (the interlink scan-status callback, 扫码状态回调): such a
    /// report carries no rotating part.
    pub async fn scanned_by_vendor(&self, tid: &Tid) -> CResult<()> {
        self.fetch_request(tid).await.map(|_| ())
    }

    /// The request fetch after the rotation check.
    pub(super) async fn fetch_request(&self, tid: &Tid) -> CResult<SignedRequest> {
        let rec = self.live_record(tid).await?;
        match rec.transaction.state {
            TransactionState::Created => {
                self.store
                    .transition(
                        tid,
                        &[TransactionState::Created],
                        TransactionState::Scanned,
                        TxPatch::default(),
                    )
                    .await?;
                self.audit(Some(tid), "scanned", "").await;
            }
            TransactionState::Scanned => {}
            actual => {
                return Err(StoreError::WrongState {
                    tid: tid.to_string(),
                    actual,
                    expected: vec![TransactionState::Created, TransactionState::Scanned],
                }
                .into());
            }
        }
        Ok(rec.request)
    }

    /// The transaction as it stands (expiry applied).
    pub async fn status(&self, tid: &Tid) -> CResult<Transaction> {
        match self.live_record(tid).await {
            Ok(rec) => Ok(rec.transaction),
            Err(CeremonyError::Expired { .. }) => Ok(self
                .store
                .get(tid)
                .await?
                .ok_or_else(|| StoreError::NotFound(tid.to_string()))?
                .transaction),
            Err(e) => Err(e),
        }
    }

    /// Cancels a pending transaction.
    pub async fn cancel(&self, tid: &Tid) -> CResult<()> {
        self.store
            .transition(
                tid,
                &[TransactionState::Created, TransactionState::Scanned],
                TransactionState::Cancelled,
                TxPatch {
                    clear_secret: true,
                    ..TxPatch::default()
                },
            )
            .await?;
        self.audit(Some(tid), "cancelled", "").await;
        Ok(())
    }
}
